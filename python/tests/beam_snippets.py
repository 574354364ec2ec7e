"""Runs Apache Beam's transform snippets (``apache_beam/examples/snippets/transforms``
in the installed apache-beam wheel) twice: as written, and with only
``apache_beam`` changed to ``beamline``; compares what each prints.

    target/py-venv/bin/python python/tests/beam_snippets.py [NAME ...]

Lines compare as multisets, and within a line the order of a grouped list or
of a dict's items is ignored (Beam does not define it either), as are the
random class names Beam gives schema'd rows (``BeamSchema_<uuid>``). Snippets
whose output is random by design (sampling, random numbers, the clock, how
elements fall into batches) must run on both but are not compared. Snippets
that need services or ML libraries are skipped. Exits 1 if any other output
differs. (Not a pytest file: it runs over a hundred pipelines on Beam.)"""

import ast
import contextlib
import glob
import importlib
import inspect
import io
import os
import re
import sys
import types

SKIP = {  # need external services or ML libraries
    "enrichment", "mltransform", "runinference", "runinference_sklearn_keyed_model_handler",
    "runinference_sklearn_unkeyed_model_handler"}
RANDOM = {  # output that differs between two runs of Beam itself
    "sample_fixed_size_globally", "sample_fixed_size_per_key", "map_context", "withtimestamps_processing_time",
    "batchelements", "groupintobatches"}


def run(path, package):
    """``(status, printed text)`` of every snippet function (one taking ``test``) in the file."""
    name = os.path.splitext(os.path.basename(path))[0]
    src = open(path, encoding="utf-8").read()
    if package == "beamline":
        src = src.replace("apache_beam", "beamline")
    module = types.ModuleType("snippet_%s_%s" % (package, name))
    sys.modules[module.__name__] = module
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(src, path, "exec"), module.__dict__)
            fns = [f for f in vars(module).values() if inspect.isfunction(f) and f.__module__ == module.__name__
                   and "test" in inspect.signature(f).parameters]
            if not fns:
                return "no pipeline", ""
            for fn in fns:
                fn()
    except Exception as e:  # noqa: BLE001 - reported
        return "error", "%s: %s" % (type(e).__name__, str(e)[:300])
    return "ok", out.getvalue()


def _canon_value(v):
    if isinstance(v, list):
        return ("list", sorted((_canon_value(x) for x in v), key=repr))
    if isinstance(v, tuple):
        return ("tuple", [_canon_value(x) for x in v])
    if isinstance(v, dict):
        return ("dict", sorted(((repr(_canon_value(k)), _canon_value(x)) for k, x in v.items()), key=repr))
    if isinstance(v, (set, frozenset)):
        return ("set", sorted((_canon_value(x) for x in v), key=repr))
    return v


def canon(line):
    line = re.sub(r"BeamSchema_[0-9a-f_]+\(", "Row(", line).replace("apache_beam", "beamline")
    # Rows as dicts, so that lists of them compare without order.
    line = re.sub(r"Row\(([^()]*)\)", lambda m: "{%s}" % re.sub(r"(\w+)=", r"'\1': ", m.group(1)), line)
    try:
        return repr(_canon_value(ast.literal_eval(line)))
    except (ValueError, SyntaxError):
        return line


def main(argv):
    beam_dir = os.path.dirname(importlib.import_module("apache_beam").__file__)
    root = os.path.join(beam_dir, "examples", "snippets", "transforms")
    files = sorted(p for p in glob.glob(os.path.join(root, "*", "*.py"))
                   if not p.endswith(("_test.py", "__init__.py")))
    if argv:
        files = [f for f in files if any(a in f for a in argv)]
    counts = {"same": 0, "random": 0, "skipped": 0, "no pipeline": 0, "DIFFERENT": 0}
    for path in files:
        name = os.path.splitext(os.path.basename(path))[0]
        rel = os.path.relpath(path, root)
        if name in SKIP:
            counts["skipped"] += 1
            print("skipped    ", rel)
            continue
        (sa, oa), (sb, ob) = run(path, "apache_beam"), run(path, "beamline")
        if sa == sb == "no pipeline":
            verdict = "no pipeline"
        elif sa == sb == "ok" and name in RANDOM:
            verdict = "random"
        elif sa == sb == "ok" and sorted(map(canon, oa.splitlines())) == sorted(map(canon, ob.splitlines())):
            verdict = "same"
        else:
            verdict = "DIFFERENT"
        counts[verdict] += 1
        print("%-11s" % verdict, rel)
        if verdict == "DIFFERENT":
            print("    beam:    ", sa, sorted(oa.splitlines())[:5])
            print("    beamline:", sb, sorted(ob.splitlines())[:5])
    print(", ".join("%s %d" % kv for kv in counts.items()), "of %d snippet files" % len(files))
    return 1 if counts["DIFFERENT"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
