#!/usr/bin/env bash
# Fuzz the policy front end and the condition parser with libFuzzer.
#   scripts/fuzz.sh [SECONDS]     (default 600)
# Seeds come from policies/, Tests/Corpus/diagnostics/, examples/requests.jsonl and Fuzz/corpus/; findings
# land in fuzz-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
# Instrument every module (AccordCore, Yams and its C libyaml), not only the fuzz target.
swift build --package-path Fuzz -c release --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address 2>&1 | tail -1
work=$(mktemp -d)
cp policies/*.yaml Tests/Corpus/diagnostics/*.yaml "$work"/ 2>/dev/null || true
# Requests, one per seed file, so the decoder and the evaluator are fuzzed too.
i=0
while IFS= read -r line; do i=$((i + 1)); printf '%s' "$line" > "$work/request-$i.json"; done < examples/requests.jsonl
cp Fuzz/corpus/* "$work"/ 2>/dev/null || true
mkdir -p fuzz-artifacts
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan.supp:print_suppressions=1"
.build-fuzz/release/AccordFuzz "$work" -max_total_time="$seconds" -max_len=65536 -timeout=2 -rss_limit_mb=2048 \
    -artifact_prefix=fuzz-artifacts/ -print_final_stats=1
