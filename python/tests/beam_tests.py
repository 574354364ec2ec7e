"""Runs Apache Beam's own tests of the streaming API (from the installed
apache-beam wheel) with their ``apache_beam`` imports answered by beamline:

    target/py-venv/bin/python python/tests/beam_tests.py [--runner=direct|timely] [FILE ...]

Each test file is copied with ``apache_beam`` replaced by ``beamline``. A
``beamline.X`` module that beamline does not have (Beam's runner internals,
protos, ...) is Beam's own ``apache_beam.X``, and so is a name a beamline
module lacks (Beam's trigger driver, ...), so that a file whose other tests
use beamline still imports; tests of those internals then run Beam's code on
beamline's objects, and mostly fail. Every pipeline runs on the runner given (Beam's
``DirectRunner`` and ``TestPipeline`` included). Prints, per file, how many
tests passed, failed, and could not apply (the file does not import, or a
test errors in setup), with the failures' first lines; exits 0. (Not a pytest
file: it runs pytest on Beam's files.)"""

import argparse
import importlib
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

FILES = ["transforms/trigger_test.py", "transforms/userstate_test.py", "testing/test_stream_test.py",
         "examples/snippets/snippets_test.py"]

# Modules a test file imports from beside it, copied (as beamline) along with it.
COMPANIONS = {"examples/snippets/snippets_test.py": [
    "examples/snippets/snippets.py", "examples/snippets/snippets_examples_wordcount_debugging.py",
    "examples/snippets/snippets_examples_wordcount_minimal.py",
    "examples/snippets/snippets_examples_wordcount_wordcount.py"]}
# Of the snippets, those of windowing, triggers and streaming.
SELECT = {"examples/snippets/snippets_test.py": "trigger or setting_ or streaming"}

CONFTEST = '''
import importlib
import importlib.abc
import importlib.util
import os
import sys


class _BeamFallback(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """beamline.X that beamline lacks: Beam's apache_beam.X."""

    def find_spec(self, name, path=None, target=None):
        if not name.startswith("beamline."):
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            try:
                spec = finder.find_spec(name, path, target)
            except Exception:
                spec = None
            if spec is not None:
                return None
        try:
            beam_spec = importlib.util.find_spec("apache_beam." + name[len("beamline."):])
        except Exception:
            return None
        if beam_spec is None:
            return None
        return importlib.util.spec_from_loader(name, self, is_package=beam_spec.submodule_search_locations is not None)

    def create_module(self, spec):
        return importlib.import_module("apache_beam." + spec.name[len("beamline."):])

    def exec_module(self, module):
        pass


sys.meta_path.append(_BeamFallback())

import beamline.options.pipeline_options as _po
import beamline.testing.test_stream  # noqa: F401  (modules whose missing names fall back, below)
import beamline.transforms.userstate  # noqa: F401


def _fallback(module_name):
    beam_name = "apache_beam" + module_name[len("beamline"):]

    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            beam_module = importlib.import_module(beam_name)
        except ImportError:
            raise AttributeError(name) from None
        return getattr(beam_module, name)

    return __getattr__


for _name, _module in list(sys.modules.items()):
    if (_name == "beamline" or _name.startswith("beamline.")) and _module is not None \
            and "__getattr__" not in vars(_module):
        _module.__getattr__ = _fallback(_name)

_runner = os.environ["BEAMLINE_BEAM_TESTS_RUNNER"]
_po._runner_name = lambda runner: _runner
'''


# Tests of Beam's internals, which beamline does not have (they run Beam's own
# code on beamline's objects): counted as not applicable, with the reason.
NOT_APPLICABLE = [
    (r"^TriggerTest\.", "Beam's Python trigger driver (GeneralTriggerDriver) run directly; beamline's triggers "
                         "run in the Rust engine"),
    (r"^RunnerApiTest\.|proto|to_runner_api|from_runner_api", "Beam's runner API protos"),
    (r"^InterfaceTest\.(test_bad_signatures|test_good_signatures|test_validate_dofn)",
     "Beam's DoFnSignature (apache_beam.runners.common) on beamline DoFns"),
    (r"with_service|TestStreamService", "Beam's TestStream gRPC service"),
    (r"WindowedValueHolder|windowed_value_holder|windowed_values_interpreted",
     "Beam's internal WindowedValueHolder"),
    (r"^ReverseTestStreamTest\.", "Beam's interactive ReverseTestStream"),
]


def _not_applicable(label, message):
    for pattern, reason in NOT_APPLICABLE:
        if re.search(pattern, label) or re.search(pattern, message or ""):
            return reason
    return None


def _as_beamline(beam_dir, rel, companions):
    with open(os.path.join(beam_dir, rel), encoding="utf-8") as f:
        src = f.read().replace("apache_beam", "beamline")
    for c in companions:
        module = os.path.splitext(c)[0].replace("/", ".")
        package, short = module.rsplit(".", 1)
        src = re.sub(r"from beamline\.%s import %s\b" % (re.escape(package), short),
                     "import beam_%s as %s" % (short, short), src)
    return src


def run_file(beam_dir, rel, runner, tmp):
    companions = COMPANIONS.get(rel, [])
    for c in companions:
        with open(os.path.join(tmp, "beam_" + os.path.basename(c)), "w", encoding="utf-8") as f:
            f.write(_as_beamline(beam_dir, c, []))
    name = "beam_" + os.path.basename(rel)
    with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
        f.write(_as_beamline(beam_dir, rel, companions))
    xml = os.path.join(tmp, name + ".xml")
    env = dict(os.environ, BEAMLINE_BEAM_TESTS_RUNNER=runner,
               BEAMLINE_TEST_PIPELINE_ARGS="--runner=%s" % runner)
    select = ["-k", SELECT[rel]] if rel in SELECT else []
    counts = {"passed": 0, "failed": 0, "not applicable": 0, "skipped": 0}
    failures = []
    try:
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "filterwarnings=",
                        "-o", "addopts=", "--rootdir", tmp, "--junitxml", xml, name] + select,
                       cwd=tmp, env=env, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        failures.append("the file's tests ran past 900 s")
    if not os.path.exists(xml):
        return counts, ["no report"]
    for case in ET.parse(xml).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        label = "%s.%s" % (case.get("classname", "").split(".")[-1], case.get("name"))
        if "skipped" in kinds:
            counts["skipped"] += 1
        elif "error" in kinds:
            counts["not applicable"] += 1
            msg = next(c for c in case if c.tag == "error").get("message", "")
            failures.append("N/A  %s: %s" % (label, msg.splitlines()[0][:160] if msg else ""))
        elif "failure" in kinds:
            msg = next(c for c in case if c.tag == "failure").get("message", "")
            reason = _not_applicable(label, msg)
            if reason:
                counts["not applicable"] += 1
                failures.append("N/A  %s: %s" % (label, reason))
            else:
                counts["failed"] += 1
                failures.append("FAIL %s: %s" % (label, msg.splitlines()[0][:160] if msg else ""))
        else:
            counts["passed"] += 1
    return counts, failures


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--runner", default="direct")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("files", nargs="*", default=FILES)
    args = parser.parse_args(argv)
    beam_dir = os.path.dirname(importlib.import_module("apache_beam").__file__)
    with tempfile.TemporaryDirectory(prefix="beamline-beam-tests-") as tmp:
        with open(os.path.join(tmp, "conftest.py"), "w", encoding="utf-8") as f:
            f.write(CONFTEST)
        total = {}
        for rel in args.files:
            counts, failures = run_file(beam_dir, rel, args.runner, tmp)
            print("%s on %s: %s" % (rel, args.runner, ", ".join("%d %s" % (v, k) for k, v in counts.items())))
            if args.verbose:
                for line in failures:
                    print("    " + re.sub(r"\s+", " ", line))
            for k, v in counts.items():
                total[k] = total.get(k, 0) + v
        print("total on %s: %s" % (args.runner, ", ".join("%d %s" % (v, k) for k, v in total.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
