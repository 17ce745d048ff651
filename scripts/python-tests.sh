#!/usr/bin/env bash
# The Python package (clients/python): a virtual environment with the pinned Feast, pandas, scikit-learn, pytest
# and mypy from PyPI, the package installed from this clone, mypy --strict, and pytest against the real
# `accord serve` (the debug build) and a real Feast repository. `--bench` instead times guarded Feast reads
# (release build). Usage: scripts/python-tests.sh [--bench]
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${ACCORD_PYTHON_VENV:-${TMPDIR:-/tmp}/accord-python-venv}"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install -q --disable-pip-version-check "./clients/python[feast,test]"
if [ "${1:-}" = "--bench" ]; then
    swift build -c release --product accord > /dev/null
    exec "$venv/bin/python" clients/python/benchmarks/online_latency.py "$PWD/.build/release/accord"
fi
swift build --product accord > /dev/null
(cd clients/python && "$venv/bin/python" -m mypy src)
(cd clients/python && ACCORD_BIN="$PWD/../../.build/debug/accord" "$venv/bin/python" -m pytest -q tests)
