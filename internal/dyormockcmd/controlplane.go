package dyormockcmd

import "github.com/spf13/cobra"

// newControlPlaneTopic is a help topic, not a command: "dyormock help
// control-plane" prints it, and the man page dyormock-control-plane(1) is
// made from it.
func newControlPlaneTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "control-plane",
		Short: "The /_mock/ routes: accounts, sessions, faults, the clock, the journal, reset",
		Long: `dyormock serves a control plane under /_mock/ next to the API, so that a test
in any language sets the scene over HTTP: add accounts, mint and revoke
sessions, inject faults, move the clock and read the requests that arrived.
It never exists on the production server. The routes take and answer JSON in
the API's envelope ({"ok": true, "result": {...}} or {"ok": false, "error":
{"code", "message"}}), need no auth, and answer 404000 when dyormock runs with
--admin=false. Durations are Go durations (1s, 16m, 1h30m); times are RFC 3339
on the mock's clock.

Routes:
  GET    /_mock/accounts       {"accounts": [{"id", "username", "locked_until"}]}
  POST   /_mock/accounts       {"username", "password"}: add one (register's rules)
  GET    /_mock/sessions       {"sessions": [{"id", "username", "created_at", "expires_at"}]}
  POST   /_mock/sessions       {"username", "access_ttl"?, "refresh_ttl"?}: a session
                               without the password: {"session_id", "token"}
  DELETE /_mock/sessions/ID    revoke one (404002 if there is none)
  POST   /_mock/reset          everything back to the start (seeds, no sessions,
                               no faults, the clock, an empty journal)
  GET    /_mock/faults         {"faults": [rule, ...]}, in the order they are tried
  POST   /_mock/faults         add a rule (below)
  DELETE /_mock/faults         remove every rule
  GET    /_mock/clock          {"now"}
  POST   /_mock/clock          {"advance": "16m"}: move the clock forward
  GET    /_mock/requests       the last 1000 API requests: {"requests": [{"method",
                               "path", "status", "code", "duration_ms", "time"}]}

A fault rule is {"route": "register|login|refresh|logout", "status": 503,
"delay": "2s", "drop": false, "truncate": false, "times": 2, "probability": 0},
every field but route optional. The first rule matching a route fires before
any other check. delay waits first and combines with the rest; status (4xx or
5xx) answers the error envelope with the code status*1000; drop closes the
connection; truncate sends the answer cut short. times bounds the firings (0:
unlimited); probability in (0, 1] fires at random (0: always). A bad rule, a
bad lifetime or a bad advance answers 400002.

The same operations are Go methods on *mock.Server; the project's docs/api.md
and api/openapi.yaml describe every route and field.`,
		Example: `  URL=$(dyormock healthcheck --url-file /tmp/dyormock.url --wait 10s)
  curl -s -X POST "$URL/_mock/faults" -H 'Content-Type: application/json' \
    -d '{"route":"login","status":503,"times":2}'
  curl -s -X POST "$URL/_mock/clock" -H 'Content-Type: application/json' -d '{"advance":"16m"}'
  curl -s "$URL/_mock/requests"
  curl -s -X POST "$URL/_mock/reset"`,
	}
}
