package client_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/client"
)

var sentinels = map[string]error{
	"ErrNotLoggedIn":     client.ErrNotLoggedIn,
	"ErrAccountNotFound": client.ErrAccountNotFound,
	"ErrWrongPassword":   client.ErrWrongPassword,
	"ErrAccountLocked":   client.ErrAccountLocked,
	"ErrUsernameTaken":   client.ErrUsernameTaken,
	"ErrInvalidInput":    client.ErrInvalidInput,
	"ErrSessionInvalid":  client.ErrSessionInvalid,
}

// codeSentinel is every code of the contract and the sentinel it maps to
// ("" for none).
var codeSentinel = []struct {
	code     api.Code
	sentinel string
}{
	{400001, "ErrInvalidInput"},
	{400002, "ErrInvalidInput"},
	{401001, "ErrSessionInvalid"},
	{401002, "ErrSessionInvalid"},
	{401003, "ErrSessionInvalid"},
	{401004, "ErrSessionInvalid"},
	{401005, "ErrWrongPassword"},
	{401006, ""},
	{401007, ""},
	{403002, "ErrAccountLocked"},
	{404000, ""},
	{404001, "ErrAccountNotFound"},
	{404002, ""},
	{405000, ""},
	{409001, "ErrUsernameTaken"},
	{413001, "ErrInvalidInput"},
	{415001, "ErrInvalidInput"},
	{500000, ""},
	{0, ""},
}

// checkSentinels fails unless err matches exactly the sentinel named want.
func checkSentinels(t *testing.T, err error, want string) {
	t.Helper()
	for name, s := range sentinels {
		if got := errors.Is(err, s); got != (name == want) {
			t.Errorf("errors.Is(%v, %s) = %v, want %v", err, name, got, !got)
		}
	}
}

func TestAPIErrorIsMapsEveryCode(t *testing.T) {
	t.Parallel()
	for _, tt := range codeSentinel {
		err := error(&client.APIError{Status: tt.code.Status(), Code: tt.code, Message: "m"})
		checkSentinels(t, err, tt.sentinel)
		checkSentinels(t, fmt.Errorf("wrapped: %w", err), tt.sentinel)
	}
}

// envelopeServer answers every request with status and the error envelope
// of code.
func envelopeServer(t *testing.T, status int, code api.Code, message string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"ok":false,"error":{"code":%d,"message":%q}}`, code, message)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestEveryCodeOverTheWire sends a request to a server answering each code
// and checks the APIError and its sentinel, for every route.
func TestEveryCodeOverTheWire(t *testing.T) {
	t.Parallel()
	for _, tt := range codeSentinel {
		if tt.code == 0 {
			continue
		}
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			t.Parallel()
			srv := envelopeServer(t, tt.code.Status(), tt.code, "the server's words")
			c, err := client.New(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Login(t.Context(), "john@API", "honeyBunnies")
			var ae *client.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("Login error = %#v, want *client.APIError", err)
			}
			want := client.APIError{Status: tt.code.Status(), Code: tt.code, Message: "the server's words"}
			if *ae != want {
				t.Errorf("APIError = %+v, want %+v", *ae, want)
			}
			if got, want := err.Error(), fmt.Sprintf("the server's words (%d)", tt.code); got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
			checkSentinels(t, err, tt.sentinel)
			checkSentinels(t, c.Register(t.Context(), "john@API", "honeyBunnies"), tt.sentinel)
		})
	}
}

// TestMalformedAnswers: whatever the body, an answer that is not a usable
// success gives an *APIError with the status and a short, printable
// excerpt; never a panic.
func TestMalformedAnswers(t *testing.T) {
	t.Parallel()
	html := "<html>\r\n<head><title>502 Bad Gateway</title></head>\n<body>\x1b[31mnginx</body></html>"
	tests := []struct {
		name        string
		status      int
		body        string
		wantMessage string
		wantText    string
	}{
		{name: "proxy HTML 502", status: 502, body: html,
			wantMessage: "<html> <head><title>502 Bad Gateway</title></head> <body>nginx</body></html>",
			wantText:    `server answered 502 Bad Gateway (not the API's JSON): "<html> <head>`},
		{name: "empty 500", status: 500, body: "",
			wantText: "server answered 500 Internal Server Error (not the API's JSON) with an empty body"},
		{name: "truncated JSON 401", status: 401, body: `{"ok":false,"error":{"code":4010`,
			wantMessage: `{"ok":false,"error":{"code":4010`, wantText: "server answered 401 Unauthorized (not the API's JSON)"},
		{name: "JSON but not the envelope", status: 503, body: `{"message":"maintenance"}`,
			wantMessage: `{"message":"maintenance"}`},
		{name: "error envelope without code", status: 500, body: `{"ok":false,"error":{"message":"x"}}`,
			wantMessage: `{"ok":false,"error":{"message":"x"}}`},
		{name: "long body cut", status: 504, body: strings.Repeat("é", 5000),
			wantMessage: strings.Repeat("é", 100) + "…"},
		{name: "invalid UTF-8", status: 500, body: "bad \xff\xfe bytes",
			wantMessage: "bad \uFFFD bytes"},
		{name: "body over 1 MiB", status: 500, body: strings.Repeat("x", 3<<20),
			wantMessage: strings.Repeat("x", 100) + "…"},
		// A 2xx body may hold tokens (a token answer cut short): none of it
		// is kept.
		{name: "200 with HTML", status: 200, body: "<html>hello</html>",
			wantText: `server answered 200 OK but not with the API's JSON`},
		{name: "200 ok false", status: 200, body: `{"ok":false}`},
		{name: "200 without result", status: 200, body: `{"ok":true}`},
		{name: "200 truncated JSON", status: 200, body: `{"ok":true,"result":{"token":{"access":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJkeW9ybW9j`},
		{name: "200 tokens of the wrong type", status: 200, body: `{"ok":true,"result":{"token":{"access":1,"refresh":2}}}`},
		{name: "huge 200", status: 200, body: `{"ok":true,"result":{"token":{"access":"` + strings.Repeat("a", 2<<20) + `"}}}`},
		// Of other bodies, anything shaped like a JWT is blanked.
		{name: "502 quoting a token", status: 502, body: `upstream said: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl was refused`,
			wantMessage: `upstream said: Bearer [token] was refused`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c, err := client.New(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Login(t.Context(), "john@API", "honeyBunnies")
			var ae *client.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("Login error = %#v, want *client.APIError", err)
			}
			if ae.Status != tt.status || ae.Code != 0 {
				t.Errorf("APIError = %+v, want status %d and code 0", ae, tt.status)
			}
			if ae.Message != tt.wantMessage {
				t.Errorf("Message = %q, want %q", ae.Message, tt.wantMessage)
			}
			if tt.wantText != "" && !strings.HasPrefix(err.Error(), tt.wantText) {
				t.Errorf("Error() = %q, want it to start with %q", err.Error(), tt.wantText)
			}
			if strings.ContainsAny(err.Error(), "\x1b\r\n") {
				t.Errorf("Error() holds control characters: %q", err.Error())
			}
			checkSentinels(t, err, "")
		})
	}
}

// TestHostileMessages: a server's message that echoes the request's
// secrets or carries escape sequences reaches the caller cleaned: the
// password and the bearer token replaced by markers (whatever their shape),
// JWT-shaped text too, and no escape sequence left.
func TestHostileMessages(t *testing.T) {
	t.Parallel()
	const password = "honeyBunnies"
	echo := func(t *testing.T, tmpl string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var creds struct{ Password string }
			_ = json.Unmarshal(body, &creds)
			msg := strings.NewReplacer("PASSWORD", creds.Password, "AUTH", r.Header.Get("Authorization")).Replace(tmpl)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			out, _ := json.Marshal(map[string]any{"ok": false, "error": map[string]any{"code": 400002, "message": msg}})
			_, _ = w.Write(out)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	for _, tc := range []struct {
		name, tmpl, want string
		refresh          bool
	}{
		{name: "password echoed", tmpl: "bad password PASSWORD", want: "bad password [redacted]"},
		{name: "password split by an escape", tmpl: "bad password honey\x1b[0mBunnies", want: "bad password [redacted]"},
		{name: "screen-forging escapes", tmpl: "no\x1b]0;PWNED\x07\x1b[2J\x1b[Hway", want: "noway"},
		{name: "bearer echoed", tmpl: "you sent AUTH", want: "you sent Bearer [redacted]", refresh: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := echo(t, tc.tmpl)
			var err error
			if tc.refresh {
				// The bearer is replaced as the secret it is, whatever its shape.
				store := client.NewMemoryStore()
				tok := fakePair(t, time.Now(), time.Now().Add(time.Minute), time.Now().Add(time.Hour))
				tok.Username = "john@API"
				if err := store.Save(t.Context(), tok); err != nil {
					t.Fatal(err)
				}
				c, cerr := client.New(srv.URL, client.WithTokenStore(store))
				if cerr != nil {
					t.Fatal(cerr)
				}
				_, err = c.Refresh(t.Context())
			} else {
				c, cerr := client.New(srv.URL)
				if cerr != nil {
					t.Fatal(cerr)
				}
				_, err = c.Login(t.Context(), "john@API", password)
			}
			var ae *client.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error = %v, want *client.APIError", err)
			}
			if ae.Message != tc.want {
				t.Errorf("Message = %q, want %q", ae.Message, tc.want)
			}
			if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "eyJ") || strings.ContainsAny(err.Error(), "\x1b\x07") {
				t.Errorf("Error() = %q leaks a secret or an escape", err.Error())
			}
		})
	}
}

// TestAnswerCutShort: a success whose body ends before its Content-Length
// is a wrapped read error; a failure status cut short still gives the
// APIError of its status.
func TestAnswerCutShort(t *testing.T) {
	t.Parallel()
	cutShort := func(status int) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"ok\":", status, http.StatusText(status))
			_ = buf.Flush()
		}))
		t.Cleanup(srv.Close)
		return srv
	}

	c, _ := client.New(cutShort(200).URL)
	_, err := c.Login(t.Context(), "john@API", "honeyBunnies")
	if err == nil || !strings.Contains(err.Error(), "login: reading the answer (200 OK)") {
		t.Errorf("Login error = %v, want a read error", err)
	}

	c, _ = client.New(cutShort(503).URL)
	_, err = c.Login(t.Context(), "john@API", "honeyBunnies")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 503 || ae.Message != `{"ok":` {
		t.Errorf("Login error = %#v, want an APIError with status 503 and the excerpt", err)
	}
}

func TestAPIErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  client.APIError
		want string
	}{
		{client.APIError{Status: 401, Code: 401005, Message: "wrong password"}, "wrong password (401005)"},
		{client.APIError{Status: 401, Code: 401005}, "server answered 401 Unauthorized (401005)"},
		{client.APIError{Status: 502, Message: "<html>"}, `server answered 502 Bad Gateway (not the API's JSON): "<html>"`},
		{client.APIError{Status: 599, Message: "x"}, `server answered 599 (not the API's JSON): "x"`},
		{client.APIError{Status: 500}, "server answered 500 Internal Server Error (not the API's JSON) with an empty body"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// The API's routes never redirect: a 307 on login must not carry the
// password to where it points.
func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer elsewhere.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirecting.Close()
	c, err := client.New(redirecting.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Login(t.Context(), "john@API", "honeyBunnies")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusTemporaryRedirect {
		t.Fatalf("Login through a redirect = %v, want an APIError with status 307", err)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("the redirect was followed: the other server got %d requests", n)
	}
}
