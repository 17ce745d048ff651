#!/usr/bin/env bash
# Renders the HTML privacy impact assessment of `accord demo`'s workspace in a real headless browser
# (Chromium, from Debian's packages) and saves a screenshot: the heat map and the tables should be visible.
# Usage: scripts/pia-screenshot.sh [OUT.png]   (default: pia-screenshot.png)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-pia-screenshot.png}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
if ! command -v chromium >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
swift run -q accord demo --workspace "$work/demo" > /dev/null
swift run -q accord pia --db "$work/demo/accord.sqlite" --format html --out "$work/pia.html" --title "Recommender PIA (accord demo)"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,2200 --screenshot="$out" "file://$work/pia.html" 2> "$work/chromium.log" || { cat "$work/chromium.log"; exit 1; }
echo "screenshot: $out ($(wc -c < "$out") bytes) of $(wc -c < "$work/pia.html") bytes of HTML"
