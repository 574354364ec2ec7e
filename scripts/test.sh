#!/usr/bin/env bash
# Every test of the project: the command README.md gives and CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace

echo "== python: the test environment"
venv=$(scripts/python-env.sh)
echo "== python: pip install ./python"
"$venv/bin/pip" install --quiet ./python
echo "== python: the stubs match the native module"
"$venv/bin/python" scripts/check-stubs.py
echo "== python: pytest"
# The pytest script, not `python -m pytest`: the installed package is the one tested,
# not the source folder beside the tests.
(cd python && "../$venv/bin/pytest" -q tests)
