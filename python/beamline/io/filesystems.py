"""``FileSystems``: Beam's file API (``match``, ``open``, ``create``,
``exists``, ``delete``, ``rename``, ``copy``, ...) on local paths and globs,
with Beam's glob rules (``*`` matches hidden names; ``**`` crosses
directories) and its ``MatchResult``/``FileMetadata`` results."""

import os
import re
import shutil

from beamline.io.filesystem import (BeamIOError, CompressionTypes, FileMetadata, MatchResult, open_compressed,
                                    translate_pattern)

__all__ = ["FileSystems"]


def _metadata(path):
    st = os.stat(path)
    return FileMetadata(path, st.st_size, st.st_mtime)


def _list(dir_or_prefix):
    """Every file under a directory, recursively (Beam's local listing)."""
    if not os.path.exists(dir_or_prefix):
        return
    for dirpath, _, files in os.walk(dir_or_prefix):
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                yield _metadata(path)
            except OSError:
                pass  # removed while listing


def _match_one(pattern, limit):
    if pattern.endswith("/") or pattern.endswith("\\"):
        pattern += "*"
    prefix_or_dir = re.match(r"^[^[*?]*", pattern).group(0)
    if prefix_or_dir == pattern:
        found = [_metadata(pattern)] if os.path.exists(pattern) else []
    else:
        dirname = os.path.dirname(prefix_or_dir)
        found = list(_list(dirname)) if dirname else []
        regex = re.compile(translate_pattern(pattern))
        found = [m for m in found if regex.match(m.path)]
    if limit is not None:
        found = found[:limit]
    return MatchResult(pattern, found)


class FileSystems:
    """Static methods on files, by path (local paths; other schemes are refused)."""

    URI_SCHEMA_PATTERN = re.compile("(?P<scheme>[a-zA-Z][-a-zA-Z0-9+.]*)://.*")
    _pipeline_options = None

    @classmethod
    def set_options(cls, pipeline_options):
        cls._pipeline_options = pipeline_options

    @staticmethod
    def get_scheme(path):
        m = FileSystems.URI_SCHEMA_PATTERN.match(path.strip())
        return None if m is None else m.groupdict()["scheme"]

    @staticmethod
    def _check_local(path):
        scheme = FileSystems.get_scheme(path)
        if scheme not in (None, "file"):
            raise ValueError("Unable to get filesystem from specified path, please use the correct path or ensure the "
                             "required dependency is installed, e.g., pip install apache-beam[gcp]. Path specified: "
                             "%s (beamline reads and writes local files only)" % path)
        return path[len("file://"):] if scheme == "file" else path

    @staticmethod
    def join(basepath, *paths):
        FileSystems._check_local(basepath)
        return os.path.join(basepath, *paths)

    @staticmethod
    def split(path):
        return os.path.split(os.path.abspath(FileSystems._check_local(path)))

    @staticmethod
    def mkdirs(path):
        """Creates ``path`` and its parents; an error if it exists."""
        try:
            os.makedirs(FileSystems._check_local(path))
        except OSError as err:
            raise IOError(err)

    @staticmethod
    def match(patterns, limits=None):
        """One ``MatchResult`` per pattern: the files it matches."""
        if len(patterns) == 0:
            return []
        if limits is None:
            limits = [None] * len(patterns)
        elif len(patterns) != len(limits):
            raise AssertionError("Patterns and limits should be equal in length")
        results, errors = [], {}
        for pattern, limit in zip(patterns, limits):
            try:
                results.append(_match_one(FileSystems._check_local(pattern), limit))
            except ValueError:
                raise
            except Exception as e:  # noqa: BLE001 - collected as Beam does
                errors[pattern] = e
        if errors:
            raise BeamIOError("Match operation failed", errors)
        return results

    @staticmethod
    def create(path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO):
        """A binary file for writing at ``path`` (parent directories made; compressed by extension)."""
        path = FileSystems._check_local(path)
        parent = os.path.dirname(path)
        if parent and not os.path.exists(parent):
            os.makedirs(parent)
        return open_compressed(path, "wb", compression_type)

    @staticmethod
    def open(path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO):
        """A binary file for reading ``path`` (decompressed by extension)."""
        return open_compressed(FileSystems._check_local(path), "rb", compression_type)

    @staticmethod
    def copy(source_file_names, destination_file_names):
        errors = {}
        for src, dst in zip(source_file_names, destination_file_names):
            try:
                src, dst = FileSystems._check_local(src), FileSystems._check_local(dst)
                if os.path.isdir(src):
                    shutil.copytree(src, dst)
                else:
                    shutil.copy2(src, dst)
            except ValueError:
                raise
            except OSError as e:
                errors[(src, dst)] = e
        if errors:
            raise BeamIOError("Copy operation failed", errors)

    @staticmethod
    def rename(source_file_names, destination_file_names):
        """Moves each source to its destination."""
        errors = {}
        for src, dst in zip(source_file_names, destination_file_names):
            try:
                os.rename(FileSystems._check_local(src), FileSystems._check_local(dst))
            except ValueError:
                raise
            except OSError as e:
                errors[(src, dst)] = OSError(e)
        if errors:
            raise BeamIOError("Rename operation failed", errors)

    @staticmethod
    def exists(path):
        return os.path.exists(FileSystems._check_local(path))

    @staticmethod
    def last_updated(path):
        path = FileSystems._check_local(path)
        if not os.path.exists(path):
            raise BeamIOError("Path does not exist: %s" % path)
        return os.path.getmtime(path)

    @staticmethod
    def checksum(path):
        path = FileSystems._check_local(path)
        if not os.path.exists(path):
            raise BeamIOError("Path does not exist: %s" % path)
        return str(os.path.getsize(path))

    @staticmethod
    def delete(paths):
        """Deletes files and directories (recursively); globs are expanded."""
        errors = {}
        for path in paths:
            try:
                path = FileSystems._check_local(path)
                matched = [m.path for m in _match_one(path, None).metadata_list]
                if not matched:
                    raise IOError("No files found to delete under: %s" % path)
                for p in matched:
                    if os.path.isdir(p):
                        shutil.rmtree(p)
                    else:
                        os.remove(p)
            except ValueError:
                raise
            except Exception as e:  # noqa: BLE001 - collected as Beam does
                errors[path] = OSError(e) if not isinstance(e, OSError) else e
        if errors:
            raise BeamIOError("Delete operation failed", errors)
