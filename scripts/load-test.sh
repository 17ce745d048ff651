#!/usr/bin/env bash
# Load test of `accord serve` on loopback with wrk (Debian's package), audit on: single AuthZEN decisions from
# many connections, then one native request of 100 resources at a time, then /healthz for the HTTP stack alone.
# Prints wrk's figures (requests/s, latency percentiles). Usage: scripts/load-test.sh [DURABILITY] [SECONDS]   (full by default; 15 s each)
set -euo pipefail
cd "$(dirname "$0")/.."
durability="${1:-full}"
seconds="${2:-15}"
command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release --product accord > /dev/null
work="$(mktemp -d)"
port=8189
token="load-test-token-$RANDOM$RANDOM$RANDOM"
ACCORD_TOKEN="$token" .build/release/accord serve --policies policies --db "$work/accord.sqlite" --port "$port" --durability "$durability" > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.1; done
fresh="$(date -u -d '1 day ago' +%Y-%m-%dT%H:%M:%SZ)"
granted="$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ)"
cat > "$work/single.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"subject":{"type":"user","id":"u-1","properties":{"age":34,"jurisdiction":"EU"}},"action":{"name":"read_online"},"resource":{"type":"feature","id":"clicks_7d","properties":{"collected_at":"$fresh"}},"context":{"purpose":"personalization.recommendations","processing_region":"EU","actor":{"id":"recsys"},"consent":{"grants":[{"scope":"personalization","version":3,"granted_at":"$granted"}]}}}'
LUA
features=(clicks_7d clicks_30d views_30d purchases_90d recent_queries city age_bucket age_years interests_topk device_id)
resources=""
for i in $(seq 0 99); do
  resources="$resources{\"feature\":\"${features[$((i % 10))]}\",\"collected_at\":\"$fresh\"},"
done
cat > "$work/batch.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"actor":{"id":"trainer"},"subject":{"id":"u-2","age":30,"jurisdiction":"EU"},"purpose":"model.training","action":"train","resources":[${resources%,}],"context":{"processing_region":"EU"},"consent":{"grants":[{"scope":"personalization","version":3,"granted_at":"$granted"}]}}'
LUA
echo "== single AuthZEN decisions, 64 connections, durability $durability"
wrk -t2 -c64 -d"${seconds}s" --latency -s "$work/single.lua" "http://127.0.0.1:$port/access/v1/evaluation" | grep -E "Requests/sec|50%|90%|99%|Non-2xx|Socket errors"
echo "== one request of 100 resources at a time, 1 connection"
wrk -t1 -c1 -d"${seconds}s" --latency -s "$work/batch.lua" "http://127.0.0.1:$port/v1/decide" | grep -E "Requests/sec|50%|90%|99%|Non-2xx|Socket errors"
echo "== the same, 4 connections"
wrk -t2 -c4 -d"${seconds}s" --latency -s "$work/batch.lua" "http://127.0.0.1:$port/v1/decide" | grep -E "Requests/sec|50%|90%|99%|Non-2xx|Socket errors"
echo "== GET /healthz, for the HTTP stack alone, 64 connections"
wrk -t2 -c64 -d"${seconds}s" --latency "http://127.0.0.1:$port/healthz" | grep -E "Requests/sec|50%|99%"
echo "== recorded: $(curl -s "http://127.0.0.1:$port/v1/audit/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])') decisions; verify: $(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/audit/verify" | python3 -c 'import json,sys; print(json.load(sys.stdin)["intact"])')"
