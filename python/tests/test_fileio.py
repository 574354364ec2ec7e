"""``beam.io.fileio``: ``MatchFiles``, ``ReadMatches`` and ``WriteToFiles`` on local files."""

import importlib
import os

import pytest

from .compat import AGAINST, assert_that, beam, equal_to

fileio = importlib.import_module("%s.io.fileio" % AGAINST)


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def _read(readable_file):
    # Beam's ReadableFile.read()/read_utf8() leave the file open (a ResourceWarning): close it here.
    with readable_file.open() as f:
        return f.read()


def test_match_and_read_files(pipeline, tmp_path):
    d = str(tmp_path)
    for name, text in [("a.txt", "x\ny\n"), ("b.txt", "z\n"), (".c.txt", "h\n"), ("d.csv", "no\n")]:
        _write(os.path.join(d, name), text)
    with pipeline() as p:
        files = p | fileio.MatchFiles(os.path.join(d, "*.txt")) | fileio.ReadMatches()
        out = files | beam.Map(lambda f: (os.path.basename(f.metadata.path), f.metadata.size_in_bytes, _read(f).decode("utf-8")))
        assert_that(out, equal_to([("a.txt", 4, "x\ny\n"), ("b.txt", 2, "z\n"), (".c.txt", 2, "h\n")]))


def test_match_all_and_read_bytes(pipeline, tmp_path):
    d = str(tmp_path)
    _write(os.path.join(d, "one", "a.txt"), "1")
    _write(os.path.join(d, "two", "b.txt"), "22")
    with pipeline() as p:
        out = (p | beam.Create([os.path.join(d, "one", "*"), os.path.join(d, "two", "*")])
               | fileio.MatchAll() | fileio.ReadMatches() | beam.Map(_read))
        assert_that(out, equal_to([b"1", b"22"]))


def test_match_files_disallowing_empty_matches(pipeline, tmp_path):
    with pytest.raises(Exception, match="Empty match for pattern"):
        with pipeline() as p:
            p | fileio.MatchFiles(os.path.join(str(tmp_path), "*.none"),
                                  empty_match_treatment=fileio.EmptyMatchTreatment.DISALLOW)


def _files(d):
    out = {}
    for root, _, names in os.walk(d):
        for name in names:
            with open(os.path.join(root, name)) as f:
                out[os.path.relpath(os.path.join(root, name), d)] = f.read()
    return out


def test_write_to_files(pipeline, tmp_path):
    d = os.path.join(str(tmp_path), "out")
    with pipeline() as p:
        results = p | beam.Create(["r1", "r2", "r3"]) | fileio.WriteToFiles(d)
        described = results | beam.Map(lambda r: (type(r).__name__, r.destination, r.file_name.startswith("output-")))
        assert_that(described | beam.Distinct(), equal_to([("FileResult", None, True)]))
    files = {k: v for k, v in _files(d).items() if not k.startswith(".temp")}
    assert all(name.startswith("output-") and "-of-" in name for name in files)
    assert sorted("".join(files.values()).splitlines()) == ["r1", "r2", "r3"]


def test_write_to_files_by_destination(pipeline, tmp_path):
    d = os.path.join(str(tmp_path), "out")
    with pipeline() as p:
        results = (p | beam.Create(["a1", "b1", "a2"])
                   | fileio.WriteToFiles(d, destination=lambda r: r[0],
                                         file_naming=fileio.destination_prefix_naming(".txt")))
        assert_that(results | beam.Map(lambda r: r.destination) | beam.Distinct(), equal_to(["a", "b"]))
    files = {k: v for k, v in _files(d).items() if not k.startswith(".temp")}
    by_dest = {}
    for name, text in files.items():
        assert name.endswith(".txt") and "-of-" in name
        by_dest.setdefault(name[0], []).extend(text.splitlines())
    assert {k: sorted(v) for k, v in by_dest.items()} == {"a": ["a1", "a2"], "b": ["b1"]}


def test_file_naming():
    naming = fileio.default_file_naming("out", ".txt")
    from .compat import window

    assert naming(window.GlobalWindow(), None, 2, 5, "", None) == "out-00002-of-00005.txt"
    assert fileio.single_file_naming("out", ".txt")(window.GlobalWindow(), None, 0, 1, "", None) == "out.txt"
    assert fileio.destination_prefix_naming()(window.GlobalWindow(), None, 0, 1, "", "dest") == "dest-00000-of-00001"
