package dyormockcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/api"
)

// newControlPlaneTopic is a help topic, not a command: "dyormock help
// control-plane" prints it, and the man page dyormock-control-plane(1) is
// made from it.
func newControlPlaneTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "control-plane",
		Short: "The /_mock/ routes: accounts, sessions, faults, the clock, the journal, findings, settings, tenants",
		Long: fmt.Sprintf(`dyormock serves a control plane under /_mock/ next to the API, so that a test
in any language sets the scene over HTTP: add accounts, mint and revoke
sessions, inject faults, move the clock, change settings, take a tenant, and
read the requests that arrived and what the client did wrong. It never exists
on the production server. The routes take and answer JSON in the API's
envelope ({"ok": true, "result": {...}} or {"ok": false, "error": {"code",
"message"}}), need no auth, and answer %[1]d when dyormock runs with
--admin=false. A body or query with a field the route does not know answers
%[2]d naming it. Durations are Go durations (1s, 16m, 1h30m); times are RFC
3339 on the mock's clock.

Routes:
  GET    /_mock/               this list, as JSON
  GET    /_mock/accounts       {"accounts": [{"id", "username", "locked_until"}]}
  POST   /_mock/accounts       {"username", "password"}: add one (register's rules)
  GET    /_mock/sessions       {"sessions": [{"id", "username", "created_at", "expires_at"}]}
  POST   /_mock/sessions       {"username", "access_ttl"?, "refresh_ttl"?}: a session
                               without the password: {"session_id", "token"}
  DELETE /_mock/sessions/ID    revoke one (%[3]d if there is none)
  POST   /_mock/reset          everything back to the start (seeds, no sessions,
                               no faults or findings, the clock, the start settings)
  GET    /_mock/faults         {"faults": [rule, ...]}, in the order they are tried
  POST   /_mock/faults         add a rule (below); the answer has its "id"
  DELETE /_mock/faults         remove every rule
  DELETE /_mock/faults/ID      remove one
  GET    /_mock/clock          {"now"}
  POST   /_mock/clock          {"advance": "16m"}: move the clock forward
  GET    /_mock/requests       the last 1000 API requests, oldest first (?route=,
                               ?status=, ?since=): {"requests": [{"method", "path",
                               "status", "code", "duration_ms", "time", ...}]}
  DELETE /_mock/requests       empty the journal
  GET    /_mock/findings       what the client did wrong (?kind=): {"findings":
                               [{"kind", "time", "route", "session_id", "username",
                               "message"}]}; kinds reuse, expired-token,
                               early-refresh, session-leak
  DELETE /_mock/findings       forget them
  GET    /_mock/settings       {"refresh_grace", "session_leak_threshold"}
  POST   /_mock/settings       change them at runtime
  GET    /_mock/tenants        {"tenants": [{"id", "base_url", ...}]}
  POST   /_mock/tenants        a new isolated mock under /t/ID: {"id", "base_url"}
  DELETE /_mock/tenants/ID     end one

A fault rule is {"route": "register|login|refresh|logout", "status": 503,
"retry_after": "30s", "delay": "2s", "drop": false, "truncate": false,
"after": false, "collide": 0, "timeout": "5s", "times": 2, "probability": 0},
every field but route optional. The first rule matching a route fires before
any other check. delay waits first and combines with the rest; status (4xx or
5xx) answers the error envelope with the code status*1000 (retry_after adds a
Retry-After header to a 429 or 503); drop closes the connection; truncate
sends the answer cut short. With "after": true the request is handled in full
first (the session rotated, the account made) and only then is the answer
dropped, cut, delayed or replaced. "collide": N holds the first N matching
requests until all N have arrived or the timeout passes, then lets them go
together. times bounds the firings (0: unlimited); probability in (0, 1]
fires at random (0: always). A bad rule, a bad lifetime or a bad advance
answers %[2]d.

The same operations are Go methods on *mock.Server; the project's docs/api.md,
docs/ci.md and api/openapi.yaml describe every route and field.`, api.CodeNoRoute, api.CodeInvalidField, api.CodeNotFound),
		Example: `  URL=$(dyormock healthcheck --url-file /tmp/dyormock.url --wait 10s)
  curl -s -X POST "$URL/_mock/faults" -H 'Content-Type: application/json' \
    -d '{"route":"login","status":503,"times":2}'
  curl -s -X POST "$URL/_mock/clock" -H 'Content-Type: application/json' -d '{"advance":"16m"}'
  curl -s "$URL/_mock/requests"
  curl -s -X POST "$URL/_mock/reset"`,
	}
}
