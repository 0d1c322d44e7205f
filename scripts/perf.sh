#!/usr/bin/env bash
# Takes the figures of docs/performance.md on this machine: the load runs
# (dyorload, 32 connections, medians of RUNS passes of DURATION each),
# the memory benchmark and the handler benchmarks. About 7 minutes with
# the defaults. Run it on an otherwise idle machine.
#   scripts/perf.sh [out-dir]        RUNS=3 DURATION=8s by default
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-$(mktemp -d)}"
runs="${RUNS:-3}"
dur="${DURATION:-8s}"
mkdir -p "$out"
bin=$(mktemp -d)
mock_pid=
cleanup() {
  if [ -n "$mock_pid" ]; then kill "$mock_pid" 2>/dev/null || true; fi
  rm -rf "$bin"
}
trap cleanup EXIT
go build -o "$bin/dyormock" ./cmd/dyormock
go build -o "$bin/dyorload" ./tools/dyorload
load() { # name, then dyorload flags
  local name=$1
  shift
  echo "--- $name: dyorload -runs $runs -duration $dur $*"
  "$bin/dyorload" -runs "$runs" -duration "$dur" -o json "$@" >"$out/$name.json"
  python3 - "$out/$name.json" <<'EOF' 2>/dev/null || cat "$out/$name.json"
import json, sys
r = json.load(open(sys.argv[1]))
for x in r["results"]:
    ratio = " %.2f x %s" % (x["ratio"], x["ratio_to"]) if x.get("ratio") else ""
    print("  %-24s %8.0f req/s  p50 %6.3f ms  p99 %6.3f ms%s" % (x["target"], x["throughput_rps"], x["p50_ms"], x["p99_ms"], ratio))
EOF
}

# dyormock's server in dyorload's process, with the floor in the same
# process: the like-for-like comparison with the floor.
load refresh -route refresh
load logout -route logout -logout-sessions 300000
load login -route login -floor=false
load delay-check -route delay-check -floor=false -runs 12 -duration 4s # paired passes, alternating order
load login-repeat -route login-repeat # one account's logins at dyormock's default options
load startup -route startup -execs 20  # builds dyormock and a bare Go program, then execs each
load tenants -route tenants            # 1,000 tenants created, their heap, then ended

# dyormock in its own process, with the floor in its own process too.
url_file="$bin/url"
"$bin/dyormock" --addr 127.0.0.1:0 --url-file "$url_file" --bcrypt-cost 4 --lockout-threshold 0 >"$out/dyormock.log" 2>&1 &
mock_pid=$!
for _ in $(seq 100); do
  [ -s "$url_file" ] && break
  sleep 0.1
done
load refresh-own-process -route refresh -url "$(cat "$url_file")"
load logout-own-process -route logout -logout-sessions 300000 -url "$(cat "$url_file")"
kill "$mock_pid"
mock_pid=

echo "--- memory: 1,000,000 live sessions"
go test -run '^$' -bench LiveSessionMemory -benchtime 1x -count 3 ./mock/ | tee "$out/memory.txt" | grep Benchmark
echo "--- start-up against httptest, memory of an idle server, tenants"
go test -run '^$' -bench 'Startup' -benchtime 2000x ./mock/ | tee "$out/startup.txt" | grep Benchmark
go test -run '^$' -bench 'IdleServerMemory|TenantMemory' -benchtime 1x ./mock/ | tee "$out/idle-memory.txt" | grep Benchmark
go test -run '^$' -bench 'NewTenant' -benchtime 3000x ./mock/ | tee "$out/tenant-create.txt" | grep Benchmark
echo "--- handler benchmarks"
go test -run '^$' -bench 'Refresh$|Logout$|LoginRepeat$|Floor' -benchmem -benchtime 20000x -count 6 ./mock/ | tee "$out/handlers.txt" | grep Benchmark
echo "figures in $out"
