"""beamline's --dump-graph (the portable graph as JSON) and --graph (run a graph file)."""

import json
import os

import pytest

from .compat import BEAM, ReadFromText, WriteToText, beam

pytestmark = pytest.mark.skipif(BEAM, reason="beamline's own flags: Apache Beam has no --dump-graph")


def _build(p, src, out):
    (p | ReadFromText(src)
     | beam.FlatMap(str.split)
     | beam.Map(lambda w: (w.lower(), 1))
     | beam.CombinePerKey(sum)
     | beam.MapTuple(lambda w, n: "%s: %d" % (w, n))
     | WriteToText(out, num_shards=1))


def test_dump_graph_then_run_it(pipeline, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("a B b\nc a\n", encoding="utf-8")
    graph = tmp_path / "graph.json"
    first = tmp_path / "first"
    with pipeline("--dump-graph=%s" % graph) as p:
        _build(p, str(src), str(first))
    data = json.loads(graph.read_text(encoding="utf-8"))
    text = json.dumps(data)
    assert "CombinePerKey(sum)" in text and "WriteToText" in text
    assert "beamline:python:pardo:v1" in text
    out = str(first) + "-00000-of-00001"
    assert not os.path.exists(out), "--dump-graph only writes the graph"

    # The program runs the file's graph, its Python code included, not the one it builds.
    with pipeline("--graph=%s" % graph) as p:
        _build(p, str(src), str(tmp_path / "ignored"))
    assert not os.path.exists(str(tmp_path / "ignored") + "-00000-of-00001")
    with open(out, encoding="utf-8") as f:
        assert sorted(f.read().splitlines()) == ["a: 2", "b: 2", "c: 1"]


def test_to_json(pipeline):
    p = pipeline()
    p | beam.Create([1]) | "Double" >> beam.Map(lambda x: x * 2)
    assert "Double" in p.to_json()
