"""io.rs: ReadFromText and WriteToText (the JSON-lines cases have no Beam Python API)."""

import glob
import gzip
import os

import pytest

from _beam import assert_that, beam, combiners, equal_to, io, window
from _common import timestamped


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def test_io_read_text(run, tmp_path):
    d = str(tmp_path)
    _write(os.path.join(d, "a.txt"), b"hello world\nbye\n")
    _write(os.path.join(d, "b.txt"), b"last line, no newline")
    _write(os.path.join(d, "c.txt"), b"crlf line\r\nlone\rcr\n\n")
    _write(os.path.join(d, "empty.txt"), b"")
    _write(os.path.join(d, "d.txt"), "ünïcödé 🦀\n日本\n".encode())
    _write(os.path.join(d, ".hidden.txt"), b"hidden\n")
    _write(os.path.join(d, "other.csv"), b"not matched\n")
    # Beam's file pattern matches dot-files too: .hidden.txt is read (a shell's glob, and the Rust case, skip it).
    with run.pipeline() as p:
        lines = p | io.ReadFromText(os.path.join(d, "*.txt"))
        assert_that(lines, equal_to(["hello world", "bye", "last line, no newline", "crlf line", "lone\rcr", "",
                                     "ünïcödé 🦀", "日本", "hidden"]))


def test_io_read_text_splits_a_large_file(run, tmp_path):
    n = 200_000
    path = os.path.join(str(tmp_path), "big.txt")
    _write(path, "".join("line %d\n" % i for i in range(n)).encode())
    with run.pipeline() as p:
        nums = (p | io.ReadFromText(path, min_bundle_size=64 << 10)
                | beam.Map(lambda line: int(line.rsplit(" ", 1)[-1])))
        assert_that(nums | combiners.Count.Globally(), equal_to([n]), label="CountEq")
        assert_that(nums | beam.CombineGlobally(sum), equal_to([n * (n - 1) // 2]), label="SumEq")


def test_io_read_text_gzip(run, tmp_path):
    d = str(tmp_path)
    with gzip.open(os.path.join(d, "a.txt.gz"), "wb") as f:
        f.write(b"zipped one\nzipped two\n")
    _write(os.path.join(d, "b.txt"), b"plain\n")
    with run.pipeline() as p:
        assert_that(p | io.ReadFromText(os.path.join(d, "*.txt*")), equal_to(["zipped one", "zipped two", "plain"]))


def test_io_read_text_missing_file_fails(run, tmp_path):
    # Beam checks the pattern when the transform is built (validate=True): "No files found ...".
    pattern = os.path.join(str(tmp_path), "nothing-here-*.txt")
    p = run.pipeline()
    with pytest.raises(Exception, match="No files found") as info:
        p | "ReadLogs" >> io.ReadFromText(pattern)
        p.run().wait_until_finish()
    assert pattern in str(info.value)


def test_io_read_text_invalid_utf8_fails(run, tmp_path):
    # Beam decodes lines as UTF-8 and fails the run on an invalid byte (it does not name the line).
    path = os.path.join(str(tmp_path), "bad.txt")
    _write(path, b"fine\nbad \xff byte\nfine again\n")
    p = run.pipeline()
    p | "Read" >> io.ReadFromText(path)
    with pytest.raises(Exception, match="(?i)utf-?8"):
        p.run().wait_until_finish()


def _lines(names):
    out = []
    for n in names:
        with open(n, encoding="utf-8") as f:
            out.extend(f.read().splitlines())
    return out


def _no_leftovers(d):
    for name in os.listdir(d):
        assert not (name.startswith(".") or "tmp" in name or "temp" in name), "left behind: %s" % name


def test_io_write_text_shards(run, tmp_path):
    d = os.path.join(str(tmp_path), "out")
    os.makedirs(d)
    lines = ["line %d" % i for i in range(100)]
    names = [os.path.join(d, "part-%05d-of-00003.txt" % i) for i in range(3)]
    with run.pipeline() as p:
        files = p | beam.Create(lines) | io.WriteToText(os.path.join(d, "part"), file_name_suffix=".txt", num_shards=3)
        assert_that(files, equal_to(names))
    assert sorted(_lines(names)) == sorted(lines)
    _no_leftovers(d)


def test_io_write_text_header_single_file(run, tmp_path):
    d = str(tmp_path)
    name = os.path.join(d, "report.csv")
    with run.pipeline() as p:
        files = p | beam.Create(["a,1", "b,2"]) | io.WriteToText(
            os.path.join(d, "report"), file_name_suffix=".csv", shard_name_template="", header="word,count")
        assert_that(files, equal_to([name]))
    lines = _lines([name])
    assert lines[0] == "word,count" and sorted(lines[1:]) == ["a,1", "b,2"], lines


def test_io_write_text_empty_input(run, tmp_path):
    d = str(tmp_path)
    names = [os.path.join(d, "none-%05d-of-00002" % i) for i in range(2)]
    with run.pipeline() as p:
        files = p | beam.Create([]) | io.WriteToText(os.path.join(d, "none"), num_shards=2)
        assert_that(files, equal_to(names))
    assert _lines(names) == []


def test_io_write_text_windowed_input(run, tmp_path):
    d = str(tmp_path)
    with run.pipeline() as p:
        xs = timestamped(p, [("early", 1), ("late", 100)]) | beam.WindowInto(window.FixedWindows(10))
        files = xs | io.WriteToText(os.path.join(d, "windowed"))
        files | beam.Map(lambda n: None)
    names = sorted(glob.glob(os.path.join(d, "windowed*")))
    assert names and sorted(_lines(names)) == ["early", "late"], names


def test_io_write_then_read_gzip(run, tmp_path):
    d = str(tmp_path)
    lines = ["zipped %d ✓" % i for i in range(1000)]
    with run.pipeline() as p:
        files = p | beam.Create(lines) | io.WriteToText(os.path.join(d, "z"), file_name_suffix=".txt.gz",
                                                        num_shards=2)
        assert_that(files | combiners.Count.Globally(), equal_to([2]))
    names = sorted(glob.glob(os.path.join(d, "z-*-of-00002.txt.gz")))
    assert len(names) == 2, names
    for n in names:
        with open(n, "rb") as f:
            assert f.read(2) == b"\x1f\x8b", "%s is not gzip" % n
    with run.pipeline() as q:
        assert_that(q | io.ReadFromText(os.path.join(d, "z-*-of-00002.txt.gz")), equal_to(lines))
