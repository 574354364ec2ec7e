#!/usr/bin/env python3
"""Attributes `perf script` samples of a wordcount-bench run to pipeline stages.

Usage (from the repository root, after a release build):

    perf record -e cpu-clock -F 400 --call-graph dwarf,32768 -o /tmp/wc.data \
        target/release/wordcount-bench --in-process --sizes 64 --reps 1 --no-results --setups direct
    perf script -i /tmp/wc.data | python3 benchmarks/scripts/perf-stages.py [--detail]

(`--in-process`: perf loses the DWARF call stacks of the child processes the
benchmark starts by default.) Each sample goes to the first stage below whose
test matches its call stack; shares are of the samples in the pipeline (the
baseline, the output check and startup are listed apart). `--detail` also
lists each stage's most frequent leaf functions. The stage names follow the
examples' wordcount and the direct runner as of this script's commit.
"""
import collections
import sys


def has(frames, *needles):
    return any(n in f for f in frames for n in needles)


def codec_caller(frames):
    """'emit' or 'process': the executor method a BatchCodec call sits in."""
    for i, f in enumerate(frames):
        if "BatchCodec>::" in f:
            for g in frames[i + 1:]:
                if "Executor::emit" in g:
                    return "emit"
                if "Executor::process" in g:
                    return "process"
            return None
    return None


def compare_in_process(frames):
    """A memcmp whose first non-comparison caller is Executor::process (the immutability check)."""
    if not frames or not any(n in frames[0] for n in ("memcmp", "bcmp", "PartialEq", "SlicePartialEq")):
        return False
    for g in frames[1:]:
        if "Executor::process" in g:
            return True
        if any(n in g for n in ("::eq", "PartialEq", "<alloc::vec::Vec", "core::cmp", "core::slice")):
            continue
        if "beamline" in g or "core::" in g or "alloc::" in g:
            return False
    return False


def drop_in_emit(frames):
    for i, f in enumerate(frames):
        if "drop_in_place<beamline::batch::Batch>" in f:
            for g in frames[i + 1:]:
                if "drop_in_place" not in g:
                    return "Executor::emit" in g
    return False


OUTSIDE = ("baseline (hand-written)", "output check (harness)", "startup / other")
STAGES = [
    ("baseline (hand-written)", lambda f: has(f, "beamline_benchmarks::wordcount::baseline")),
    ("output check (harness)", lambda f: has(f, "Workload>::verify", "sorted_lines")),
    ("check: coder round trip (encode + decode in Executor::emit)", lambda f: codec_caller(f) == "emit"),
    ("check: immutability (re-encode or fingerprint, compare)",
     lambda f: codec_caller(f) == "process" or compare_in_process(f)),
    ("check: coder round trip (freeing the pre-check batch)", drop_in_emit),
    ("check: shuffle", lambda f: any("shuffle" in g.lower() for g in f)),
    ("ReadFromText", lambda f: has(f, "read_lines", "SourceSplit>::read")),
    ("ExtractWords", lambda f: has(f, "ExtractWordsFn")),
    ("PairWithUnit", lambda f: has(f, "PairWithUnit")),
    ("GroupByKey add", lambda f: has(f, "GroupState>::add")),
    ("GroupByKey fire", lambda f: has(f, "GroupState>::fire")),
    ("CombineValues", lambda f: has(f, "CombineValues")),
    ("FormatCounts", lambda f: has(f, "FormatCountsFn")),
    ("WriteToText", lambda f: has(f, "file_sink", "write_to_text")),
    ("freeing consumed batches", lambda f: has(f, "drop_in_place<beamline::batch::Batch>")),
    ("direct runner (other)", lambda f: has(f, "beamline_direct")),
    ("startup / other", lambda f: True),
]


def samples(lines):
    frames = []
    for line in lines:
        if not line.strip():
            if frames:
                yield frames
            frames = []
        elif line[0] in "\t ":
            parts = line.strip().split(" ", 1)
            if len(parts) == 2:
                frames.append(parts[1].split("+0x")[0])
        elif frames:
            yield frames
            frames = []
    if frames:
        yield frames


def main():
    detail = "--detail" in sys.argv[1:]
    counts = collections.Counter()
    leaves = collections.defaultdict(collections.Counter)
    for frames in samples(sys.stdin):
        for name, test in STAGES:
            if test(frames):
                counts[name] += 1
                leaves[name][frames[0][:100]] += 1
                break
    pipeline = sum(c for n, c in counts.items() if n not in OUTSIDE)
    print(f"{sum(counts.values())} samples, {pipeline} in the pipeline")
    for name, _ in STAGES:
        if counts[name]:
            share = "" if name in OUTSIDE else f"{100.0 * counts[name] / max(pipeline, 1):5.1f}%"
            print(f"{counts[name]:7d} {share:>7}  {name}")
            if detail:
                for leaf, n in leaves[name].most_common(6):
                    print(f"{n:15d}  {leaf}")


if __name__ == "__main__":
    main()
