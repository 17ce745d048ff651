#!/usr/bin/env bash
# Times `accord validate` (release build) on generated hostile YAML: each must be refused, with a clear
# diagnostic and exit 1, in well under a second.
#   scripts/hostile-inputs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product accord >/dev/null
accord=.build/release/accord
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import sys, os
w = sys.argv[1]
head = "apiVersion: accord/v1\nkind: Taxonomy\n"
def put(name, data):
    with open(os.path.join(w, name), "wb") as f: f.write(data if isinstance(data, bytes) else data.encode())
laughs = head + "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 9) + "]\n" for i in range(1, 10))
put("billion-laughs.yaml", laughs)
big = "&big {" + ", ".join(f"k{i}: [" + ",".join(["x"] * 20) + "]" for i in range(2000)) + "}"
put("aliased-keys.yaml", head + f"m:\n  ? {big}\n  : 1\n  ? *big\n  : 2\n")
put("deep-flow.yaml", head + "categories: " + "[" * 10000 + "]" * 10000 + "\n")
put("deep-block.yaml", head + "".join(" " * d + f"k{d}:\n" for d in range(10000)))
put("deep-block-1000.yaml", head + "".join(" " * d + f"k{d}:\n" for d in range(1000)))
put("twenty-mb-scalar.yaml", head + "x: " + "a" * (20 * 1024 * 1024) + "\n")
put("invalid-utf8.yaml", head.encode() + b"categories: [ab\xc3\x28]\n")
put("nul-byte.yaml", head.encode() + b"categories: [a\x00b]\n")
put("custom-tag.yaml", head + "categories: !python/object:os.system [a]\n")
put("merge-key.yaml", head + "base: {a: 1}\nderived:\n  <<: {a: 1}\n  b: 2\n")
put("list-as-key.yaml", head + "? [a, b]\n: 1\n")
PY
# GNU time (Debian package `time`) reports peak memory when present.
timer=(env)
[ -x /usr/bin/time ] && timer=(/usr/bin/time -f 'rss=%M')
printf '%-24s %-6s %-9s %-10s %s\n' input exit seconds max-rss diagnostic
for file in "$work"/*.yaml; do
    start=$(date +%s.%N)
    set +e
    out=$("${timer[@]}" "$accord" validate "$file" 2>&1)
    status=$?
    set -e
    end=$(date +%s.%N)
    code=$(printf '%s\n' "$out" | grep -o 'error\[A[0-9]*\]' | head -1)
    rss=$(printf '%s\n' "$out" | grep -o 'rss=[0-9]*' | tail -1 | cut -d= -f2)
    printf '%-24s %-6s %-9.3f %-10s %s\n' "$(basename "$file")" "$status" "$(echo "$end - $start" | bc)" "${rss:+$((rss / 1024)) MiB}" "$code"
done
