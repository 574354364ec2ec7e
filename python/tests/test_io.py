"""ReadFromText and WriteToText on real files."""

import os

import pytest

from .compat import ReadFromText, WriteToText, assert_that, beam, equal_to


def _lines(paths):
    out = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            out.extend(f.read().splitlines())
    return out


def test_read_from_text(pipeline, tmp_path):
    (tmp_path / "a.txt").write_text("one\ntwo\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("three\r\nfour", encoding="utf-8")
    (tmp_path / "c.csv").write_text("skip\n", encoding="utf-8")
    with pipeline() as p:
        lines = p | ReadFromText(str(tmp_path / "*.txt"))
        assert_that(lines, equal_to(["one", "two", "three", "four"]))


def test_read_unicode_and_empty_lines(pipeline, tmp_path):
    (tmp_path / "u.txt").write_text("é✓\n\nlast\n", encoding="utf-8")
    with pipeline() as p:
        assert_that(p | ReadFromText(str(tmp_path / "u.txt")), equal_to(["é✓", "", "last"]))


def test_write_to_text_single_shard(pipeline, tmp_path):
    prefix = str(tmp_path / "out")
    with pipeline() as p:
        p | beam.Create(["b", "a", 3, (1, "x")]) | WriteToText(prefix, num_shards=1)
    assert sorted(os.listdir(tmp_path)) == ["out-00000-of-00001"]
    assert sorted(_lines([prefix + "-00000-of-00001"])) == ["(1, 'x')", "3", "a", "b"]


def test_write_to_text_suffix_and_shards(pipeline, tmp_path):
    prefix = str(tmp_path / "words")
    with pipeline() as p:
        p | beam.Create(["w%d" % i for i in range(20)]) | WriteToText(prefix, file_name_suffix=".txt", num_shards=3)
    names = sorted(os.listdir(tmp_path))
    assert names == ["words-0000%d-of-00003.txt" % i for i in range(3)]
    assert sorted(_lines([str(tmp_path / n) for n in names])) == sorted("w%d" % i for i in range(20))


def test_write_to_text_default_sharding(pipeline, tmp_path):
    prefix = str(tmp_path / "d")
    with pipeline() as p:
        p | beam.Create(["x", "y"]) | WriteToText(prefix)
    names = sorted(os.listdir(tmp_path))
    assert names and all(n.startswith("d-") and "-of-" in n for n in names)
    assert sorted(_lines([str(tmp_path / n) for n in names])) == ["x", "y"]


def test_write_to_text_header(pipeline, tmp_path):
    prefix = str(tmp_path / "h")
    with pipeline() as p:
        p | beam.Create(["1", "2"]) | WriteToText(prefix, header="id", num_shards=1, shard_name_template="")
    assert os.listdir(tmp_path) == ["h"]
    lines = _lines([prefix])
    assert lines[0] == "id" and sorted(lines[1:]) == ["1", "2"]


def test_write_then_read(pipeline, tmp_path):
    prefix = str(tmp_path / "round")
    with pipeline() as p:
        p | beam.Create(["é", "b"]) | WriteToText(prefix, num_shards=1)
    with pipeline() as p:
        assert_that(p | ReadFromText(prefix + "*"), equal_to(["é", "b"]))


def test_missing_input_file_is_one_clear_error(pipeline, tmp_path):
    missing = str(tmp_path / "missing-*.txt")
    out = tmp_path / "out"
    with pytest.raises(Exception) as info:
        with pipeline() as p:
            p | ReadFromText(missing) | WriteToText(str(out))
    assert isinstance(info.value, (IOError, OSError)), type(info.value)
    assert "missing-*.txt" in str(info.value)
    assert os.listdir(tmp_path) == []
