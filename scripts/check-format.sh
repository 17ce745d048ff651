#!/usr/bin/env bash
# Fails when any Swift file is not as swift-format (shipped with the toolchain) writes it under the committed
# .swift-format; prints the files and how to fix them. Lines the formatter cannot break (long string literals and
# comments) are left as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=()
while IFS= read -r file; do
    if ! swift format format --configuration .swift-format "$file" | cmp -s - "$file"; then unformatted+=("$file"); fi
done < <(git ls-files '*.swift')
if (( ${#unformatted[@]} > 0 )); then
    printf 'not formatted: %s\n' "${unformatted[@]}" >&2
    echo "fix with: swift format format --configuration .swift-format --in-place --recursive Sources Tests Benchmarks Fuzz examples" >&2
    exit 1
fi
echo "formatting: $(git ls-files '*.swift' | wc -l) Swift files as .swift-format writes them"
