package dyormockcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The tenant flags and the login cache's, from the environment: the limit
// is enforced, a tenant serves the API under its base URL, and the
// readiness log states the settings.
func TestTenantAndLoginCacheSettings(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"DYORMOCK_BCRYPT_COST":     "4",
		"DYORMOCK_MAX_TENANTS":     "1",
		"DYORMOCK_LOGIN_CACHE":     "false",
		"DYORMOCK_TENANT_IDLE_TTL": "5m",
	}
	r := startDyormock(t, env, "--addr", "127.0.0.1:0")
	status, body := post(t, r.url+"/_mock/tenants", "")
	var created struct {
		Result struct {
			ID      string `json:"id"`
			BaseURL string `json:"base_url"`
		}
	}
	if err := json.Unmarshal([]byte(body), &created); status != 200 || err != nil || created.Result.BaseURL != r.url+"/t/"+created.Result.ID {
		t.Fatalf("POST /_mock/tenants: %d %s", status, body)
	}
	if status, body := post(t, r.url+"/_mock/tenants", ""); status != 429 || !strings.Contains(body, "429000") {
		t.Fatalf("a tenant beyond --max-tenants 1: %d %s", status, body)
	}
	login := `{"username":"john@API","password":"honeyBunnies"}`
	if status, body := post(t, created.Result.BaseURL+"/api/v1/account/login", login); status != 200 {
		t.Fatalf("login in the tenant: %d %s", status, body)
	}
	req, _ := http.NewRequest("DELETE", r.url+"/_mock/tenants/"+created.Result.ID, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if status, _ := post(t, created.Result.BaseURL+"/api/v1/account/login", login); resp.StatusCode != 200 || status != 404 {
		t.Fatalf("DELETE %d, then login in the ended tenant %d", resp.StatusCode, status)
	}
	if log := r.stderr.String(); !strings.Contains(log, "login_cache=false") || !strings.Contains(log, "max_tenants=1") {
		t.Fatalf("the readiness log does not state the settings: %s", log)
	}
}

func TestTenantFlagErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-tenants", "-1"}, "max tenants -1"},
		{[]string{"--tenant-idle-ttl", "-1s"}, "tenant idle TTL"},
		{[]string{"--login-cache=maybe"}, "login-cache"},
	} {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), append([]string{"--addr", "127.0.0.1:0"}, tc.args...), &out, &errOut, func(string) string { return "" })
		if code != 2 || out.Len() != 0 || !strings.Contains(errOut.String(), tc.want) {
			t.Fatalf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut.String(), tc.want)
		}
	}
}
