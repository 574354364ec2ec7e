"""The shapes Beam's file system API returns (``FileMetadata``, ``MatchResult``,
``BeamIOError``) and ``CompressionTypes``."""

import bz2
import gzip
import lzma
import os
import re

__all__ = ["CompressionTypes", "FileMetadata", "MatchResult", "BeamIOError", "translate_pattern"]


class CompressionTypes:
    """How a file is compressed; ``AUTO`` goes by its extension."""

    AUTO = "auto"
    BZIP2 = "bzip2"
    DEFLATE = "deflate"
    GZIP = "gzip"
    ZSTD = "zstd"
    LZMA = "lzma"
    UNCOMPRESSED = "uncompressed"

    _EXTENSIONS = {".bz2": BZIP2, ".deflate": DEFLATE, ".gz": GZIP, ".zst": ZSTD, ".zstd": ZSTD, ".xz": LZMA,
                   ".lzma": LZMA}

    @classmethod
    def is_valid_compression_type(cls, compression_type):
        return compression_type in (cls.AUTO, cls.BZIP2, cls.DEFLATE, cls.GZIP, cls.ZSTD, cls.LZMA,
                                    cls.UNCOMPRESSED)

    @classmethod
    def mime_type(cls, compression_type, default="application/octet-stream"):
        return {cls.BZIP2: "application/x-bz2", cls.DEFLATE: "application/deflate", cls.GZIP: "application/x-gzip",
                cls.ZSTD: "application/zstd", cls.LZMA: "application/lzma"}.get(compression_type, default)

    @classmethod
    def detect_compression_type(cls, file_path):
        """The compression of ``file_path`` from its extension (``UNCOMPRESSED`` if none)."""
        return cls._EXTENSIONS.get(os.path.splitext(file_path)[1].lower(), cls.UNCOMPRESSED)


def open_compressed(path, mode, compression_type):
    """``path`` opened in binary ``mode`` ('rb' or 'wb') through its compression."""
    if compression_type == CompressionTypes.AUTO:
        compression_type = CompressionTypes.detect_compression_type(path)
    if compression_type == CompressionTypes.UNCOMPRESSED:
        return open(path, mode)
    if compression_type == CompressionTypes.GZIP:
        return gzip.open(path, mode)
    if compression_type == CompressionTypes.BZIP2:
        return bz2.open(path, mode)
    if compression_type == CompressionTypes.LZMA:
        return lzma.open(path, mode)
    raise ValueError("compression type %r is not supported for local files (use auto, uncompressed, gzip, bzip2 or "
                     "lzma)" % (compression_type,))


class FileMetadata:
    """A file ``match`` found: its path, size and last modification time."""

    def __init__(self, path, size_in_bytes, last_updated_in_seconds=0.0):
        assert isinstance(path, str) and path, "Path should be a string"
        assert isinstance(size_in_bytes, int) and size_in_bytes >= 0, \
            "Invalid value for size_in_bytes should %s (of type %s)" % (size_in_bytes, type(size_in_bytes))
        self.path = path
        self.size_in_bytes = size_in_bytes
        self.last_updated_in_seconds = last_updated_in_seconds

    def __eq__(self, other):
        return (isinstance(other, FileMetadata) and self.path == other.path
                and self.size_in_bytes == other.size_in_bytes
                and self.last_updated_in_seconds == other.last_updated_in_seconds)

    def __hash__(self):
        return hash((self.path, self.size_in_bytes, self.last_updated_in_seconds))

    def __repr__(self):
        if self.last_updated_in_seconds == 0.0:
            return "FileMetadata(%s, %s)" % (self.path, self.size_in_bytes)
        return "FileMetadata(%s, %s, %s)" % (self.path, self.size_in_bytes, self.last_updated_in_seconds)


class MatchResult:
    """The files one pattern matched."""

    def __init__(self, pattern, metadata_list):
        self.metadata_list = metadata_list
        self.pattern = pattern


class BeamIOError(IOError):
    """A batch file operation failed; ``exception_details`` maps each failed input to its error."""

    def __init__(self, msg, exception_details=None):
        message = "%s with exceptions %s" % (msg, exception_details)
        super().__init__(message)
        self.exception_details = exception_details


def translate_pattern(pattern):
    """Beam's glob as a regular expression: ``*`` within a path segment (hidden
    names included), ``**`` across segments, ``?`` one character, ``[...]`` a class."""
    i, n = 0, len(pattern)
    res = ""
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if i < n and pattern[i] == "*":
                res += ".*"
                i += 1
            else:
                res += r"[^/\\]*"
        elif c == "?":
            res += "."
        elif c == "[":
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                res += "\\["
            else:
                stuff = pattern[i:j].replace("\\", "\\\\")
                i = j + 1
                if stuff[0] == "!":
                    stuff = "^" + stuff[1:]
                elif stuff[0] == "^":
                    stuff = "\\" + stuff
                res = "%s[%s]" % (res, stuff)
        else:
            res += re.escape(c)
    return "(?ms)" + res + r"\Z"
