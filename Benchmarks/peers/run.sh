#!/usr/bin/env bash
# Peer benchmark: Accord, Cedar (cedarpy) and OPA's Rego (regopy) on one generated workload.
#   Benchmarks/peers/run.sh [--quick] [--requests N] [--seed S]
# Checks that the three engines agree on every request, then times them. See README.md beside this file.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${TMPDIR:-/tmp}/accord-peers-venv"

if [ ! -x "$venv/bin/python" ]; then
    python=""
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            python="$candidate"
            break
        fi
    done
    if [ -z "$python" ]; then
        echo "run.sh: needs Python 3.11 or later" >&2
        exit 1
    fi
    "$python" -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check cedarpy==4.12.2 regopy==1.5.2

# ACCORD_BIN: another build of accord (CI checks agreement with its debug build; time with a release build).
accord="${ACCORD_BIN:-$root/.build/release/accord}"
if [ ! -x "$accord" ]; then
    (cd "$root" && swift build -c release --product accord)
fi

exec "$venv/bin/python" "$here/peers.py" --accord "$accord" "$@"
