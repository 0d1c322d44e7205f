#!/usr/bin/env bash
# Runs every fuzz target of the module, one at a time (the fuzzer uses
# every core), for a time each (default 60s) or a count of executions.
#   scripts/fuzz.sh [seconds | Nx]      e.g. scripts/fuzz.sh 60, scripts/fuzz.sh 20000x
#
# Go 1.26's fuzz coordinator can fail a target with "context deadline
# exceeded" at the end of a timed run, without any failing input
# (golang/go#75804, fixed in Go 1.27). A count of executions has no
# deadline to race, so CI uses one; a timed run that fails that way and
# writes no failing input is run once more.
set -euo pipefail
cd "$(dirname "$0")/.."
budget="${1:-60}"
case "$budget" in
  *x) fuzztime="$budget" ;;
  *) fuzztime="${budget}s" ;;
esac
status=0
# count prints how many inputs a corpus holds (0 when it does not exist yet:
# a target may have no committed corpus).
count() { { ls "$1" 2>/dev/null || true; } | wc -l; }
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "--- $pkg $target ($fuzztime)"
    corpus="$dir/testdata/fuzz/$target"
    for attempt in 1 2; do
      before=$(count "$corpus")
      log=$(mktemp)
      if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >"$log" 2>&1; then
        tail -3 "$log"
        rm -f "$log"
        break
      fi
      after=$(count "$corpus")
      if [ "$attempt" = 1 ] && [ "$after" = "$before" ] && grep -q 'context deadline exceeded' "$log"; then
        echo "(no failing input written: the fuzz coordinator's deadline race, golang/go#75804; once more)"
        rm -f "$log"
        continue
      fi
      # All of it but the progress lines: the failing input and its test.
      grep -v '^fuzz: elapsed' "$log" || true
      rm -f "$log"
      status=1
      break
    done
  done
done
exit $status
