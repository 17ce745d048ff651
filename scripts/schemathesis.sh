#!/usr/bin/env bash
# Property-based API testing of the real server against docs/openapi.yaml with Schemathesis (from PyPI, pinned):
# no 5xx, and every response matches the description (status codes, content types, schemas).
#   scripts/schemathesis.sh [SECONDS]     (default 60; .ci/run uses a short bounded pass)
# Builds nothing: uses .build/debug/accord (or ACCORD_BIN). The virtual environment lives in .build/venv-schemathesis.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
binary="${ACCORD_BIN:-.build/debug/accord}"
[ -x "$binary" ] || { echo "no $binary: run swift build first" >&2; exit 2; }
venv=.build/venv-schemathesis
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==4.32.5"
fi
work="$(mktemp -d)"
cp -r policies "$work/policies"
token="schemathesis-token-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
port=$((20000 + RANDOM % 20000))
ACCORD_TOKEN="$token" "$binary" serve --policies "$work/policies" --db "$work/accord.sqlite" --port "$port" --durability normal \
    > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
    sleep 0.1
done
# /admin/reload is left out: reloading the same policies is all it can do, and it is tested on its own.
SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$PWD/scripts" "$venv/bin/schemathesis" run docs/openapi.yaml --url "http://127.0.0.1:$port" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-time "$seconds" --workers 1 --seed 1 --exclude-path /admin/reload --no-color
