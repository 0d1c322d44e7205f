package mock_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/internal/apitest"
	"github.com/dyor-exchange/dyorctl/mock"
)

// envelope is the JSON envelope of every answer.
type envelope struct {
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    api.Code `json:"code"`
		Message string   `json:"message"`
	} `json:"error"`
}

type answer struct {
	status int
	header http.Header
	env    envelope
	raw    string
}

// testServer is a mock with the test's HTTP client, whose traffic is checked
// against api/openapi.yaml.
type testServer struct {
	*mock.Server
	t      testing.TB
	client *http.Client
}

func start(t testing.TB, opts ...mock.Option) *testServer {
	t.Helper()
	opts = append([]mock.Option{mock.WithBcryptCost(4)}, opts...)
	srv := mock.Start(t, opts...)
	return &testServer{Server: srv, t: t, client: apitest.NewValidator(t).Client()}
}

// do sends a request; body "" sends none. headers are "Name: value".
func (s *testServer) do(method, path, body string, headers ...string) answer {
	s.t.Helper()
	a, err := s.send(s.client, method, path, body, headers...)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return a
}

// send sends a request with c and reads the answer whole; a transport
// error or a body cut short comes back as the error (with what was read).
func (s *testServer) send(c *http.Client, method, path, body string, headers ...string) (answer, error) {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Set(name, strings.TrimSpace(value))
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal(raw, &a.env); err != nil {
		s.t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, raw)
	}
	return a, nil
}

type pair struct{ Access, Refresh string }

func (s *testServer) login(username, password string) pair {
	s.t.Helper()
	a := s.do("POST", mock.LoginPath, credsJSON(username, password))
	if a.status != 200 {
		s.t.Fatalf("login %s: %d %s", username, a.status, a.raw)
	}
	return a.pair(s.t)
}

func (s *testServer) refresh(refresh string) answer {
	s.t.Helper()
	return s.do("GET", mock.RefreshPath, "", "Authorization: Bearer "+refresh)
}

func (s *testServer) logout(token string) answer {
	s.t.Helper()
	return s.do("DELETE", mock.LogoutPath, "", "Authorization: Bearer "+token)
}

func (a answer) pair(t testing.TB) pair {
	t.Helper()
	var r struct {
		Token struct{ Access, Refresh string } `json:"token"`
	}
	if err := json.Unmarshal(a.env.Result, &r); err != nil || r.Token.Access == "" || r.Token.Refresh == "" {
		t.Fatalf("no token pair in %s", a.raw)
	}
	return pair{r.Token.Access, r.Token.Refresh}
}

// wantError checks the status, the error envelope and its code.
func (a answer) wantError(t testing.TB, code api.Code) {
	t.Helper()
	if a.status != code.Status() || a.env.OK || a.env.Error == nil || a.env.Error.Code != code {
		t.Fatalf("want %d (status %d), got status %d: %s", code, code.Status(), a.status, a.raw)
	}
	if len(a.env.Error.Message) < 5 {
		t.Errorf("error %d: message %q does not tell a person what went wrong", code, a.env.Error.Message)
	}
}

func (a answer) wantOK(t testing.TB) {
	t.Helper()
	if a.status != 200 || !a.env.OK || a.env.Error != nil {
		t.Fatalf("want 200 ok, got %d: %s", a.status, a.raw)
	}
}

func credsJSON(username, password string) string {
	b, _ := json.Marshal(map[string]string{"username": username, "password": password})
	return string(b)
}

// claimsOf decodes a JWT's payload without checking it.
func claimsOf(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
