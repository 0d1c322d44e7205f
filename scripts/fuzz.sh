#!/usr/bin/env bash
# Runs every fuzz target of the module for the given time each (default
# 60s), one at a time (the fuzzer uses every core).
#   scripts/fuzz.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
status=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "--- $pkg $target (${secs}s)"
    log=$(mktemp)
    if go test -run '^$' -fuzz "^${target}\$" -fuzztime "${secs}s" "$pkg" >"$log" 2>&1; then
      tail -3 "$log"
    else
      # All of it but the progress lines: the failing input and its test.
      grep -v '^fuzz: elapsed' "$log" || true
      status=1
    fi
    rm -f "$log"
  done
done
exit $status
