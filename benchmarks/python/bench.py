"""Runs the Python wordcount programs as whole processes, checks every output
and prints a markdown report of medians and ratios (see run.sh).

    python bench.py --corpus FILE [--reps 3] [--slow-reps 1] [--only a,b] [--work DIR] [--report FILE]
    python bench.py --list

Repetitions are interleaved (rep 1 of every variant, then rep 2, ...), so that
a change of the machine's load hits all variants alike. A run that exits
non-zero or whose output differs from a Counter of the corpus is an error,
reported with its command and the tail of its stderr, never a number.
"""

import argparse
import collections
import datetime
import glob
import importlib.metadata
import os
import pickle
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = sys.executable


class Variant:
    def __init__(self, name, group, system, argv, slow=False, note="", check=True):
        self.name = name
        self.check = check  # False: writes nothing (the start-up cost only)
        self.group = group  # "callables", "builtins" or "floor"
        self.system = system
        self.argv = argv  # function (input, output prefix) -> argv
        self.slow = slow
        self.note = note


def _beam(program, sdk, *flags):
    script = os.path.join(HERE, program)
    return lambda inp, out: [PY, script, "--sdk=%s" % sdk, "--input", inp, "--output", out] + list(flags)


def _counter(inp, out):
    return [PY, os.path.join(HERE, "wordcount_counter.py"), "--input", inp, "--output", out]


def _bytewax(inp, out):
    return [PY, "-m", "bytewax.run", "wordcount_bytewax:get_flow(%r, %r)" % (inp, out)]


def _import(module):
    return lambda inp, out: [PY, "-c", "import %s" % module]


VARIANTS = [
    Variant("import-beamline", "startup", "beamline", _import("beamline"), check=False),
    Variant("import-apache-beam", "startup", "apache-beam", _import("apache_beam"), check=False),
    Variant("counter", "floor", "plain Python", _counter, note="collections.Counter, line by line"),
    Variant("beamline-callables-direct", "callables", "beamline", _beam("wordcount_callables.py", "beamline",
                                                                         "--runner=direct")),
    Variant("beamline-callables-rayon-1", "callables", "beamline", _beam("wordcount_callables.py", "beamline",
                                                                          "--runner=rayon", "--workers=1")),
    Variant("beamline-callables-timely-1", "callables", "beamline", _beam("wordcount_callables.py", "beamline",
                                                                           "--runner=timely", "--workers=1")),
    Variant("beamline-callables-rayon-2", "callables", "beamline", _beam("wordcount_callables.py", "beamline",
                                                                          "--runner=rayon", "--workers=2")),
    Variant("beamline-callables-timely-2", "callables", "beamline", _beam("wordcount_callables.py", "beamline",
                                                                           "--runner=timely", "--workers=2")),
    Variant("beamline-callables-timely-2p", "callables", "beamline", _beam("wordcount_callables.py", "beamline",
                                                                            "--runner=timely", "--processes=2")),
    Variant("beamline-builtins-direct", "builtins", "beamline", _beam("wordcount_builtins.py", "beamline",
                                                                       "--runner=direct")),
    Variant("beamline-builtins-rayon-1", "builtins", "beamline", _beam("wordcount_builtins.py", "beamline",
                                                                        "--runner=rayon", "--workers=1")),
    Variant("beamline-builtins-timely-1", "builtins", "beamline", _beam("wordcount_builtins.py", "beamline",
                                                                         "--runner=timely", "--workers=1")),
    Variant("beamline-builtins-rayon-2", "builtins", "beamline", _beam("wordcount_builtins.py", "beamline",
                                                                        "--runner=rayon", "--workers=2")),
    Variant("apache-beam-callables", "callables", "apache-beam", _beam("wordcount_callables.py", "apache_beam",
                                                                        "--runner=DirectRunner"), slow=True),
    Variant("apache-beam-builtins", "builtins", "apache-beam", _beam("wordcount_builtins.py", "apache_beam",
                                                                      "--runner=DirectRunner"), slow=True),
    Variant("bytewax-callables", "callables", "bytewax", _bytewax, slow=True, note="1 worker"),
]

LINE = re.compile(r"^\('((?:[^'\\]|\\.)*)', (\d+)\)$")


def expected_counts(corpus, work):
    """The Counter of the corpus (cached next to the runs, keyed by the corpus's size and mtime)."""
    st = os.stat(corpus)
    cache = os.path.join(work, "expected-%s-%d-%d.pickle" % (os.path.basename(corpus), st.st_size, st.st_mtime_ns))
    if os.path.exists(cache):
        with open(cache, "rb") as f:
            return pickle.load(f)
    # In a child process: this one forks every measured run, and a child's max RSS counts the pages it
    # was forked with, so this process must stay small.
    code = ("import collections, pickle, sys\n"
            "counts = collections.Counter(open(sys.argv[1], encoding='utf-8').read().split())\n"
            "pickle.dump(counts, open(sys.argv[2], 'wb'))\n")
    subprocess.run([PY, "-c", code, corpus, cache + ".tmp"], check=True)
    os.replace(cache + ".tmp", cache)
    with open(cache, "rb") as f:
        return pickle.load(f)


def check_output(prefix, expected):
    """None when the files ``prefix*`` hold exactly the expected counts, else what is wrong."""
    files = sorted(glob.glob(prefix + "*"))
    if not files:
        return "no output file %s*" % prefix
    got = {}
    for path in files:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                m = LINE.match(line.rstrip("\n"))
                if m is None:
                    return "%s:%d: not a (word, count) line: %r" % (path, n, line[:80])
                word = m.group(1)
                if word in got:
                    return "%s:%d: %r appears twice" % (path, n, word)
                got[word] = int(m.group(2))
    if got == expected:
        return None
    missing = [w for w in expected if w not in got]
    extra = [w for w in got if w not in expected]
    wrong = [w for w in got if w in expected and got[w] != expected[w]]
    return ("%d words, %d words expected: %d missing (e.g. %r), %d extra (e.g. %r), %d with a wrong count (e.g. %s)"
            % (len(got), len(expected), len(missing), missing[:3], len(extra), extra[:3], len(wrong),
               ["%s: %d not %d" % (w, got[w], expected[w]) for w in wrong[:3]]))


def run_once(variant, corpus, run_dir, expected):
    """One run: wall time, CPU time (the process and its waited-for children), max RSS, error."""
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    out = os.path.join(run_dir, "counts")
    argv = variant.argv(corpus, out)
    env = dict(os.environ, PYTHONPATH=HERE)
    load_before = os.getloadavg()[0]
    with open(os.path.join(run_dir, "stdout"), "wb") as so, open(os.path.join(run_dir, "stderr"), "wb") as se:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=so, stderr=se, env=env, cwd=run_dir)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024.0,
              "load": load_before, "argv": argv, "error": None}
    if proc.returncode != 0:
        with open(os.path.join(run_dir, "stderr"), errors="replace") as f:
            tail = f.read()[-3000:]
        result["error"] = "exit status %d; stderr ends:\n%s" % (proc.returncode, tail)
    elif variant.check:
        wrong = check_output(out, expected)
        if wrong is not None:
            result["error"] = "wrong output: " + wrong
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
    else:
        shutil.rmtree(run_dir, ignore_errors=True)
    return result


def _git(*args):
    try:
        return subprocess.run(["git"] + list(args), cwd=ROOT, capture_output=True, text=True, check=True).stdout.rstrip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def fmt_ratio(x):
    return "%.1fx" % x if x >= 10 else "%.2fx" % x


def report(args, variants, results, started, loads, corpus_words):
    med = {}
    for v in variants:
        ok = [r for r in results[v.name] if r["error"] is None]
        if ok and len(ok) == len(results[v.name]):
            med[v.name] = {k: statistics.median(r[k] for r in ok) for k in ("wall", "cpu", "rss_mb")}
            med[v.name]["min"] = min(r["wall"] for r in ok)
            med[v.name]["max"] = max(r["wall"] for r in ok)
    size = os.path.getsize(args.corpus)
    # What the build of beamline (pip install ./python) saw that the commit does not have.
    dirty = _git("status", "--porcelain", "--", "python/src", "python/beamline", "python/Cargo.toml",
                 "python/pyproject.toml", "sdk/src", "runners", "Cargo.toml", "Cargo.lock")
    out = []
    w = out.append
    w("## Run of %s" % started.strftime("%Y-%m-%d %H:%M UTC"))
    w("")
    w("- command: `%s` (what `benchmarks/python/run.sh --size %d --reps %d --slow-reps %d%s` runs after its setup)"
      % (" ".join(shlex.quote(a) for a in ["python", os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)]
                  + sys.argv[1:]), round(size / 2**20), args.reps, args.slow_reps,
         " --only %s" % args.only if args.only else ""))
    w("- commit %s%s" % (_git("rev-parse", "--short", "HEAD"),
                        " (the build saw uncommitted changes to %s)"
                        % ", ".join(sorted({l[3:] for l in dirty.splitlines()})) if dirty else ""))
    w("- corpus %s: %.1f MiB, %d words, %d distinct" % (os.path.basename(args.corpus), size / 2**20, corpus_words[0],
                                                       corpus_words[1]))
    w("- machine: %s, %d cores; Python %s; apache-beam %s, bytewax %s, beamline %s"
      % (_cpu_model(), os.cpu_count(), platform.python_version(), _version("apache-beam"), _version("bytewax"),
         _version("beamline")))
    w("- load average (1/5/15 min) at start %s, at end %s; the 1-minute load at the start of each run is in the "
      "table" % ("/".join("%.2f" % x for x in loads[0]), "/".join("%.2f" % x for x in loads[1])))
    w("- wall time of the whole process (interpreter start, imports, pipeline, output), median of the reps; CPU is "
      "user+sys of the process and its children; every output checked equal to a Counter of the corpus")
    w("")
    w("| variant | reps | median s | min-max s | M words/s | CPU s | max RSS MiB | load | vs counter |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    floor = med.get("counter", {}).get("wall")
    for v in variants:
        rs = results[v.name]
        if not rs:
            continue
        loads_v = "/".join("%.1f" % r["load"] for r in rs)
        if v.name not in med:
            w("| %s | %d | ERROR | | | | | %s | |" % (v.name, len(rs), loads_v))
            continue
        m = med[v.name]
        rate = "%.2f" % (corpus_words[0] / m["wall"] / 1e6) if v.check else ""
        vs = fmt_ratio(floor / m["wall"]) if floor and v.check else ""
        w("| %s | %d | %.2f | %.2f-%.2f | %s | %.2f | %.0f | %s | %s |"
          % (v.name, len(rs), m["wall"], m["min"], m["max"], rate, m["cpu"], m["rss_mb"], loads_v, vs))
    w("")
    w("`vs counter`: the Counter's time / the variant's time (above 1: faster than plain Python). `import-*`: the "
      "interpreter's start and the SDK's import alone (nothing run, nothing checked).")
    w("")

    def ratio(slow, fast):
        if slow in med and fast in med:
            return med[slow]["wall"] / med[fast]["wall"]
        return None

    w("| goal | measured | goal | met |")
    w("|---|---:|---:|---|")

    def goal(label, slow, fast, target):
        r = ratio(slow, fast)
        if r is None:
            w("| %s | not measured / error | %s | - |" % (label, fmt_ratio(target) if target else ""))
        elif target is None:
            w("| %s | %s | | |" % (label, fmt_ratio(r)))
        else:
            w("| %s | %s | %s | %s |" % (label, fmt_ratio(r), fmt_ratio(target), "met" if r >= target else "NOT met"))

    for runner in ("direct", "rayon-1", "timely-1"):
        goal("callables: apache-beam / beamline %s" % runner, "apache-beam-callables",
             "beamline-callables-" + runner, 10)
    for runner in ("direct", "rayon-1", "timely-1"):
        goal("callables: bytewax / beamline %s" % runner, "bytewax-callables", "beamline-callables-" + runner, 5)
    for runner in ("direct", "rayon-1", "timely-1", "rayon-2"):
        goal("built-ins: apache-beam / beamline %s" % runner, "apache-beam-builtins", "beamline-builtins-" + runner, 50)
    goal("callables scaling: timely 1 process / 2 processes", "beamline-callables-timely-1",
         "beamline-callables-timely-2p", None)
    goal("callables scaling: rayon 1 thread / 2 threads", "beamline-callables-rayon-1",
         "beamline-callables-rayon-2", None)
    goal("callables scaling: timely 1 thread / 2 threads", "beamline-callables-timely-1",
         "beamline-callables-timely-2", None)
    goal("built-ins scaling: rayon 1 thread / 2 threads", "beamline-builtins-rayon-1", "beamline-builtins-rayon-2",
         None)
    errors = [(v, r) for v in variants for r in results[v.name] if r["error"] is not None]
    if errors:
        w("")
        w("### Errors")
        for v, r in errors:
            w("")
            w("- %s: `%s`" % (v.name, " ".join(shlex.quote(a) for a in r["argv"])))
            w("")
            w("```")
            w(r["error"].rstrip())
            w("```")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--slow-reps", type=int, default=1)
    p.add_argument("--only", default="")
    p.add_argument("--work", default=os.path.join(ROOT, "target", "bench-py-data", "runs"))
    p.add_argument("--report")
    p.add_argument("--list", action="store_true")
    args = p.parse_args()
    if args.list:
        for v in VARIANTS:
            print(v.name)
        return 0
    if not args.corpus:
        p.error("--corpus is required")
    args.corpus = os.path.abspath(args.corpus)
    args.work = os.path.abspath(args.work)
    variants = VARIANTS
    if args.only:
        names = args.only.split(",")
        unknown = [n for n in names if n not in {v.name for v in VARIANTS}]
        if unknown:
            p.error("unknown variant(s) %s; valid: %s" % (unknown, ", ".join(v.name for v in VARIANTS)))
        variants = [v for v in VARIANTS if v.name in names]
    os.makedirs(args.work, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = os.getloadavg()
    expected = expected_counts(args.corpus, args.work)
    corpus_words = (sum(expected.values()), len(expected))
    results = {v.name: [] for v in variants}
    for rep in range(max(args.reps, args.slow_reps)):
        for v in variants:
            if rep >= (args.slow_reps if v.slow else args.reps):
                continue
            r = run_once(v, args.corpus, os.path.join(args.work, "%s-%d" % (v.name, rep + 1)), expected)
            results[v.name].append(r)
            print("rep %d %-30s %8.2f s  cpu %7.2f s  rss %6.0f MiB  load %.2f  %s"
                  % (rep + 1, v.name, r["wall"], r["cpu"], r["rss_mb"], r["load"],
                     "ok" if r["error"] is None else "ERROR " + r["error"].splitlines()[0]),
                  file=sys.stderr, flush=True)
    text = report(args, variants, results, started, (load_start, os.getloadavg()), corpus_words)
    print(text)
    if args.report:
        with open(args.report, "w") as f:
            f.write(text)
    return 1 if any(r["error"] for rs in results.values() for r in rs) else 0


if __name__ == "__main__":
    sys.exit(main())
