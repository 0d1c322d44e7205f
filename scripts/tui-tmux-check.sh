#!/usr/bin/env bash
# Drives `dyorctl tui` in a real terminal (tmux, 80x24) against a running
# dyormock: log in as john@API, see the dashboard with the username and a
# countdown, refresh with r, log out with l, quit with q, and check the
# terminal is left clean. Exits non-zero on the first step that fails.
#   scripts/tui-tmux-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v tmux >/dev/null || { echo "tmux is required" >&2; exit 1; }

work=$(mktemp -d)
sock="$work/tmux.sock"
cleanup() {
  tmux -S "$sock" kill-server 2>/dev/null || true
  [ -n "${mock_pid:-}" ] && kill "$mock_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/dyorctl" ./cmd/dyorctl
go build -o "$work/dyormock" ./cmd/dyormock
"$work/dyormock" --addr 127.0.0.1:0 --url-file "$work/url" --bcrypt-cost 4 >/dev/null 2>"$work/mock.log" &
mock_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.05; done
url=$(cat "$work/url")

screen() { tmux -S "$sock" capture-pane -p -t tui; }
# wait_for TEXT: poll the screen until TEXT shows, for at most 10 s.
wait_for() {
  for _ in $(seq 200); do
    if screen | grep -qF -- "$1"; then return 0; fi
    sleep 0.05
  done
  echo "FAIL: waited 10s for '$1'; the screen:" >&2
  screen >&2
  exit 1
}
keys() { tmux -S "$sock" send-keys -t tui "$@"; }

tmux -S "$sock" new-session -d -s tui -x 80 -y 24 \
  "'$work/dyorctl' --server '$url' --config-dir '$work/config' tui; echo \"EXIT=\$?\"; sleep 60"
wait_for "Log in"
keys Enter
wait_for "Username"
keys -l 'john@API'; keys Tab; keys -l 'honeyBunnies'; keys Enter
wait_for "access expires in"
screen | grep -qF "john@API" || { echo "FAIL: no username on the dashboard" >&2; exit 1; }
first=$(screen | grep -F "Session" | awk '{print $2}')
echo "ok: logged in, dashboard shows john@API and a countdown (session $first)"

# The countdown moves.
c1=$(screen | grep -F "access expires in")
for _ in $(seq 60); do c2=$(screen | grep -F "access expires in"); [ "$c1" != "$c2" ] && break; sleep 0.05; done
[ "$c1" != "$c2" ] || { echo "FAIL: the countdown does not move" >&2; exit 1; }
echo "ok: countdown ticks ($c1 -> $c2)"

# No token on screen: tokens are JWTs, starting with eyJ.
if screen | grep -q "eyJ"; then echo "FAIL: a token is on screen" >&2; exit 1; fi

keys r
wait_for "session refreshed"
second=$(screen | grep -F "Session" | awk '{print $2}')
[ "$first" != "$second" ] || { echo "FAIL: r did not rotate the session" >&2; exit 1; }
echo "ok: r refreshed (session $second)"

"$work/dyorctl" --server "$url" --config-dir "$work/config" status >/dev/null
echo "ok: dyorctl status sees the TUI's session"

keys l
wait_for "logged out"
echo "ok: l logged out"
keys q
wait_for "EXIT=0"
# The alternate screen is gone: nothing of the app is left on the terminal.
if screen | grep -qE "Log in|dyorctl ·"; then echo "FAIL: the app left its screen behind" >&2; screen >&2; exit 1; fi
echo "ok: q quit with exit 0 and left the terminal clean"
