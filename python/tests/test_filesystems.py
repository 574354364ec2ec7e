"""``beam.io.filesystems.FileSystems`` on local files, ``beam.testing.util.open_shards``,
``beam.testing.test_utils``, and the text IO options finished in Python."""

import gzip
import importlib
import os

import pytest

from .compat import AGAINST, ReadFromText, WriteToText, assert_that, beam, equal_to

FileSystems = importlib.import_module("%s.io.filesystems" % AGAINST).FileSystems
filesystem = importlib.import_module("%s.io.filesystem" % AGAINST)
test_utils = importlib.import_module("%s.testing.test_utils" % AGAINST)
open_shards = importlib.import_module("%s.testing.util" % AGAINST).open_shards


def _tree(root):
    for rel, data in [("a.txt", b"a\n"), (".b.txt", b"bb\n"), ("sub/c.txt", b"ccc\n"), (".hid/h.txt", b"h\n"),
                      ("d.csv", b"d\n")]:
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def _matched(pattern):
    [result] = FileSystems.match([pattern])
    assert isinstance(result, filesystem.MatchResult)
    assert result.pattern == pattern
    assert all(isinstance(m, filesystem.FileMetadata) for m in result.metadata_list)
    return sorted((m.path, m.size_in_bytes) for m in result.metadata_list)


def test_match_follows_beams_glob_rules(tmp_path):
    d = str(tmp_path)
    _tree(d)
    j = lambda *p: os.path.join(d, *p)  # noqa: E731
    # `*` stays in one directory and matches hidden names; `**` crosses directories.
    assert _matched(j("*.txt")) == [(j(".b.txt"), 3), (j("a.txt"), 2)]
    assert _matched(j("**")) == [(j(".b.txt"), 3), (j(".hid", "h.txt"), 2), (j("a.txt"), 2), (j("d.csv"), 2),
                                 (j("sub", "c.txt"), 4)]
    assert _matched(j("**", "*.txt")) == [(j(".hid", "h.txt"), 2), (j("sub", "c.txt"), 4)]
    assert _matched(j("?.txt")) == [(j("a.txt"), 2)]
    assert _matched(j("a.txt")) == [(j("a.txt"), 2)]
    assert _matched(j("nope.txt")) == []
    assert _matched(j("none", "*.txt")) == []
    # A directory pattern ending in / matches the files in it.
    [r] = FileSystems.match([j("sub") + "/"])
    assert [m.path for m in r.metadata_list] == [j("sub", "c.txt")]
    assert FileSystems.match([]) == []
    limited = FileSystems.match([j("*.txt")], limits=[1])[0].metadata_list
    assert len(limited) == 1


def test_file_metadata_shape():
    assert repr(filesystem.FileMetadata("/a", 3)) == "FileMetadata(/a, 3)"
    assert repr(filesystem.FileMetadata("/a", 3, 1.5)) == "FileMetadata(/a, 3, 1.5)"
    assert filesystem.FileMetadata("/a", 3) == filesystem.FileMetadata("/a", 3)
    assert filesystem.CompressionTypes.detect_compression_type("x.gz") == filesystem.CompressionTypes.GZIP
    assert filesystem.CompressionTypes.detect_compression_type("x.txt") == filesystem.CompressionTypes.UNCOMPRESSED


def test_create_open_exists_rename_delete(tmp_path):
    d = str(tmp_path)
    path = os.path.join(d, "new", "x.txt")
    with FileSystems.create(path) as f:  # makes the missing directory
        f.write(b"hello\n")
    assert FileSystems.exists(path) and not FileSystems.exists(path + ".no")
    with FileSystems.open(path) as f:
        assert f.read() == b"hello\n"
    gz = os.path.join(d, "new", "y.txt.gz")
    with FileSystems.create(gz) as f:
        f.write(b"zipped\n")
    with open(gz, "rb") as f:
        assert gzip.decompress(f.read()) == b"zipped\n"
    with FileSystems.open(gz) as f:
        assert f.read() == b"zipped\n"
    moved = os.path.join(d, "new", "x2.txt")
    FileSystems.rename([path], [moved])
    assert sorted(os.listdir(os.path.join(d, "new"))) == ["x2.txt", "y.txt.gz"]
    with pytest.raises(filesystem.BeamIOError, match="Rename operation failed"):
        FileSystems.rename([path], [moved])
    FileSystems.copy([moved], [path])
    with open(path, "rb") as f:
        assert f.read() == b"hello\n"
    FileSystems.delete([moved])
    assert not os.path.exists(moved)
    with pytest.raises(filesystem.BeamIOError, match="No files found to delete under"):
        FileSystems.delete([moved])
    FileSystems.delete([os.path.join(d, "new")])  # a directory, recursively
    assert not os.path.exists(os.path.join(d, "new"))
    assert FileSystems.join("a", "b", "c") == "a/b/c"
    assert FileSystems.get_scheme("gs://bucket/x") == "gs" and FileSystems.get_scheme("/x") is None


def test_testing_helpers(tmp_path):
    with test_utils.TempDir() as tmp:
        name = tmp.create_temp_file(suffix=".txt", lines=[b"one\n", b"two\n"])
        assert name.endswith(".txt") and os.path.dirname(name) == tmp.get_path()
        with open(name, "rb") as f:
            assert f.read() == b"one\ntwo\n"
        kept = tmp.get_path()
    assert not os.path.exists(kept)
    path = test_utils.create_file(os.path.join(str(tmp_path), "made", "f.txt"), "contents\n")
    assert test_utils.read_files_from_pattern(os.path.join(str(tmp_path), "made", "*")) == "contents"
    assert test_utils.compute_hash(["b", "a"]) == test_utils.compute_hash(["a", "b"])
    test_utils.delete_files([path])
    assert not os.path.exists(path)


def test_open_shards_reads_what_write_to_text_wrote(pipeline, tmp_path):
    prefix = os.path.join(str(tmp_path), "out")
    with pipeline() as p:
        p | beam.Create(["x", "y", "z"]) | WriteToText(prefix, num_shards=2)
    with open_shards(prefix + "-*-of-*") as f:
        assert sorted(f.read().splitlines()) == ["x", "y", "z"]
    with open_shards(prefix + "-*-of-*", mode="rb") as f:
        assert sorted(f.read().splitlines()) == [b"x", b"y", b"z"]


def test_read_from_text_reads_hidden_files_as_beam(pipeline, tmp_path):
    d = str(tmp_path)
    _tree(d)
    with pipeline() as p:
        assert_that(p | ReadFromText(os.path.join(d, "*.txt")), equal_to(["a", "bb"]))


def test_read_from_text_skip_header_lines(pipeline, tmp_path):
    d = str(tmp_path)
    for name, data in [("a.csv", b"name,n\nx,1\ny,2\n"), ("b.csv", b"name,n\nz,3"), ("c.csv", b"name,n\n")]:
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    with gzip.open(os.path.join(d, "d.csv.gz"), "wb") as f:
        f.write(b"name,n\nw,4\n")
    with pipeline() as p:
        lines = p | ReadFromText(os.path.join(d, "*.csv*"), skip_header_lines=1)
        assert_that(lines, equal_to(["x,1", "y,2", "z,3", "w,4"]))


def test_read_from_text_negative_header_lines():
    with pytest.raises(ValueError, match="Cannot skip negative number of header lines: -1"):
        ReadFromText("/no/such/*.txt", skip_header_lines=-1, validate=False)


def _shards(prefix):
    out = {}
    for name in sorted(os.listdir(os.path.dirname(prefix))):
        if name.startswith(os.path.basename(prefix)):
            with open(os.path.join(os.path.dirname(prefix), name), "rb") as f:
                raw = f.read()
            out[name] = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    return out


def test_write_to_text_footer(pipeline, tmp_path):
    prefix = os.path.join(str(tmp_path), "plain")
    with pipeline() as p:
        p | beam.Create(["a"]) | WriteToText(prefix, header="H", footer="F", num_shards=1, file_name_suffix=".txt")
    assert _shards(prefix) == {"plain-00000-of-00001.txt": b"H\na\nF\n"}


def test_write_to_text_footer_on_an_empty_input(pipeline, tmp_path):
    prefix = os.path.join(str(tmp_path), "empty")
    with pipeline() as p:
        p | beam.Create([]) | WriteToText(prefix, header="H", footer="F", num_shards=1)
    assert _shards(prefix) == {"empty-00000-of-00001": b"H\nF\n"}


@pytest.mark.parametrize("compression, suffix, magic", [
    ("gzip", ".txt", b"\x1f\x8b"), ("auto", ".gz", b"\x1f\x8b"), ("auto", ".bz2", b"BZ"), ("bzip2", "", b"BZ"),
    ("uncompressed", ".txt", None),
])
def test_write_to_text_compression(pipeline, tmp_path, compression, suffix, magic):
    prefix = os.path.join(str(tmp_path), "out")
    with pipeline() as p:
        p | beam.Create(["a", "b"]) | WriteToText(prefix, num_shards=1, file_name_suffix=suffix,
                                                  compression_type=compression, footer="F")
    name = "out-00000-of-00001" + suffix
    assert os.listdir(str(tmp_path)) == [name]
    with open(os.path.join(str(tmp_path), name), "rb") as f:
        raw = f.read()
    if magic is not None:
        assert raw[:2] == magic
    with FileSystems.open(os.path.join(str(tmp_path), name), compression_type=compression) as f:
        lines = f.read().split(b"\n")
    assert sorted(lines[:2]) == [b"a", b"b"] and lines[2:] == [b"F", b""]
