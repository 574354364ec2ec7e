"""examples/python/wordcount.py as users run it: a whole process, on every
runner and on a 2-process timely cluster, compared with the same file run
under apache-beam (only its first import changed) and with a plain count."""

import collections
import glob
import os
import re
import subprocess
import sys
import textwrap

import pytest

from .compat import BEAM

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE = os.path.join(ROOT, "examples", "python", "wordcount.py")
SONNETS = os.path.join(ROOT, "examples", "data", "sonnets.txt")

pytestmark = pytest.mark.skipif(BEAM, reason="runs beamline's own example program against apache-beam itself")


def _run(script, *args, cwd):
    return subprocess.run([sys.executable, script, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def _lines(prefix):
    out = []
    for f in sorted(glob.glob(prefix + "*")):
        with open(f, encoding="utf-8") as fh:
            out.extend(fh.read().splitlines())
    return sorted(out)


@pytest.fixture(scope="module")
def beam_lines(tmp_path_factory):
    """The lines apache-beam writes for the same program."""
    tmp = tmp_path_factory.mktemp("beam-wordcount")
    with open(EXAMPLE, encoding="utf-8") as f:
        source = f.read()
    as_beam = source.replace("import beamline as beam", "import apache_beam as beam").replace(
        "from beamline.", "from apache_beam.")
    assert as_beam != source
    script = tmp / "wordcount_beam.py"
    script.write_text(as_beam)
    r = _run(str(script), "--input", SONNETS, "--output", str(tmp / "counts"), cwd=tmp)
    assert r.returncode == 0, r.stderr
    return _lines(str(tmp / "counts"))


def _plain_counts():
    with open(SONNETS, encoding="utf-8") as f:
        words = re.findall(r"[\w\']+", f.read(), re.UNICODE)
    return sorted("%s: %d" % kv for kv in collections.Counter(words).items())


@pytest.mark.parametrize("flags", [
    [], ["--runner=rayon", "--workers=1"], ["--runner=rayon", "--workers=2"], ["--runner=timely", "--workers=1"],
    ["--runner=timely", "--workers=2"], ["--runner=timely", "--processes=2"],
], ids=["direct", "rayon-1", "rayon-2", "timely-1", "timely-2", "timely-2-processes"])
def test_wordcount_example_writes_beams_lines(flags, tmp_path, beam_lines):
    r = _run(EXAMPLE, "--output", str(tmp_path / "counts"), *flags, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = _lines(str(tmp_path / "counts"))
    assert lines == beam_lines
    assert lines == _plain_counts()


def test_wordcount_example_on_a_missing_input_fails_with_one_message(tmp_path):
    r = _run(EXAMPLE, "--input", str(tmp_path / "nope-*.txt"), "--output", str(tmp_path / "counts"), cwd=tmp_path)
    assert r.returncode != 0
    assert "No files found based on the file pattern" in r.stderr
    assert not glob.glob(str(tmp_path / "counts*"))


def test_an_exception_on_a_cluster_is_raised_by_the_driver(tmp_path):
    script = tmp_path / "fails.py"
    script.write_text(textwrap.dedent("""
        import sys
        import beamline as beam
        from beamline.options.pipeline_options import PipelineOptions

        def bad(x):
            if x == 3:
                raise ValueError("three is bad")
            return x

        try:
            with beam.Pipeline(options=PipelineOptions(sys.argv[1:])) as p:
                p | beam.Create(list(range(10))) | "Bad" >> beam.Map(bad)
        except ValueError as e:
            print("caught %s: %s" % (type(e).__name__, e))
            sys.exit(7)
    """))
    r = _run(str(script), "--runner=timely", "--processes=2", cwd=tmp_path)
    # The driver (and the worker that failed) raise the user's ValueError with the step's label.
    assert r.returncode == 7, r.stdout + r.stderr
    assert "caught ValueError: three is bad [while running 'Bad']" in r.stdout.splitlines()[-1]
