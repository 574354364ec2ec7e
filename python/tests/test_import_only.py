"""A Beam program that uses ``coders``, ``typehints``, ``FileSystems`` and
``GroupIntoBatches`` runs on beamline with only its imports changed: the
program below is Beam source text; the test runs it with ``apache_beam``
replaced by the package under test, on every runner."""

import glob
import importlib
import os
import subprocess
import sys

import pytest

from .compat import AGAINST

PROGRAM = '''
import json
import typing

import apache_beam as beam
from apache_beam import coders, typehints
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions


class Reading(typing.NamedTuple):
    sensor: str
    value: int


class ReadingCoder(coders.Coder):
    """Encodes a reading as 'sensor:value'."""

    def encode(self, r):
        return ("%s:%d" % (r.sensor, r.value)).encode("utf-8")

    def decode(self, b):
        sensor, value = b.decode("utf-8").rsplit(":", 1)
        return Reading(sensor, int(value))

    def is_deterministic(self):
        return True


coders.registry.register_coder(Reading, ReadingCoder)


@typehints.with_input_types(str)
@typehints.with_output_types(Reading)
def parse(line):
    sensor, value = line.split(",")
    return Reading(sensor, int(value))


def run(in_dir, out_path, args):
    with FileSystems.create(FileSystems.join(in_dir, "readings.csv")) as f:
        f.write(b"a,1\\nb,5\\na,3\\na,7\\nb,2\\n")
    [match] = FileSystems.match([FileSystems.join(in_dir, "*.csv")])
    assert [m.size_in_bytes for m in match.metadata_list] == [20]
    with beam.Pipeline(options=PipelineOptions(args)) as p:
        batches = (p
                   | beam.io.ReadFromText(match.metadata_list[0].path)
                   | beam.Map(parse)
                   | beam.Map(lambda r: (r.sensor, r)).with_output_types(typehints.KV[str, Reading])
                   | beam.GroupIntoBatches(2)
                   | beam.MapTuple(lambda sensor, rs: (sensor, sorted(r.value for r in rs))))
        totals = (batches
                  | beam.MapTuple(lambda sensor, values: (sensor, sum(values)))
                  | beam.CombinePerKey(sum)
                  | beam.Map(json.dumps))
        totals | beam.io.WriteToText(out_path, shard_name_template="")
    with FileSystems.open(out_path) as f:
        return sorted(json.loads(line) for line in f.read().decode("utf-8").splitlines())
'''


def test_beam_program_runs_with_only_its_imports_changed(runner_args, tmp_path):
    # The program as a module of its own (its classes pickle by reference, as a script's do).
    src_dir = tmp_path / "src"
    src_dir.mkdir()
    name = "beam_program_%s" % os.path.basename(str(tmp_path)).replace("-", "_")
    (src_dir / ("%s.py" % name)).write_text(PROGRAM.replace("apache_beam", AGAINST))
    sys.path.insert(0, str(src_dir))
    try:
        program = importlib.import_module(name)
        out = program.run(str(tmp_path), os.path.join(str(tmp_path), "totals.jsonl"), list(runner_args))
    finally:
        sys.path.remove(str(src_dir))
        sys.modules.pop(name, None)
    assert out == [["a", 11], ["b", 7]]


CLUSTER_PROGRAM = '''
import sys

import beamline as beam
from beamline import coders, typehints
from beamline.options.pipeline_options import PipelineOptions


class Point:
    """Refuses pickle: it crosses processes only through PointCoder."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __reduce__(self):
        raise TypeError("Point must be encoded by PointCoder")


class PointCoder(coders.Coder):
    def encode(self, p):
        return ("%d,%d" % (p.x, p.y)).encode("ascii")

    def decode(self, b):
        return Point(*map(int, b.decode("ascii").split(",")))

    def is_deterministic(self):
        return True


coders.registry.register_coder(Point, PointCoder)

if __name__ == "__main__":
    out = sys.argv[1]
    with beam.Pipeline(options=PipelineOptions(sys.argv[2:])) as p:
        (p
         | beam.Create([(i % 7, i) for i in range(200)])
         | beam.MapTuple(lambda k, i: (Point(k, 0), Point(i, k))).with_output_types(typehints.KV[Point, Point])
         | beam.GroupByKey()
         | beam.MapTuple(lambda k, ps: "%d %d" % (k.x, sum(p.x for p in ps)))
         | beam.io.WriteToText(out))
'''


def test_custom_coder_carries_elements_between_processes(tmp_path):
    if AGAINST != "beamline":
        pytest.skip("a 2-process timely cluster is beamline's")
    script = tmp_path / "cluster_coder.py"
    script.write_text(CLUSTER_PROGRAM)
    out = str(tmp_path / "sums")
    r = subprocess.run([sys.executable, str(script), out, "--runner=timely", "--processes=2"], cwd=str(tmp_path),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = []
    for f in glob.glob(out + "*"):
        with open(f) as fh:
            lines.extend(fh.read().splitlines())
    expected = {k: sum(i for i in range(200) if i % 7 == k) for k in range(7)}
    assert sorted(lines) == sorted("%d %d" % kv for kv in expected.items())
