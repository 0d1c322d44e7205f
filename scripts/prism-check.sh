#!/usr/bin/env bash
# Runs Prism's validation proxy (pinned) in front of a dyormock and checks that
# the contract works behind it:
#  1. a request that breaks a pattern of api/openapi.yaml (POST /_mock/clock
#     {"advance":"-5m"}) gets dyormock's own 400 400002 through the proxy,
#     rather than a dropped connection (Prism puts the violation, quoting the
#     pattern, in a header: a pattern outside ASCII used to crash it);
#  2. the conformance suite passes through the proxy, but for the cases whose
#     request is not JSON: Prism answers those itself, with its own body.
# Needs Node and npm (npx); exits non-zero on the first check that fails.
#   scripts/prism-check.sh            # PRISM_PORT=4010 by default
set -euo pipefail
cd "$(dirname "$0")/.."
port="${PRISM_PORT:-4010}"

work=$(mktemp -d)
cleanup() {
  # npx starts node as a child: end Prism's whole process group.
  [ -n "${prism_pid:-}" ] && kill -- "-$prism_pid" 2>/dev/null || true
  [ -n "${mock_pid:-}" ] && kill "$mock_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/dyormock" ./cmd/dyormock
"$work/dyormock" --addr 127.0.0.1:0 --url-file "$work/url" --bcrypt-cost 4 >/dev/null 2>"$work/mock.log" &
mock_pid=$!
url=$("$work/dyormock" healthcheck --url-file "$work/url" --wait 10s) || { echo "FAIL: dyormock did not start:" >&2; cat "$work/mock.log" >&2; exit 1; }

setsid npx --yes @stoplight/prism-cli@5.14.2 proxy api/openapi.yaml "$url" --host 127.0.0.1 --port "$port" >"$work/prism.log" 2>&1 &
prism_pid=$!
proxy="http://127.0.0.1:$port"
for _ in $(seq 600); do # npx may fetch Prism first: up to a minute
  curl -fs -o /dev/null "$proxy/healthz" && break
  kill -0 "$prism_pid" 2>/dev/null || { echo "FAIL: prism exited:" >&2; cat "$work/prism.log" >&2; exit 1; }
  sleep 0.1
done

echo "--- POST /_mock/clock {\"advance\":\"-5m\"} through prism"
answer=$(curl -sS -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
  -d '{"advance":"-5m"}' "$proxy/_mock/clock") || {
  echo "FAIL: no answer through prism (the connection was dropped):" >&2
  grep -i 'error' "$work/prism.log" >&2 || true
  exit 1
}
status=${answer##*$'\n'}
body=${answer%$'\n'*}
if [ "$status" != 400 ] || ! grep -q '"code":400002' <<<"$body"; then
  echo "FAIL: want dyormock's 400 400002, got $status $body" >&2
  exit 1
fi
echo "ok: $status $body"

echo "--- the conformance suite through prism"
"$work/dyormock" conformance --url "$proxy" --rate 0 \
  --run '^(health|register|login|input|auth|typ|token|rotation|logout|lockout|route|expiry|control|sweep)(/|$)|^body/(empty|not-an-object|wrong-content-type|charset-accepted|too-large)$'
