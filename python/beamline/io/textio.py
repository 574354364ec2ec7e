"""``ReadFromText`` and ``WriteToText`` with Beam's arguments, run by the Rust SDK's text IO."""

import glob
import os

from beamline.transforms.ptransform import PTransform

__all__ = ["ReadFromText", "WriteToText"]


class ReadFromText(PTransform):
    """The lines of the files matching ``file_pattern``, without their line endings."""

    def __init__(self, file_pattern=None, min_bundle_size=0, compression_type="auto", strip_trailing_newlines=True,
                 coder=None, validate=True, skip_header_lines=0, **kwargs):
        super().__init__()
        if not isinstance(file_pattern, str) or not file_pattern:
            raise ValueError("ReadFromText needs a file pattern (a non-empty str), got %r" % (file_pattern,))
        if not strip_trailing_newlines:
            raise NotImplementedError("ReadFromText(strip_trailing_newlines=False) is not supported yet")
        if skip_header_lines:
            raise NotImplementedError("ReadFromText(skip_header_lines=...) is not supported yet")
        if validate and not glob.glob(os.path.expanduser(file_pattern)):
            raise FileNotFoundError("No files found based on the file pattern %s" % file_pattern)
        self._pattern = os.path.expanduser(file_pattern)

    def default_label(self):
        return "ReadFromText"

    def _native_apply(self, pipeline, label, pbegin):
        return pipeline._pcoll(pipeline._native.read_text(label, self._pattern), label)


class WriteToText(PTransform):
    """Writes ``str(element)`` per line to shards ``<prefix>-SSSSS-of-NNNNN<suffix>``;
    gives the names of the files written."""

    def __init__(self, file_path_prefix, file_name_suffix="", append_trailing_newlines=True, num_shards=0,
                 shard_name_template=None, coder=None, compression_type="auto", header=None, footer=None, **kwargs):
        super().__init__()
        if not isinstance(file_path_prefix, str) or not file_path_prefix:
            raise ValueError("WriteToText needs a file path prefix (a non-empty str), got %r" % (file_path_prefix,))
        if footer is not None:
            raise NotImplementedError("WriteToText(footer=...) is not supported yet")
        if compression_type not in ("auto", "uncompressed", None):
            raise NotImplementedError("WriteToText(compression_type=%r) is not supported yet" % compression_type)
        if not append_trailing_newlines:
            raise NotImplementedError("WriteToText(append_trailing_newlines=False) is not supported yet")
        self._prefix = file_path_prefix
        self._suffix = file_name_suffix
        self._num_shards = num_shards
        self._template = shard_name_template
        self._header = header

    def default_label(self):
        return "WriteToText"

    def _native_apply(self, pipeline, label, pcoll):
        out = pipeline._native.write_text(label, pcoll._id, self._prefix, self._suffix, self._num_shards,
                                          self._template, self._header)
        return pipeline._pcoll(out, label)
