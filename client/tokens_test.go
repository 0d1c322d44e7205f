package client_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
)

func TestParseTokens(t *testing.T) {
	t.Parallel()
	iat := time.Unix(1_700_000_000, 0).UTC()
	good := fakeJWT(t, map[string]any{"sub": "acc-1", "sid": "sess-1", "iat": iat.Unix(), "exp": iat.Add(15 * time.Minute).Unix()})
	goodRefresh := fakeJWT(t, map[string]any{"sub": "acc-1", "sid": "sess-1", "exp": iat.Add(7 * 24 * time.Hour).Unix()})
	tests := []struct {
		name             string
		access, refresh  string
		wantErr          string
		wantAccessExpiry time.Time
	}{
		{name: "valid", access: good, refresh: goodRefresh, wantAccessExpiry: iat.Add(15 * time.Minute)},
		{name: "fractional exp", access: fakeJWT(t, map[string]any{"exp": 1700000000.5}), refresh: goodRefresh,
			wantAccessExpiry: time.Unix(1700000000, 500_000_000).UTC()},
		{name: "padded payload", access: padded(good), refresh: goodRefresh, wantAccessExpiry: iat.Add(15 * time.Minute)},
		{name: "empty access", access: "", refresh: goodRefresh, wantErr: "access token: not a JWT"},
		{name: "two parts", access: "abc.def", refresh: goodRefresh, wantErr: "access token: not a JWT"},
		{name: "payload not base64", access: "a.!!!.c", refresh: goodRefresh, wantErr: "not base64url"},
		{name: "payload not JSON", access: "a.bm90IGpzb24.c", refresh: goodRefresh, wantErr: "not a JSON object"},
		{name: "no exp", access: fakeJWT(t, map[string]any{"sub": "x"}), refresh: goodRefresh, wantErr: `no "exp" claim`},
		{name: "exp not a number", access: fakeJWT(t, map[string]any{"exp": true}), refresh: goodRefresh, wantErr: "access token"},
		{name: "huge exp", access: fakeJWT(t, map[string]any{"exp": 1e300}), refresh: goodRefresh, wantErr: "not a number of seconds"},
		{name: "bad refresh", access: good, refresh: "x", wantErr: "refresh token: not a JWT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := client.ParseTokens(tt.access, tt.refresh)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseTokens error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTokens: %v", err)
			}
			if !got.AccessExpiresAt.Equal(tt.wantAccessExpiry) {
				t.Errorf("AccessExpiresAt = %v, want %v", got.AccessExpiresAt, tt.wantAccessExpiry)
			}
			if got.Access != tt.access || got.Refresh != tt.refresh || got.Username != "" {
				t.Errorf("tokens not carried as given: %+v", got)
			}
		})
	}

	t.Run("claims", func(t *testing.T) {
		t.Parallel()
		got, err := client.ParseTokens(good, goodRefresh)
		if err != nil {
			t.Fatal(err)
		}
		want := client.Tokens{
			Access: good, Refresh: goodRefresh, SessionID: "sess-1", Subject: "acc-1",
			AccessIssuedAt: iat, AccessExpiresAt: iat.Add(15 * time.Minute), RefreshExpiresAt: iat.Add(7 * 24 * time.Hour),
		}
		if got != want {
			t.Errorf("ParseTokens = %#v, want %#v", got, want)
		}
	})
}

func TestTokensRefreshableAndIsZero(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	tok := fakePair(t, now, now.Add(time.Minute), now.Add(time.Hour))
	tests := []struct {
		name      string
		tok       client.Tokens
		at        time.Time
		wantValid bool
		wantZero  bool
	}{
		{"zero", client.Tokens{}, now, false, true},
		{"fresh", tok, now, true, false},
		{"access expired, refresh not", tok, now.Add(2 * time.Minute), true, false},
		{"refresh expired", tok, now.Add(time.Hour), false, false},
	}
	for _, tt := range tests {
		if got := tt.tok.Refreshable(tt.at); got != tt.wantValid {
			t.Errorf("%s: Valid = %v, want %v", tt.name, got, tt.wantValid)
		}
		if got := tt.tok.IsZero(); got != tt.wantZero {
			t.Errorf("%s: IsZero = %v, want %v", tt.name, got, tt.wantZero)
		}
	}
}

func TestTokensPrintWithoutTokens(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tok := fakePair(t, now, now.Add(time.Minute), now.Add(time.Hour))
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, tok)
		if strings.Contains(out, tok.Access) || strings.Contains(out, tok.Refresh) {
			t.Errorf("Sprintf(%q) shows a token: %s", format, out)
		}
		if !strings.Contains(out, "sess-1") {
			t.Errorf("Sprintf(%q) = %s, want the session id", format, out)
		}
	}
}

// padded adds base64 padding to a JWT's payload, as lenient issuers do.
func padded(jwt string) string {
	parts := strings.Split(jwt, ".")
	parts[1] += strings.Repeat("=", (4-len(parts[1])%4)%4)
	return strings.Join(parts, ".")
}
