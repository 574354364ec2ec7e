#!/usr/bin/env bash
# The Python wordcount benchmark: beamline's Python SDK against apache-beam's
# DirectRunner, bytewax and a plain collections.Counter, on the Zipf corpus
# of wordcount-bench.
#
#   benchmarks/python/run.sh [--size MB] [--reps N] [--slow-reps N] [--only NAMES] [--setup-only]
#
# --size: corpus size in MiB (default 64); --reps: repetitions of the beamline
# runs and the Counter floor (default 3); --slow-reps: repetitions of the
# apache-beam and bytewax runs (default 1; they take minutes each);
# --only: comma-separated variant names (see bench.py --list).
#
# Makes (once) its own venv target/bench-py-venv with apache-beam, bytewax and
# beamline (`pip install ./python`: a release build of the working tree),
# generates the corpus with wordcount-bench --prepare-only under
# target/bench-py-data, then runs bench.py, which runs every program as a
# whole process, checks every output against a Counter of the corpus and
# prints the markdown report (also written to target/bench-py-data/report.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

size=64
reps=3
slow_reps=1
only=""
setup_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift 2 ;;
    --size=*) size=${1#*=}; shift ;;
    --reps) reps=$2; shift 2 ;;
    --reps=*) reps=${1#*=}; shift ;;
    --slow-reps) slow_reps=$2; shift 2 ;;
    --slow-reps=*) slow_reps=${1#*=}; shift ;;
    --only) only=$2; shift 2 ;;
    --only=*) only=${1#*=}; shift ;;
    --setup-only) setup_only=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (valid: --size MB, --reps N, --slow-reps N, --only NAMES, --setup-only)" >&2; exit 2 ;;
  esac
done

# Pinned: apache-beam as in python/requirements-dev.txt; bytewax 0.21.1 is the
# newest release and has a cp311 manylinux wheel.
APACHE_BEAM=apache-beam==2.77.0
BYTEWAX=bytewax==0.21.1
venv=target/bench-py-venv
data=target/bench-py-data
stamp="$venv/.bench-requirements"
wanted="$APACHE_BEAM $BYTEWAX"

if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "== making $venv ($wanted)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip >&2
  "$venv/bin/pip" install --quiet "$APACHE_BEAM" "$BYTEWAX" >&2
  echo "$wanted" > "$stamp"
fi
# beamline: always reinstalled, so the figures are those of the tree as it is
# (cargo rebuilds only what changed).
echo "== pip install ./python (release build)" >&2
"$venv/bin/pip" install --quiet "cloudpickle>=3" >&2
"$venv/bin/pip" install --quiet --force-reinstall --no-deps ./python >&2

echo "== corpus: ${size} MiB" >&2
cargo run --quiet --release -p beamline-benchmarks --bin wordcount-bench -- \
  --sizes "$size" --prepare-only --no-results --data-dir "$data" >&2
corpus=$(ls "$data"/zipf-*-$((size << 20)).txt)

[ "$setup_only" = 1 ] && exit 0

args=(--corpus "$corpus" --reps "$reps" --slow-reps "$slow_reps" --work "$data/runs" --report "$data/report.md")
[ -n "$only" ] && args+=(--only "$only")
exec "$venv/bin/python" benchmarks/python/bench.py "${args[@]}"
