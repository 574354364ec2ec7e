"""The Rust conformance suite's cases, ported to Beam's Python API, on every
runner column; an unfiltered run writes conformance-tests/python-results.json."""

import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from _beam import COLUMNS, ON_BEAM, PipelineOptions, beam  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SUITE = os.path.join(REPO, "conformance-tests", "src", "suite")
RESULTS = os.path.join(REPO, "conformance-tests", "python-results.json")


def rust_case_names():
    """Every `Test::new("name", ...)` of the Rust suite, in file order."""
    names = []
    for f in sorted(os.listdir(SUITE)):
        if f.endswith(".rs"):
            with open(os.path.join(SUITE, f), encoding="utf-8") as fh:
                text = fh.read()
            names += re.findall(r'Test::new\(\s*"([^"]+)"', text)
            # random*.rs: `Test::new(format!("random_pipeline_{seed:02}"), ...)` for seed in 0..CASES.
            # The count is the constant of the `(0..CASES).map(|seed| ...)` before it.
            families = r'\(0\.\.(\w+)\)\.map\(\|seed\|.*?Test::new\(format!\("(\w+)_\{seed:02\}"\)'
            for const, family in re.findall(families, text, re.S):
                cases = int(re.search(r"const %s: u64 = (\d+);" % const, text).group(1))
                names += ["%s_%02d" % (family, i) for i in range(cases)]
    return names


class Run:
    """One cell: a column's runner flags, pipelines on it, and per-column xfails."""

    def __init__(self, column, flags, request):
        self.column = column
        self.flags = flags
        self.request = request

    def pipeline(self, extra=()):
        return beam.Pipeline(options=PipelineOptions(list(self.flags) + list(extra)))

    def xfail(self, reason, columns=None):
        """Marks this cell an expected failure (a beamline bug) on ``columns`` (all when None)."""
        if ON_BEAM:
            return
        if columns is None or self.column in columns:
            self.request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


@pytest.fixture(params=COLUMNS, ids=[c for c, _ in COLUMNS])
def run(request, monkeypatch):
    column, flags = request.param
    monkeypatch.setenv("BEAMLINE_TEST_PIPELINE_ARGS", " ".join(flags))
    return Run(column, flags, request)


_results = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    callspec = getattr(item, "callspec", None)
    if callspec is None or "run" not in callspec.params:
        return
    case = item.originalname[len("test_"):]
    column = callspec.params["run"][0]
    cell = _results.setdefault(case, {})
    if report.when == "call":
        # The case's own outcome: an expected failure (xfail) is a FAIL of the cell, and a body that
        # passed is a pass even when pytest fails it as an unexpected pass (XPASS strict).
        cell[column] = "pass" if call.excinfo is None else "FAIL"
    elif report.failed or report.skipped:
        cell[column] = "FAIL"


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if ON_BEAM or config.option.keyword or config.option.markexpr or session.shouldstop:
        return
    from not_applicable import NOT_APPLICABLE

    ported = _ported_cases()
    columns = [c for c, _ in COLUMNS]
    if not ported or any(set(_results.get(c, {})) != set(columns) for c in ported):
        return  # not the whole conformance run
    results, reasons = {}, {}
    for name in rust_case_names():
        if name in ported:
            results[name] = {c: _results[name][c] for c in columns}
        elif name in NOT_APPLICABLE:
            results[name] = {c: "n/a" for c in columns}
            reasons[name] = NOT_APPLICABLE[name]
    with open(RESULTS + ".tmp", "w", encoding="utf-8") as f:
        json.dump({"columns": columns, "results": results, "reasons": reasons}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(RESULTS + ".tmp", RESULTS)


def _ported_cases():
    """Names of the cases the collected test modules port (test_<case> taking ``run``)."""
    import importlib
    import inspect

    names = set()
    here = os.path.dirname(__file__)
    for f in sorted(os.listdir(here)):
        if f.startswith("test_") and f.endswith(".py"):
            mod = importlib.import_module(f[:-3])
            for n, fn in vars(mod).items():
                if n.startswith("test_") and callable(fn) and "run" in inspect.signature(fn).parameters:
                    names.add(n[len("test_"):])
    return names
