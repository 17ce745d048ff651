#!/usr/bin/env bash
# Builds Tests/Fixtures/pia/: the small, fixed audit trail the PIA golden tests read (committed: its keys and
# seals are random, so a rebuilt trail has other hashes — rebuild it only with the golden files, by running
# this and then `ACCORD_UPDATE_GOLDEN=1 swift test --filter PIAGoldenTests`).
set -euo pipefail
cd "$(dirname "$0")/.."
out=Tests/Fixtures/pia
rm -f "$out"/accord.sqlite*
db="$out/accord.sqlite"
accord() { swift run -q accord "$@"; }
# The example requests, decided and recorded.
accord eval --policies policies --requests examples/requests.jsonl --as-of 2026-06-01T00:00:00Z --record --db "$db" > /dev/null
# An ads service that keeps asking for precise location, and is refused every time.
for i in $(seq 1 12); do
  echo "{\"actor\":{\"id\":\"ads-probe\"},\"subject\":{\"id\":\"u-20$i\",\"age\":30,\"jurisdiction\":\"EU\"},\"purpose\":\"ads.targeting\",\"action\":\"read_online\",\"resources\":[{\"feature\":\"gps_last\",\"collected_at\":\"2026-06-01T10:00:00Z\"}],\"context\":{\"processing_region\":\"EU\"},\"consent\":{\"grants\":[{\"scope\":\"ads\",\"version\":1,\"granted_at\":\"2026-05-01T00:00:00Z\"}]}}"
done > "$out/probe.jsonl"
accord eval --policies policies --requests "$out/probe.jsonl" --as-of 2026-06-02T00:00:00Z --record --db "$db" > /dev/null
rm "$out/probe.jsonl"
# Consent given and taken back.
accord consent grant u-1001 --scope personalization --version 3 --at 2026-05-01T00:00:00Z --db "$db" > /dev/null
accord consent grant u-1002 --scope ads --version 1 --at 2026-05-02T00:00:00Z --db "$db" > /dev/null
accord consent withdraw u-1002 --scope ads --at 2026-06-01T12:00:00Z --db "$db" > /dev/null
accord audit checkpoint --db "$db" > /dev/null
# One file, no WAL beside it.
sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;" > /dev/null 2>&1 || python3 -c "import sqlite3; c=sqlite3.connect('$db'); c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); c.execute('PRAGMA journal_mode=DELETE'); c.close()"
ls -la "$out"
