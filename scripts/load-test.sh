#!/usr/bin/env bash
# Load test of `accord serve` on loopback with wrk (Debian's package), audit on: single AuthZEN decisions from
# many connections, then one native request of 100 resources at a time, then /healthz for the HTTP stack alone.
# Prints wrk's figures (requests/s, latency percentiles). Usage: scripts/load-test.sh [DURABILITY] [SECONDS]   (full by default; 15 s each)
# wrk runs one thread: on a 2-core machine every core it uses is one the server does not have.
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
# Not another server left on the port: this one must be up.
kill -0 "$server" 2>/dev/null || { echo "the server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
fresh="$(date -u -d '1 day ago' +%Y-%m-%dT%H:%M:%SZ)"
granted="$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ)"
# Percentiles wrk's --latency does not print (p99.9), and the count.
cat > "$work/percentiles.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("Requests/sec: %.0f  (%d requests, %d non-2xx, %d socket errors)\n", summary.requests / (summary.duration / 1e6),
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  for _, p in ipairs({50, 90, 99, 99.9}) do io.write(string.format("  p%-5s %.2f ms\n", p, latency:percentile(p) / 1000)) end
end
LUA
cat > "$work/single.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"subject":{"type":"user","id":"u-1","properties":{"age":34,"jurisdiction":"EU"}},"action":{"name":"read_online"},"resource":{"type":"feature","id":"clicks_7d","properties":{"collected_at":"$fresh"}},"context":{"purpose":"personalization.recommendations","processing_region":"EU","actor":{"id":"recsys"},"consent":{"grants":[{"scope":"personalization","version":3,"granted_at":"$granted"}]}}}'
LUA
cat "$work/percentiles.lua" >> "$work/single.lua"
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
cat "$work/percentiles.lua" >> "$work/batch.lua"
# The server's own measure of the same requests (handler start to response, from /metrics): the share answered
# within 1, 2 and 10 ms, over the requests since the snapshot named by $1, for the path $2.
snapshot() { curl -s "http://127.0.0.1:$port/metrics" > "$work/$1"; }
served_within() {
  snapshot after
  python3 - "$work/$1" "$work/after" "$2" <<'PY'
import re, sys
def buckets(path, route):
    found = {}
    for line in open(path):
        m = re.match(r'accord_http_request_duration_seconds_bucket\{path="([^"]+)",le="([^"]+)"\} (\d+)', line)
        if m and m.group(1) == route: found[m.group(2)] = int(m.group(3))
    return found
before, after = buckets(sys.argv[1], sys.argv[3]), buckets(sys.argv[2], sys.argv[3])
count = after.get("+Inf", 0) - before.get("+Inf", 0)
share = lambda le: 100.0 * (after.get(le, 0) - before.get(le, 0)) / max(count, 1)
print(f"  server side: {share('0.001'):.2f} % within 1 ms, {share('0.002'):.2f} % within 2 ms, {share('0.01'):.2f} % within 10 ms ({count} requests)")
PY
}
echo "== single AuthZEN decisions, 64 connections, durability $durability"
snapshot before
wrk -t1 -c64 -d"${seconds}s" -s "$work/single.lua" "http://127.0.0.1:$port/access/v1/evaluation" | sed -n '/^Requests\/sec: [0-9]/,$p'
served_within before /access/v1/evaluation
echo "== one request of 100 resources at a time, 1 connection"
snapshot before
wrk -t1 -c1 -d"${seconds}s" -s "$work/batch.lua" "http://127.0.0.1:$port/v1/decide" | sed -n '/^Requests\/sec: [0-9]/,$p'
served_within before /v1/decide
echo "== the same, 4 connections"
snapshot before
wrk -t1 -c4 -d"${seconds}s" -s "$work/batch.lua" "http://127.0.0.1:$port/v1/decide" | sed -n '/^Requests\/sec: [0-9]/,$p'
served_within before /v1/decide
echo "== GET /healthz, for the HTTP stack alone, 64 connections"
wrk -t1 -c64 -d"${seconds}s" -s "$work/percentiles.lua" "http://127.0.0.1:$port/healthz" | sed -n '/^Requests\/sec: [0-9]/,$p'
echo "== recorded: $(curl -s "http://127.0.0.1:$port/v1/audit/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])') decisions; verify: $(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/audit/verify" | python3 -c 'import json,sys; print(json.load(sys.stdin)["intact"])')"
