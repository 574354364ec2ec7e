#!/usr/bin/env bash
# Makes (once) the Python test environment target/py-venv with the pinned
# python/requirements-dev.txt, and prints its path.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/py-venv
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s python/requirements-dev.txt "$stamp"; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --upgrade pip >&2
  "$venv/bin/pip" install --quiet -r python/requirements-dev.txt >&2
  cp python/requirements-dev.txt "$stamp"
fi
echo "$venv"
