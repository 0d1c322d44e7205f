package dyorctlcmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/internal/safetext"
)

// writeJSON prints v as the one JSON object of the command: indented for a
// person at a terminal, one line for a program.
func writeJSON(w io.Writer, indent bool, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(v)
}

// jsonError is the object printed with -o json when a command fails.
type jsonError struct {
	Error jsonErrorBody `json:"error"`
}

type jsonErrorBody struct {
	Message  string    `json:"message"`
	ExitCode int       `json:"exit_code"`
	APICode  *api.Code `json:"api_code"` // null when there was no answer from the server
}

func newJSONError(e *ExitError) jsonError {
	body := jsonErrorBody{Message: safetext.String(e.Message), ExitCode: e.Code}
	if e.APICode != 0 {
		code := e.APICode
		body.APICode = &code
	}
	return jsonError{body}
}

// sessionJSON is what login and refresh print with -o json.
type sessionJSON struct {
	Server           string `json:"server"`
	Username         string `json:"username"`
	SessionID        string `json:"session_id"`
	AccessExpiresAt  string `json:"access_expires_at"`
	RefreshExpiresAt string `json:"refresh_expires_at"`
}

// The claims come from the server: they are cleaned like any text of its.
func newSessionJSON(server string, t client.Tokens) sessionJSON {
	return sessionJSON{
		Server:           safetext.String(server),
		Username:         safetext.String(t.Username),
		SessionID:        safetext.String(t.SessionID),
		AccessExpiresAt:  rfc3339(t.AccessExpiresAt),
		RefreshExpiresAt: rfc3339(t.RefreshExpiresAt),
	}
}

// accountJSON is what register and switch print with -o json.
type accountJSON struct {
	Server   string `json:"server"`
	Username string `json:"username"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// expiresIn describes an expiry time relative to now: "expires in 14m 32s"
// or "expired 3m 10s ago".
func expiresIn(exp, now time.Time) string {
	if exp.IsZero() {
		return "expiry unknown"
	}
	if d := exp.Sub(now); d > 0 {
		return "expires in " + humanDuration(d)
	}
	return "expired " + humanDuration(now.Sub(exp)) + " ago"
}

// humanDuration is d in at most three units, largest first: "45s",
// "14m 32s", "3h 5m", "6d 23h 59m".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Second {
		return "0s"
	}
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	hours := int(d / time.Hour)
	d -= time.Duration(hours) * time.Hour
	minutes := int(d / time.Minute)
	seconds := int((d - time.Duration(minutes)*time.Minute) / time.Second)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh %dm", days, hours, minutes)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, minutes)
	case minutes > 0:
		return fmt.Sprintf("%dm %ds", minutes, seconds)
	default:
		return fmt.Sprintf("%ds", seconds)
	}
}

// shortDuration prints a flag-like duration without zero tails: 30s, 1m,
// 1m30s, 2h.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
