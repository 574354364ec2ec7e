"""Python streaming benchmarks on the timely runner, each run in a process of
its own and checked against a plain computation of the same events:

* the fixed-window count of ``streaming-bench`` (``GenerateSequence``, 1 µs
  of event time apart, 100 ms windows) from Python: built-ins only (a
  windowed ``Count.Globally``: no Python per element) and with a Python
  ``Map`` keying each event (``n % 1000``) before ``Count.PerElement``;
* a Python stateful per-key count (a ``CombiningValueStateSpec(sum)`` cell and
  a timer at the window's end) against ``CombinePerKey(sum)``.

    python benchmarks/python/streaming_bench.py [--events 2000000] [--reps 3] [--workers 1,2]

Prints a markdown table of events/s (median over the repetitions). Compare
with ``streaming-bench`` (Rust, same pipeline) run in the same session."""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

PROGRAM = textwrap.dedent('''
    import sys, time
    import beamline as beam
    from beamline.coders import coders
    from beamline.io import GenerateSequence
    from beamline.transforms import combiners, window
    from beamline.transforms.userstate import CombiningValueStateSpec, TimerSpec, TimeDomain, on_timer

    variant, events, keys, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    flags = sys.argv[5:]


    class StatefulCount(beam.DoFn):
        COUNT = CombiningValueStateSpec("count", sum)
        FLUSH = TimerSpec("flush", TimeDomain.WATERMARK)

        def process(self, kv, count=beam.DoFn.StateParam(COUNT), flush=beam.DoFn.TimerParam(FLUSH),
                    w=beam.DoFn.WindowParam):
            count.add(kv[1])
            flush.set(w.max_timestamp())

        @on_timer(FLUSH)
        def done(self, key=beam.DoFn.KeyParam, count=beam.DoFn.StateParam(COUNT)):
            yield key, count.read()


    def total(counts):
        return sum(counts)


    start = time.perf_counter()
    with beam.Pipeline(argv=flags) as p:
        xs = p | GenerateSequence(0, events, timestamp_spacing=0.000001) | beam.WindowInto(window.FixedWindows(0.1))
        if variant == "builtins":
            counts = xs | combiners.Count.Globally().without_defaults()
        elif variant == "python-map":
            counts = (xs | beam.Map(lambda n: n % keys) | combiners.Count.PerElement()
                      | beam.MapTuple(lambda k, n: n))
        elif variant == "stateful":
            counts = (xs | beam.Map(lambda n: (n % keys, 1)) | beam.ParDo(StatefulCount())
                      | beam.MapTuple(lambda k, n: n))
        elif variant == "combine":
            counts = (xs | beam.Map(lambda n: (n % keys, 1)) | beam.CombinePerKey(sum)
                      | beam.MapTuple(lambda k, n: n))
        (counts | beam.WindowInto(window.GlobalWindows()) | beam.CombineGlobally(sum)
         | beam.io.WriteToText(out, num_shards=1, shard_name_template=""))
    print(time.perf_counter() - start)
''')

VARIANTS = ["builtins", "python-map", "stateful", "combine"]


def run(script, variant, events, keys, workers, tmp):
    out = os.path.join(tmp, "out-%s-%d" % (variant, workers))
    t0 = time.perf_counter()
    # The total over all windows groups the finite stream in the global window.
    r = subprocess.run([sys.executable, script, variant, str(events), str(keys), out, "--runner=timely",
                        "--allow_unsafe_triggers",
                        "--workers=%d" % workers], capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (variant, r.stderr[-2000:]))
    with open(out) as f:
        counted = int(f.read())
    if counted != events:
        raise RuntimeError("%s counted %d events of %d" % (variant, counted, events))
    return float(r.stdout.strip().splitlines()[-1]), wall


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--only", default=",".join(VARIANTS))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="beamline-streaming-bench-") as tmp:
        script = os.path.join(tmp, "pipeline.py")
        with open(script, "w") as f:
            f.write(PROGRAM)
        print("| variant | workers | events | median s (pipeline) | events/s | process s |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for variant in args.only.split(","):
            for workers in [int(w) for w in args.workers.split(",")]:
                runs = [run(script, variant, args.events, args.keys, workers, tmp) for _ in range(args.reps)]
                median = statistics.median(r[0] for r in runs)
                process = statistics.median(r[1] for r in runs)
                print("| %s | %d | %d | %.3f | %.2f M | %.3f |" % (variant, workers, args.events, median,
                                                                    args.events / median / 1e6, process))
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
