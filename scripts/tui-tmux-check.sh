#!/usr/bin/env bash
# Drives `dyorctl tui` in a real terminal (tmux, 80x24) against two running
# dyormocks, A and B, and checks what a user sees:
#   1. no account stored: the menu; log in as john@API on A through the form
#      (its Server field filled from --server); the dashboard's countdown and
#      lifetime bar move; q quits.
#   2. three stored accounts (john@API and quinn on A, john@API on B): the app
#      opens on the accounts screen listing all three with their expiry;
#      Enter on john@API at A opens its dashboard and `dyorctl status` shows
#      it active; r, auto-refresh and a refresh refused by a dyormock fault
#      show in the history, in order, with their times; esc goes back; d on
#      john@API at B (after y) removes it from status and B has no session
#      left; q quits and leaves the terminal clean.
# Exits non-zero on the first step that fails.
#   scripts/tui-tmux-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v tmux >/dev/null || { echo "tmux is required" >&2; exit 1; }

work=$(mktemp -d)
sock="$work/tmux.0.sock"
runs=0
pids=()
cleanup() {
  for s in "$work"/tmux.*.sock; do tmux -S "$s" kill-server 2>/dev/null || true; done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR

go build -o "$work/dyorctl" ./cmd/dyorctl
go build -o "$work/dyormock" ./cmd/dyormock

# start_mock NAME FLAGS...: a dyormock on a free port; its URL in $work/NAME.url.
start_mock() {
  local name=$1; shift
  "$work/dyormock" --addr 127.0.0.1:0 --url-file "$work/$name.url" --bcrypt-cost 4 "$@" \
    >/dev/null 2>"$work/$name.log" &
  pids+=($!)
  "$work/dyormock" healthcheck --url-file "$work/$name.url" --wait 10s >/dev/null ||
    { echo "FAIL: dyormock $name did not start" >&2; cat "$work/$name.log" >&2; exit 1; }
}
# Short access tokens on A, so that auto-refresh comes within seconds.
start_mock a --access-ttl 12s --seed 'john@API:honeyBunnies' --seed 'quinn:password1'
start_mock b
a=$(cat "$work/a.url"); b=$(cat "$work/b.url")
port_a=${a##*:}; port_b=${b##*:}
cfg="$work/config"
ctl() { "$work/dyorctl" --config-dir "$cfg" "$@"; }

screen() { tmux -S "$sock" capture-pane -p -t tui; }
fail() { echo "FAIL: $1; the screen:" >&2; screen >&2; exit 1; }
# wait_for TEXT: poll the screen until TEXT shows, for at most 15 s.
wait_for() {
  for _ in $(seq 300); do
    if screen | grep -qF -- "$1"; then return 0; fi
    sleep 0.05
  done
  fail "waited 15s for '$1'"
}
keys() { tmux -S "$sock" send-keys -t tui "$@"; }
# cursor_on TEXT...: wait until the accounts screen's cursor row holds each TEXT.
cursor_on() {
  for _ in $(seq 300); do
    local row ok=1
    row=$(screen | grep -E "^ +> " || true)
    for t in "$@"; do case "$row" in *"$t"*) ;; *) ok=0;; esac; done
    [ "$ok" = 1 ] && return 0
    sleep 0.05
  done
  fail "waited 15s for the cursor on $*"
}
# pick PORT: filter the accounts by PORT and put the cursor on john@API there.
pick() {
  keys /; wait_for "Filter:"
  keys -l ":$1"; wait_for "Filter: :$1"
  keys Enter; wait_for "enter open •"
  keys g; cursor_on "john@API" ":$1"
}
# open_tui: the app on A, in a tmux server of its own (the last one's may
# still be going away).
open_tui() {
  tmux -S "$sock" kill-server 2>/dev/null || true
  runs=$((runs + 1)); sock="$work/tmux.$runs.sock"
  tmux -S "$sock" new-session -d -s tui -x 80 -y 24 \
    "'$work/dyorctl' --server '$a' --config-dir '$cfg' tui; echo \"EXIT=\$?\"; sleep 60"
}
# bar LABEL: how many filled cells the bar after "LABEL expires in" has.
bar() { { screen | grep -F "$1 expires in" || true; } | tr -cd '█' | wc -m; }
no_token() { if screen | grep -q "eyJ"; then fail "a token is on screen"; fi; }

# --- 1. Nothing stored: the menu, then a login through the form.
open_tui
wait_for "> Log in"
keys Enter
wait_for "Server            $a"
keys -l 'john@API'; keys Tab; keys -l 'honeyBunnies'; keys Enter
wait_for "access expires in"
wait_for "Username  john@API"
wait_for "logged in as john@API"
echo "ok: logged in through the form (Server filled from --server); the history says so"

c1=$(screen | grep -F "access expires in" || true); b1=$(bar access)
for _ in $(seq 100); do
  c2=$(screen | grep -F "access expires in" || true); b2=$(bar access)
  [ "$c1" != "$c2" ] && [ "$b2" -lt "$b1" ] && break
  sleep 0.05
done
[ "$c1" != "$c2" ] || fail "the countdown does not move"
[ "$b2" -lt "$b1" ] || fail "the access bar does not shrink ($b1 -> $b2 cells)"
echo "ok: countdown ticks and its bar shrinks ($b1 -> $b2 cells)"
no_token
keys q
wait_for "EXIT=0"

# --- 2. Three stored accounts on two servers.
DYOR_PASSWORD=password1 ctl --server "$a" login -u quinn >/dev/null 2>&1
DYOR_PASSWORD=honeyBunnies ctl --server "$b" login -u 'john@API' >/dev/null 2>&1
open_tui
wait_for "dyorctl · accounts"
rows=$(screen | grep -cE "(john@API|quinn) +([0-9]+[dhms]|expired)" || true)
[ "$rows" = 3 ] || fail "the accounts screen lists $rows accounts with their expiry, not 3"
echo "ok: the accounts screen lists the three accounts with their expiry"

# Enter on john@API at A.
pick "$port_a"
keys Enter
wait_for "dyorctl · logged in"
wait_for "opened john@API"
status=$(ctl --server "$a" status || true)
grep -qF "* john@API (active)" <<<"$status" || { echo "$status" >&2; fail "status does not show john@API active on A"; }
echo "ok: Enter opened john@API's dashboard and made it A's active account"

# The history: by hand, automatically, refused by a fault; in that order.
keys r
wait_for "refreshed by hand"
keys a
wait_for "auto-refresh: on"
wait_for "auto-refreshed"
curl -fsS -X POST -H 'Content-Type: application/json' \
  -d '{"route":"refresh","status":503,"times":1}' "$a/_mock/faults" >/dev/null
keys r
wait_for "refresh failed: the server failed"
history=$(screen | sed -n '/History/,$p' | grep -E "^ +[0-9]{2}:[0-9]{2}:[0-9]{2} " || true)
order=$(grep -oE "refreshed by hand|auto-refreshed|refresh failed" <<<"$history" | uniq | sed -n 1,3p | tr '\n' ',')
case "$order" in
  "refreshed by hand,auto-refreshed,refresh failed,") ;;
  *) fail "the history is not in order (got $order)";;
esac
echo "ok: the history shows a manual refresh, an auto-refresh and a refused refresh, in order, with times"
no_token

# Back to the accounts; d on john@API at B.
keys Escape
wait_for "dyorctl · accounts"
pick "$port_b"
keys d
wait_for "? log out john@API at $b"
keys y
wait_for "john@API: logged out"
status=$(ctl --server "$a" status || true)
grep -qF "* john@API (active)" <<<"$status" || { echo "$status" >&2; fail "status lost john@API at A"; }
if grep -qF "$b" <<<"$status"; then echo "$status" >&2; fail "status still lists john@API at B"; fi
sessions=$(curl -fsS "$b/_mock/sessions")
echo "$sessions" | grep -q '"sessions":\[\]' || fail "B still has a session: $sessions"
echo "ok: d logged out john@API at B: status no longer lists it, B has no session"

keys q
wait_for "EXIT=0"
# The alternate screen is gone: nothing of the app is left on the terminal.
if screen | grep -qE "Log in|dyorctl ·"; then fail "the app left its screen behind"; fi
echo "ok: q quit with exit 0 and left the terminal clean"
