"""``ReadFromText`` and ``WriteToText`` with Beam's arguments, run by the Rust SDK's text IO.

A few of Beam's options the Rust IO does not have are finished in Python:
``skip_header_lines`` reads each file in Python (the header is per file,
which byte-range splits cannot see); a glob that matches hidden files (Beam's
``*`` matches them, a shell's does not) reads the matched files by name;
``footer`` and compression types other than the suffix's gzip rewrite each
finished shard (under a temporary name, renamed when done).
"""

import os
import re

from beamline.io.filesystem import CompressionTypes, open_compressed
from beamline.io.filesystems import FileSystems
from beamline.transforms.core import Create, FlatMap, Flatten, Map
from beamline.transforms.ptransform import PTransform
from beamline.transforms.util import Reshuffle

__all__ = ["ReadFromText", "WriteToText", "ReadAllFromText", "FollowText"]

_GLOB = re.compile(r"[*?[]")


def _beam_matches(pattern):
    """The files ``pattern`` names under Beam's rules, sorted."""
    return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list if os.path.isfile(m.path))


def _shell_matches(pattern):
    """The files the Rust reader finds for ``pattern`` (a shell's glob: no hidden names)."""
    import glob

    if not _GLOB.search(pattern):
        return [pattern] if os.path.isfile(pattern) else []
    return sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))


def _read_lines(path, skip, compression_type):
    """The lines of one file without their terminators, after ``skip`` header lines."""
    with open_compressed(path, "rb", compression_type) as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError("%s: not UTF-8 text: %s" % (path, e)) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines[skip:]]


class ReadFromText(PTransform):
    """The lines of the files matching ``file_pattern``, without their line endings."""

    def __init__(self, file_pattern=None, min_bundle_size=0, compression_type="auto", strip_trailing_newlines=True,
                 coder=None, validate=True, skip_header_lines=0, **kwargs):
        super().__init__()
        if not isinstance(file_pattern, str) or not file_pattern:
            raise ValueError("ReadFromText needs a file pattern (a non-empty str), got %r" % (file_pattern,))
        if not strip_trailing_newlines:
            raise NotImplementedError("ReadFromText(strip_trailing_newlines=False) is not supported yet")
        if skip_header_lines < 0:
            raise ValueError("Cannot skip negative number of header lines: %d" % skip_header_lines)
        if not CompressionTypes.is_valid_compression_type(compression_type or "auto"):
            raise TypeError("compression_type must be CompressionType object but was %s" % type(compression_type))
        self._pattern = os.path.expanduser(file_pattern)
        self._skip = skip_header_lines
        self._compression = compression_type or "auto"
        if validate and not _beam_matches(self._pattern):
            raise IOError("No files found based on the file pattern %s" % file_pattern)

    def default_label(self):
        return "ReadFromText"

    def _native_apply(self, pipeline, label, pbegin):
        native_ok = self._compression in ("auto", "uncompressed", "gzip") and not self._skip
        if native_ok and self._compression == "gzip":
            native_ok = False
        files = None
        if native_ok and _GLOB.search(self._pattern):
            files = _beam_matches(self._pattern)
            if files == _shell_matches(self._pattern):
                files = None  # the Rust glob finds the same files: read the pattern
        if native_ok and not files:
            return pipeline._pcoll(pipeline._native.read_text(label, self._pattern), label)
        self._read = _ReadFiles(self._pattern, files, self._skip, self._compression, native_ok)
        return NotImplemented  # expanded as a composite

    def expand(self, pbegin):
        return self._read.expand(pbegin)


class _ReadFiles(PTransform):
    """The lines of named files: each read by Rust, or in Python for what Rust cannot do."""

    def __init__(self, pattern, files, skip, compression, native):
        super().__init__()
        self._pattern = pattern
        self._files = files
        self._skip = skip
        self._compression = compression
        self._native = native

    def expand(self, pbegin):
        files = self._files if self._files is not None else _beam_matches(self._pattern)
        if not files:
            raise IOError("No files found based on the file pattern %s" % self._pattern)
        if self._native:
            reads = [pbegin | "Read[%d]" % i >> _ReadOne(f) for i, f in enumerate(files)]
            return reads | "Flatten" >> Flatten(pbegin.pipeline)
        skip, compression = self._skip, self._compression
        return (pbegin
                | "Files" >> Create(files)
                | "Reshuffle" >> Reshuffle()
                | "ReadLines" >> FlatMap(lambda path: _read_lines(path, skip, compression)))


class _ReadOne(PTransform):
    def __init__(self, path):
        super().__init__()
        self._path = path

    def _native_apply(self, pipeline, label, pbegin):
        return pipeline._pcoll(pipeline._native.read_text(label, self._path), label)


class ReadAllFromText(PTransform):
    """The lines of every file whose pattern comes as an element."""

    def __init__(self, skip_header_lines=0, compression_type="auto", **kwargs):
        super().__init__()
        self._skip = skip_header_lines
        self._compression = compression_type

    def expand(self, patterns):
        skip, compression = self._skip, self._compression
        return (patterns
                | "Match" >> FlatMap(_beam_matches)
                | "Reshuffle" >> Reshuffle()
                | "ReadLines" >> FlatMap(lambda path: _read_lines(path, skip, compression)))


def _finish_shard(path, final_suffix, footer, compression_type):
    """Writes a shard written as ``path`` to its final name with ``footer`` and compression."""
    final = path[:-len(_PART)]
    with open(path, "rb") as f:
        data = f.read()
    if footer is not None:
        data += footer.encode("utf-8") + b"\n"
    tmp = os.path.join(os.path.dirname(final), ".beamline-finish-" + os.path.basename(final))
    with open_compressed(tmp, "wb", compression_type if compression_type != "auto" else
                         CompressionTypes.detect_compression_type(final)) as out:
        out.write(data)
    os.replace(tmp, final)
    os.remove(path)
    return final


_PART = ".beamline-part"


class WriteToText(PTransform):
    """Writes ``str(element)`` per line to shards ``<prefix>-SSSSS-of-NNNNN<suffix>``;
    gives the names of the files written."""

    def __init__(self, file_path_prefix, file_name_suffix="", append_trailing_newlines=True, num_shards=0,
                 shard_name_template=None, coder=None, compression_type="auto", header=None, footer=None, **kwargs):
        super().__init__()
        if not isinstance(file_path_prefix, str) or not file_path_prefix:
            raise ValueError("WriteToText needs a file path prefix (a non-empty str), got %r" % (file_path_prefix,))
        if not CompressionTypes.is_valid_compression_type(compression_type or "auto"):
            raise TypeError("compression_type must be CompressionType object but was %s" % type(compression_type))
        if not append_trailing_newlines:
            raise NotImplementedError("WriteToText(append_trailing_newlines=False) is not supported yet")
        self._prefix = file_path_prefix
        self._suffix = file_name_suffix
        self._num_shards = num_shards
        self._template = shard_name_template
        self._header = header
        self._footer = footer
        self._compression = compression_type or "auto"

    def default_label(self):
        return "WriteToText"

    def _native_compression(self):
        """Whether the Rust writer alone gives the requested compression (gzip by a .gz suffix)."""
        gz = self._suffix.lower().endswith(".gz")
        if self._compression == "auto":
            return CompressionTypes.detect_compression_type("shard" + self._suffix) in (CompressionTypes.UNCOMPRESSED,
                                                                              CompressionTypes.GZIP)
        if self._compression == "uncompressed":
            return not gz
        return self._compression == "gzip" and gz

    def _native_apply(self, pipeline, label, pcoll):
        if self._footer is None and self._native_compression():
            out = pipeline._native.write_text(label, pcoll._id, self._prefix, self._suffix, self._num_shards,
                                              self._template, self._header)
            return pipeline._pcoll(out, label)
        return NotImplemented  # expanded as a composite

    def expand(self, pcoll):
        w = self
        names = pcoll | "Write" >> _NativeWrite(w._prefix, w._suffix + _PART, w._num_shards, w._template, w._header)
        suffix, footer, compression = w._suffix, w._footer, w._compression
        return names | "Finish" >> Map(lambda path: _finish_shard(path, suffix, footer, compression))


class _NativeWrite(PTransform):
    def __init__(self, prefix, suffix, num_shards, template, header):
        super().__init__()
        self._args = (prefix, suffix, num_shards, template, header)

    def _native_apply(self, pipeline, label, pcoll):
        return pipeline._pcoll(pipeline._native.write_text(label, pcoll._id, *self._args), label)


class FollowText(PTransform):
    """beamline's follower of growing text files (the Rust ``FollowText``): the
    lines already in the files matching ``file_pattern`` and every line appended
    later, from files that appear later too, as an unbounded PCollection of str.

    A line's event time is when it was read; the watermark trails the latest
    by ``out_of_order`` seconds, and moves on with the clock after
    ``idle_timeout`` seconds without a line. Files are polled every
    ``poll_interval`` seconds. (Beam Python follows files with
    ``fileio.MatchContinuously`` and ``ReadMatches``.)"""

    def __init__(self, file_pattern, poll_interval=0.1, idle_timeout=1.0, out_of_order=0):
        super().__init__()
        from beamline.utils.timestamp import Duration

        if not isinstance(file_pattern, str) or not file_pattern:
            raise ValueError("FollowText needs a file pattern (a non-empty str), got %r" % (file_pattern,))
        self._pattern = file_pattern
        self._micros = tuple(Duration.of(d).micros for d in (poll_interval, idle_timeout, out_of_order))

    def default_label(self):
        return "FollowText"

    def _native_apply(self, pipeline, label, pbegin):
        return pipeline._pcoll(pipeline._native.follow_text(label, self._pattern, *self._micros), label)
