"""The same pipelines under Apache Beam and under beamline on every runner:
each writes its output with WriteToText, and the sorted lines must be equal.
This pins down how Beam prints elements: windows, timestamps, Rows, grouped
values, CoGroupByKey results, floats, None, unicode and nested containers."""

import glob
import importlib
import os
import types

import pytest

from .compat import BEAM


def _package(name):
    sub = lambda path: importlib.import_module("%s.%s" % (name, path))  # noqa: E731
    return types.SimpleNamespace(beam=importlib.import_module(name), window=sub("transforms.window"),
                                 pvalue=sub("pvalue"), combiners=sub("transforms.combiners"),
                                 WriteToText=sub("io").WriteToText)


def wordcount(ns, p):
    b = ns.beam
    return (p | b.Create(["the cat", "The dog  the end", "é✓ cat"])
            | b.FlatMap(str.split) | b.Map(lambda w: (w.lower(), 1)) | b.CombinePerKey(sum))


def grouped(ns, p):
    b = ns.beam
    kvs = p | b.Create([("a", 1), ("b", 2.5), ("c", None), ("a", 3)])
    raw = kvs | "Only" >> b.Filter(lambda kv: kv[0] != "a") | "Raw" >> b.GroupByKey()
    srt = kvs | "GBK" >> b.GroupByKey() | b.MapTuple(lambda k, vs: (k, sorted(vs, key=str)))
    return (raw, srt) | b.Flatten()


def cogrouped(ns, p):
    b = ns.beam
    emails = p | "E" >> b.Create([("amy", "a@x"), ("carl", "c@x")])
    phones = p | "P" >> b.Create([("amy", "111"), ("julia", "222")])
    as_dict = {"emails": emails, "phones": phones} | "Dict" >> b.CoGroupByKey()
    as_tuple = (emails, phones) | "Tuple" >> b.CoGroupByKey()
    return (as_dict, as_tuple) | b.Flatten()


def windows_and_timestamps(ns, p):
    b, w = ns.beam, ns.window

    class Show(b.DoFn):
        def process(self, x, ts=b.DoFn.TimestampParam, win=b.DoFn.WindowParam):
            yield "%s|%s|%r|%s|%r|%s|%s" % (x, ts, ts, win, win, win.start, win.end)

    stamped = (p | b.Create([("k", 1), ("k", 2.5), ("j", 17), ("k", 61)])
               | b.Map(lambda kv: w.TimestampedValue(kv, kv[1])))
    fixed = stamped | "Fixed" >> b.WindowInto(w.FixedWindows(10)) | "ShowFixed" >> b.ParDo(Show())
    sliding = (stamped | "Sliding" >> b.WindowInto(w.SlidingWindows(20, 10))
               | "Keys" >> b.Keys() | "Count" >> ns.combiners.Count.PerElement()
               | "ShowSliding" >> b.Map(lambda kv, win=b.DoFn.WindowParam: (kv, str(win))))
    glob_ = stamped | "ShowGlobal" >> b.Map(lambda kv, win=b.DoFn.WindowParam, ts=b.DoFn.TimestampParam:
                                             (kv, repr(win), str(ts)))
    # Beam flattens only PCollections windowed alike.
    parts = [pc | "Global%d" % i >> b.WindowInto(w.GlobalWindows()) for i, pc in enumerate((fixed, sliding, glob_))]
    return parts | b.Flatten()


def sessions(ns, p):
    b, w = ns.beam, ns.window
    return (p | b.Create([("u", 1), ("u", 4), ("u", 30), ("v", 2)])
            | b.Map(lambda kv: w.TimestampedValue(kv, kv[1]))
            | b.WindowInto(w.Sessions(5))
            | b.CombinePerKey(sum)
            | b.Map(lambda kv, win=b.DoFn.WindowParam: "%s in %s" % (kv, win)))


def rows(ns, p):
    b = ns.beam
    return (p | b.Create([("apple", 3, 1.5), ("fig", 10, None)])
            | b.MapTuple(lambda n, q, price: b.Row(name=n, qty=q, price=price)))


def floats(ns, p):
    b = ns.beam
    xs = p | b.Create([0.1 + 0.2, 1e16, 123456789.125, 1e-5, 2.5, 1 / 3, -0.0, float("inf"), float("-inf"),
                       float("nan"), 100.0, 1e22, 5e-324])
    return (xs, xs | "Tupled" >> b.Map(lambda x: (x, [x]))) | b.Flatten()


def scalars_and_containers(ns, p):
    b = ns.beam
    return p | b.Create([None, True, False, 0, -12, 2 ** 70, b"by\x00tes'", "it's", 'say "hi"', "tab\there",
                         "é✓ ünïcode", ("é",), (1,), (), [], {}, [1, (2, {"k": [3, None]})], {"a": (1, "b")},
                         {"x": b"\xff"}, (None, True, 1.5), "line\\back"])


def combiners_output(ns, p):
    b, c = ns.beam, ns.combiners
    xs = p | b.Create([3, 1, 4, 1, 5])
    return (xs | "Mean" >> c.Mean.Globally(),
            xs | "Count" >> c.Count.PerElement(),
            xs | "Top" >> c.Top.Largest(2),
            xs | "Smallest" >> c.Top.Smallest(2),
            xs | "Sum" >> b.CombineGlobally(sum),
            xs | "Pairs" >> b.Map(lambda x: (x % 2, x)) | "MeanPerKey" >> c.Mean.PerKey()) | b.Flatten()


def to_string_and_partition(ns, p):
    b = ns.beam
    kvs = p | b.Create([("a", 1), ("b", 2.0), ("c", None)])
    low, high = kvs | b.Partition(lambda kv, n: 0 if kv[0] < "b" else 1, 2)
    return (low | "Kvs" >> b.ToString.Kvs(), high | "Elem" >> b.ToString.Element(),
            kvs | "Swap" >> b.KvSwap()) | b.Flatten()


PIPELINES = [wordcount, grouped, cogrouped, windows_and_timestamps, sessions, rows, floats, scalars_and_containers,
             combiners_output, to_string_and_partition]


def _written(prefix):
    lines = []
    for path in glob.glob(prefix + "*"):
        with open(path, encoding="utf-8") as f:
            lines.extend(f.read().splitlines())
    return sorted(lines)


def _run(package, build, args, prefix):
    ns = _package(package)
    opts = importlib.import_module(package + ".options.pipeline_options").PipelineOptions(args)
    with ns.beam.Pipeline(options=opts) as p:
        build(ns, p) | ns.WriteToText(prefix)
    return _written(prefix)


_beam_lines = {}


@pytest.fixture(scope="session")
def beam_output(tmp_path_factory):
    """Apache Beam's lines of a pipeline, computed once per session."""

    def lines(build):
        if build.__name__ not in _beam_lines:
            prefix = str(tmp_path_factory.mktemp("beam-" + build.__name__) / "out")
            _beam_lines[build.__name__] = _run("apache_beam", build, ["--runner=DirectRunner"], prefix)
        return _beam_lines[build.__name__]

    return lines


@pytest.mark.skipif(BEAM, reason="compares beamline with Apache Beam")
@pytest.mark.parametrize("build", PIPELINES, ids=[b.__name__ for b in PIPELINES])
def test_same_lines_as_apache_beam(build, runner_args, beam_output, tmp_path):
    expected = beam_output(build)
    assert expected, "Apache Beam wrote nothing for %s" % build.__name__
    assert _run("beamline", build, runner_args, str(tmp_path / "out")) == expected
