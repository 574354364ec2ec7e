"""Beam's ``fileio`` for local files: ``MatchFiles``/``MatchAll`` (file
patterns to ``FileMetadata``), ``ReadMatches`` (to ``ReadableFile``) and
``WriteToFiles`` (records to files per destination and window, written under
temporary names and moved into place), with Beam's file naming."""

import collections
import logging
import random
import uuid

from beamline.io import filesystem, filesystems
from beamline.io.filesystem import BeamIOError, CompressionTypes
from beamline.pvalue import TaggedOutput
from beamline.transforms.core import Create, DoFn, Flatten, GroupByKey, Map, ParDo
from beamline.transforms.ptransform import PTransform
from beamline.transforms.window import GlobalWindow
from beamline.utils.windowed_value import WindowedValue

__all__ = [
    "EmptyMatchTreatment", "MatchFiles", "MatchAll", "ReadableFile", "ReadMatches", "FileSink", "TextSink",
    "WriteToFiles", "FileResult", "default_file_naming", "single_file_naming", "destination_prefix_naming",
    "prefix_naming",
]

_LOGGER = logging.getLogger(__name__)

FileMetadata = collections.namedtuple("FileMetadata", "mime_type compression_type")


class EmptyMatchTreatment:
    """Whether a pattern that matches nothing is an error."""

    ALLOW = "ALLOW"
    DISALLOW = "DISALLOW"
    ALLOW_IF_WILDCARD = "ALLOW_IF_WILDCARD"

    @staticmethod
    def allow_empty_match(pattern, setting):
        if setting == EmptyMatchTreatment.ALLOW:
            return True
        if setting == EmptyMatchTreatment.ALLOW_IF_WILDCARD and "*" in pattern:
            return True
        if setting == EmptyMatchTreatment.DISALLOW:
            return False
        if setting == EmptyMatchTreatment.ALLOW_IF_WILDCARD:
            return False
        raise ValueError(setting)


class _MatchAllFn(DoFn):
    def __init__(self, empty_match_treatment):
        self._empty_match_treatment = empty_match_treatment

    def process(self, file_pattern):
        match_result = filesystems.FileSystems.match([file_pattern])[0]
        if not match_result.metadata_list and not EmptyMatchTreatment.allow_empty_match(
                file_pattern, self._empty_match_treatment):
            raise BeamIOError("Empty match for pattern %s. Disallowed." % file_pattern)
        return match_result.metadata_list


class MatchFiles(PTransform):
    """The files a pattern matches, as ``FileMetadata``."""

    def __init__(self, file_pattern, empty_match_treatment=EmptyMatchTreatment.ALLOW_IF_WILDCARD):
        super().__init__()
        self._file_pattern = file_pattern
        self._empty_match_treatment = empty_match_treatment

    def expand(self, pcoll):
        return pcoll.pipeline | Create([self._file_pattern]) | MatchAll(self._empty_match_treatment)


class MatchAll(PTransform):
    """The files each input pattern matches, as ``FileMetadata``."""

    def __init__(self, empty_match_treatment=EmptyMatchTreatment.ALLOW):
        super().__init__()
        self._empty_match_treatment = empty_match_treatment

    def expand(self, pcoll):
        return pcoll | ParDo(_MatchAllFn(self._empty_match_treatment))


class ReadableFile:
    """A matched file: its ``metadata``, and ``open``/``read``/``read_utf8``."""

    def __init__(self, metadata, compression=None):
        self.metadata = metadata
        self._compression = compression

    def open(self, mime_type="text/plain", compression_type=None):
        compression = compression_type or self._compression or CompressionTypes.AUTO
        return filesystems.FileSystems.open(self.metadata.path, mime_type=mime_type, compression_type=compression)

    def read(self, mime_type="application/octet-stream"):
        with self.open(mime_type) as f:
            return f.read()

    def read_utf8(self):
        with self.open() as f:
            return f.read().decode("utf-8")


class _ReadMatchesFn(DoFn):
    def __init__(self, compression, skip_directories):
        self._compression = compression
        self._skip_directories = skip_directories

    def process(self, file_metadata):
        metadata = (filesystem.FileMetadata(file_metadata, 0) if isinstance(file_metadata, str) else file_metadata)
        if metadata.path.endswith("/") or metadata.path.endswith("\\"):
            if self._skip_directories:
                return
            raise BeamIOError("Directories are not allowed in ReadMatches transform.Found %s." % metadata.path)
        yield ReadableFile(metadata, self._compression)


class ReadMatches(PTransform):
    """Each matched file (``FileMetadata`` or a path) as a ``ReadableFile``."""

    def __init__(self, compression=None, skip_directories=True):
        super().__init__()
        self._compression = compression
        self._skip_directories = skip_directories

    def expand(self, pcoll):
        return pcoll | ParDo(_ReadMatchesFn(self._compression, self._skip_directories))


class FileSink:
    """How ``WriteToFiles`` writes records into an open binary file: ``open``, ``write``, ``flush``."""

    def create_metadata(self, destination, full_file_name):
        return FileMetadata(mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO)

    def open(self, fh):
        raise NotImplementedError

    def write(self, record):
        raise NotImplementedError

    def flush(self):
        raise NotImplementedError


class TextSink(FileSink):
    """Each record as a UTF-8 line."""

    def open(self, fh):
        self._fh = fh

    def write(self, record):
        self._fh.write(record.encode("utf8"))
        self._fh.write(b"\n")

    def flush(self):
        self._fh.flush()


def prefix_naming(prefix):
    return default_file_naming(prefix)


_DEFAULT_FILE_NAME_TEMPLATE = "{prefix}-{start}-{end}-{pane}-{shard:05d}-of-{total_shards:05d}{suffix}{compression}"


def _format_shard(window, pane, shard_index, total_shards, compression, prefix, suffix):
    kwargs = {"prefix": prefix, "start": "", "end": "", "pane": "", "shard": 0, "total_shards": 0, "suffix": "",
              "compression": ""}
    if total_shards is not None and shard_index is not None:
        kwargs["shard"] = int(shard_index)
        kwargs["total_shards"] = int(total_shards)
    if window != GlobalWindow():
        kwargs["start"] = window.start.to_utc_datetime().isoformat()
        kwargs["end"] = window.end.to_utc_datetime().isoformat()
    if suffix:
        kwargs["suffix"] = suffix
    if compression:
        kwargs["compression"] = ".%s" % compression
    fmt = _DEFAULT_FILE_NAME_TEMPLATE
    if shard_index is None:
        fmt = fmt.replace("-{shard:05d}", "")
    if total_shards is None:
        fmt = fmt.replace("-of-{total_shards:05d}", "")
    for name, value in kwargs.items():
        if value in (None, ""):
            fmt = fmt.replace("-{%s}" % name, "")
    return fmt.format(**kwargs)


def destination_prefix_naming(suffix=None):
    def _inner(window, pane, shard_index, total_shards, compression, destination):
        return _format_shard(window, pane, shard_index, total_shards, compression, str(destination), suffix)

    return _inner


def default_file_naming(prefix, suffix=None):
    def _inner(window, pane, shard_index, total_shards, compression, destination):
        return _format_shard(window, pane, shard_index, total_shards, compression, prefix, suffix)

    return _inner


def single_file_naming(prefix, suffix=None):
    def _inner(window, pane, shard_index, total_shards, compression, destination):
        assert shard_index in (0, None), shard_index
        assert total_shards in (1, None), total_shards
        return _format_shard(window, pane, None, None, compression, prefix, suffix)

    return _inner


_FileResult = collections.namedtuple("FileResult",
                                     ["file_name", "shard_index", "total_shards", "window", "pane", "destination"])


class FileResult(_FileResult):
    """A file ``WriteToFiles`` wrote."""


class WriteToFiles(PTransform):
    """Writes records into files under ``path``: one set of files per destination
    (``destination(record)``) and window, named by ``file_naming``; gives a
    ``FileResult`` per file."""

    MAX_NUM_WRITERS_PER_BUNDLE = 20
    DEFAULT_SHARDING = 5

    def __init__(self, path, file_naming=None, destination=None, temp_directory=None, sink=None, shards=None,
                 output_fn=None, max_writers_per_bundle=MAX_NUM_WRITERS_PER_BUNDLE):
        super().__init__()
        self.path = path.get() if hasattr(path, "get") else str(path)
        self.file_naming_fn = file_naming or default_file_naming("output")
        self.destination_fn = destination if callable(destination) else (lambda elm: destination)
        self._temp_directory = temp_directory.get() if hasattr(temp_directory, "get") else temp_directory
        self.sink_fn = self._get_sink_fn(sink)
        self.shards = shards or WriteToFiles.DEFAULT_SHARDING
        self._max_num_writers_per_bundle = max_writers_per_bundle

    @staticmethod
    def _get_sink_fn(input_sink):
        if isinstance(input_sink, type) and issubclass(input_sink, FileSink):
            return lambda x: input_sink()
        if isinstance(input_sink, FileSink):
            kls = input_sink.__class__
            return lambda x: kls()
        if callable(input_sink):
            return input_sink
        return lambda x: TextSink()

    def expand(self, pcoll):
        temp = self._temp_directory or filesystems.FileSystems.join(self.path, ".temp%s" % uuid.uuid4())
        output = (pcoll
                  | ParDo(_WriteUnshardedRecordsFn(temp, self.destination_fn, self.sink_fn,
                                                   self._max_num_writers_per_bundle)).with_outputs(
                      _WriteUnshardedRecordsFn.SPILLED_RECORDS, _WriteUnshardedRecordsFn.WRITTEN_FILES))
        written = output[_WriteUnshardedRecordsFn.WRITTEN_FILES]
        spilled = output[_WriteUnshardedRecordsFn.SPILLED_RECORDS]
        more_written = (spilled
                        | ParDo(_AppendShardedDestination(self.destination_fn, self.shards))
                        | "GroupRecordsByDestinationAndShard" >> GroupByKey()
                        | ParDo(_WriteShardedRecordsFn(temp, self.sink_fn, self.shards)))
        by_destination = ((written, more_written)
                          | Flatten()
                          | Map(lambda file_result: (file_result.destination, file_result))
                          | "GroupTempFilesByDestination" >> GroupByKey())
        return by_destination | ParDo(_MoveTempFilesIntoFinalDestinationFn(self.path, self.file_naming_fn))


def _create_writer(base_path, writer_key, create_metadata_fn):
    try:
        filesystems.FileSystems.mkdirs(base_path)
    except IOError:
        pass  # already there
    full_file_name = filesystems.FileSystems.join(base_path, "%s_%s" % (abs(hash(writer_key)), uuid.uuid4()))
    metadata = create_metadata_fn(writer_key[0], full_file_name)
    return full_file_name, filesystems.FileSystems.create(full_file_name, **metadata._asdict())


class _MoveTempFilesIntoFinalDestinationFn(DoFn):
    def __init__(self, path, file_naming_fn):
        self.path = path
        self.file_naming_fn = file_naming_fn

    def process(self, element):
        destination = element[0]
        temp_results = list(element[1])
        final_results = []
        for i, r in enumerate(temp_results):
            name = self.file_naming_fn(r.window, r.pane, i, len(temp_results), "", destination)
            final_results.append(FileResult(name, i, len(temp_results), r.window, r.pane, destination))
        try:
            filesystems.FileSystems.mkdirs(self.path)
        except IOError:
            pass  # already there
        filesystems.FileSystems.rename([f.file_name for f in temp_results],
                                       [filesystems.FileSystems.join(self.path, f.file_name) for f in final_results])
        yield from final_results


class _WriteShardedRecordsFn(DoFn):
    def __init__(self, base_path, sink_fn, shards):
        self.base_path = base_path
        self.sink_fn = sink_fn
        self.shards = shards

    def process(self, element, w=DoFn.WindowParam, pane=DoFn.PaneInfoParam):
        (destination, shard), records = element
        sink = self.sink_fn(destination)
        full_file_name, writer = _create_writer(self.base_path, (destination, w), sink.create_metadata)
        sink.open(writer)
        for r in records:
            sink.write(r)
        sink.flush()
        writer.close()
        yield FileResult(full_file_name, shard_index=shard, total_shards=self.shards, window=w, pane=pane,
                         destination=destination)


class _AppendShardedDestination(DoFn):
    def __init__(self, destination, shards):
        self.destination_fn = destination
        self.shards = shards

    def start_bundle(self):
        self._shard_counter = collections.defaultdict(lambda: random.randrange(self.shards))

    def process(self, record):
        destination = self.destination_fn(record)
        self._shard_counter[destination] = (self._shard_counter[destination] + 1) % self.shards
        yield ((destination, self._shard_counter[destination]), record)


class _WriteUnshardedRecordsFn(DoFn):
    SPILLED_RECORDS = "spilled_records"
    WRITTEN_FILES = "written_files"

    def __init__(self, base_path, destination_fn, sink_fn, max_writers_per_bundle):
        self.base_path = base_path
        self.destination_fn = destination_fn
        self.sink_fn = sink_fn
        self.max_num_writers_per_bundle = max_writers_per_bundle

    def start_bundle(self):
        self._writers_and_sinks = {}
        self._file_names = {}

    def process(self, record, w=DoFn.WindowParam):
        writer, sink = self._get_or_create_writer_and_sink(self.destination_fn(record), w)
        if not writer:
            return [TaggedOutput(self.SPILLED_RECORDS, record)]
        sink.write(record)
        return None

    def _get_or_create_writer_and_sink(self, destination, window):
        key = (destination, window)
        if key in self._writers_and_sinks:
            return self._writers_and_sinks[key]
        if len(self._writers_and_sinks) >= self.max_num_writers_per_bundle:
            return None, None
        sink = self.sink_fn(destination)
        full_file_name, writer = _create_writer(self.base_path, key, sink.create_metadata)
        sink.open(writer)
        self._writers_and_sinks[key] = (writer, sink)
        self._file_names[key] = full_file_name
        return self._writers_and_sinks[key]

    def finish_bundle(self):
        for key, (writer, sink) in self._writers_and_sinks.items():
            sink.flush()
            writer.close()
            result = FileResult(self._file_names[key], shard_index=-1, total_shards=0, window=key[1], pane=None,
                                destination=key[0])
            yield TaggedOutput(self.WRITTEN_FILES,
                               WindowedValue(result, timestamp=key[1].start if hasattr(key[1], "start") else 0,
                                             windows=[key[1]]))
