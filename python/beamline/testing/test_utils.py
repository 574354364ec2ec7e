"""The file helpers Beam's tests use (``apache_beam.testing.test_utils``):
``TempDir``, ``create_file``, ``read_files_from_pattern``, ``delete_files``,
``compute_hash`` and ``LCGenerator``."""

import hashlib
import os
import shutil
import struct
import tempfile

from beamline.io.filesystems import FileSystems

__all__ = ["TempDir", "compute_hash", "delete_files", "create_file", "read_files_from_pattern", "LCGenerator",
           "DEFAULT_HASHING_ALG"]

DEFAULT_HASHING_ALG = "sha1"


class TempDir:
    """A temporary directory, removed on leaving ``with TempDir() as d:``."""

    def __init__(self):
        self._tempdir = tempfile.mkdtemp()

    def __enter__(self):
        return self

    def __exit__(self, *args):
        if os.path.exists(self._tempdir):
            shutil.rmtree(self._tempdir)

    def get_path(self):
        """The directory's path."""
        return self._tempdir

    def create_temp_file(self, suffix="", lines=None):
        """A new file in the directory holding ``lines`` (bytes, written as given); returns its name."""
        with tempfile.NamedTemporaryFile(delete=False, dir=self._tempdir, suffix=suffix) as f:
            if lines:
                for line in lines:
                    f.write(line)
            return f.name


def compute_hash(content, hashing_alg=DEFAULT_HASHING_ALG):
    """A hash of a list of objects, by their sorted string forms."""
    content = [str(x).encode("utf-8") if not isinstance(x, bytes) else x for x in content]
    content.sort()
    m = hashlib.new(hashing_alg)
    for elem in content:
        m.update(elem)
    return m.hexdigest()


def delete_files(file_paths):
    """Deletes files or directories (recursively); globs are expanded."""
    if len(file_paths) == 0:
        raise RuntimeError("Clean up failed. Invalid file path: %s." % file_paths)
    FileSystems.delete(file_paths)


def create_file(path, contents):
    """Writes ``contents`` (str) to ``path`` as UTF-8; returns the path."""
    with FileSystems.create(path) as f:
        f.write(str.encode(contents, "utf-8"))
    return path


def read_files_from_pattern(file_pattern):
    """The stripped contents of the files matching ``file_pattern``, joined by newlines."""
    metadata_list = FileSystems.match([file_pattern])[0].metadata_list
    output = []
    for metadata in metadata_list:
        with FileSystems.open(metadata.path) as f:
            output.append(f.read().decode("utf-8").strip())
    return "\n".join(output)


class LCGenerator:
    """A linear congruential generator (Beam's, equivalent to java.util.Random)."""

    def __init__(self, a=0x5DEECE66D, c=0xB, bits=48):
        self._a = a
        self._c = c
        self._bits = bits
        self._mask = (1 << self._bits) - 1
        self.seed(0)

    def seed(self, seed):
        self._seed = (seed * self._a + self._c) & self._mask

    def seed_jdk(self, seed):
        self._seed = (seed ^ self._a) & self._mask

    def next_int(self):
        self.seed(self._seed)
        v = self._seed >> (self._bits - 32)
        return v - (1 << 32) if v >= 1 << 31 else v

    def next_uint(self):
        self.seed(self._seed)
        return self._seed >> (self._bits - 32)

    def randbytes(self, length):
        ints = (length + 3) // 4
        return struct.pack("<%iI" % ints, *(self.next_uint() for _ in range(ints)))[:length]

    def random_sample(self):
        return float(self.next_uint() >> 8) / (1 << 24)
