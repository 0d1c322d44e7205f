package mock

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets for everything the mock decodes from outside. Their seed
// corpora (f.Add below and testdata/fuzz/) run in every go test; run one for
// longer with
//
//	go test -run '^$' -fuzz '^FuzzAPIRequest$' -fuzztime 60s ./mock/
//
// or all of them with scripts/fuzz.sh.

func fuzzServer(t testing.TB) *Server {
	s, err := New(WithBcryptCost(4), WithLockout(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// checkEnvelope asserts the property of every answer: the JSON envelope,
// a 2xx or 4xx status, and for errors a code whose thousands are the status.
func checkEnvelope(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code >= 500 || w.Code < 200 || (w.Code >= 300 && w.Code < 400) {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var env struct {
		OK     *bool           `json:"ok"`
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.OK == nil {
		t.Fatalf("not the envelope: %v: %s", err, w.Body)
	}
	if *env.OK != (w.Code == 200) {
		t.Fatalf("ok=%v with status %d", *env.OK, w.Code)
	}
	if !*env.OK && (env.Error == nil || env.Error.Code/1000 != w.Code || env.Error.Message == "") {
		t.Fatalf("error envelope wrong for status %d: %s", w.Code, w.Body)
	}
	if *env.OK && len(env.Result) == 0 {
		t.Fatalf("ok without result: %s", w.Body)
	}
}

func FuzzAPIRequest(f *testing.F) {
	f.Add("POST", "/api/v1/account/login", "application/json", `{"username":"john@API","password":"honeyBunnies"}`)
	f.Add("POST", "/api/v1/account/register", "application/json; charset=utf-8", `{"username":"日本語ユーザ","password":"12345678"}`)
	f.Add("POST", "/api/v1/account/register", "application/json", `{"username":"a\u0000b","password":"12345678"}`)
	f.Add("POST", "/api/v1/account/login", "text/plain", `{}`)
	f.Add("POST", "/api/v1/account/login", "", `[[[[[[[[[[]]]]]]]]]]`)
	f.Add("POST", "/api/v1/account/login", "application/json", `{"username":"x","username":"john@API","password":"honeyBunnies"}`)
	f.Add("POST", "/api/v1/account/login", "application/json", `{"username":1e400,"password":true}`)
	f.Add("POST", "/api/v1/account/login", "application/json", "{\"username\":\"\xff\xfe\",\"password\":\"12345678\"}")
	f.Add("GET", "/api/v1/account/refresh", "", "")
	f.Add("DELETE", "/api/v1/account/logout", "application/json", "{}")
	f.Add("PATCH", "/api/v1/account/", "", "")
	f.Add("POST", "/_mock/faults", "application/json", `{"route":"login","delay":"1ns","probability":1e-300}`)
	f.Add("POST", "/_mock/sessions", "application/json", `{"username":"john@API","access_ttl":"-5s"}`)
	f.Add("POST", "/_mock/clock", "application/json", `{"advance":"9999999h"}`)
	f.Add("POST", "/_mock/accounts", "application/json", `{"username":"john@API","password":"x"}`)
	f.Add("POST", "/_mock/faults", "application/json", `{"route":"refresh","collide":2,"timeout":"1ms","times":1}`)
	f.Add("POST", "/_mock/faults", "application/json", `{"route":"login","status":503,"retry_after":"1s","after":true}`)
	f.Add("POST", "/_mock/settings", "application/json", `{"refresh_grace":"1s","session_leak_threshold":1e9}`)
	f.Add("GET", "/_mock/findings", "", "")
	s := fuzzServer(f)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, method, path, contentType, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#%\r\n\t") || method == "" ||
			strings.ContainsAny(method, " \r\n\t/()<>@,;:\\\"[]?={}") || !utf8.ValidString(method) {
			return // not a request line a server could receive
		}
		if path == "/_mock/reset" || strings.HasPrefix(path, "/_mock/clock") {
			return // would reset or age the shared server; tested on their own
		}
		req, err := http.NewRequest(method, "http://mock"+path, strings.NewReader(body))
		if err != nil {
			return // not a URL a client could send
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		checkEnvelope(t, w)
		s.ClearFaults() // a fault rule added by the input must not leak into the next
	})
}

func FuzzAuthorization(f *testing.F) {
	s := fuzzServer(f)
	m, err := s.MintSession(ExampleUsername, 0, 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Bearer " + m.Access)
	f.Add("bearer " + m.Refresh)
	f.Add("Bearer " + m.Refresh[:len(m.Refresh)-3])
	f.Add("Bearer a.b.c")
	f.Add("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.")
	f.Add("Basic Zm9vOmJhcg==")
	f.Add("Bearer     ")
	f.Add("Bearer\tx")
	f.Add("")
	h := s.Handler()
	f.Fuzz(func(t *testing.T, auth string) {
		if strings.ContainsAny(auth, "\r\n") {
			return // not a header value
		}
		for _, route := range []struct{ method, path string }{{"GET", RefreshPath}, {"DELETE", LogoutPath}} {
			req := httptest.NewRequest(route.method, "http://mock"+route.path, nil)
			req.Header.Set("Authorization", auth)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			checkEnvelope(t, w)
			if w.Code == 200 {
				// The only tokens that can pass are the ones the server issued.
				tok, _ := bearerToken(auth)
				if tok != m.Access && tok != m.Refresh && !strings.Contains(w.Body.String(), `"result":{"token"`) {
					t.Fatalf("accepted a token the server did not issue: %q", auth)
				}
				return // the session is used up; later inputs get 401004
			}
		}
	})
}

// The signer's own output always checks back to the same claims, and
// check never panics on any string.
func FuzzTokenRoundTrip(f *testing.F) {
	f.Add("dyormock", "acc", "sid", int64(1_700_000_000), int64(900), "x.y.z")
	f.Add("iss with \"quotes\" and \\", "a\u00e9", "s", int64(0), int64(1), "")
	sg := newSigner([]byte("fuzz secret"), "dyormock")
	f.Fuzz(func(t *testing.T, issuer, sub, sid string, iat, ttl int64, junk string) {
		now := time.Unix(1_800_000_000, 0)
		if _, e := sg.check(junk, now, typeAccess, typeRefresh); e != nil && e.Code != CodeBadToken && e.Code != CodeTokenExpired {
			t.Fatalf("check(junk) gave code %d", e.Code)
		}
		if WithIssuer(issuer)(&config{}) != nil || sub == "" || sid == "" || ttl <= 0 || ttl > 1<<40 || iat < 0 || iat > 1<<40 {
			return
		}
		if !utf8.ValidString(sub) || !utf8.ValidString(sid) {
			return // JSON strings are UTF-8: invalid bytes would come back as U+FFFD
		}
		s := newSigner([]byte("fuzz secret"), issuer)
		c := claims{Issuer: issuer, Subject: sub, SessionID: sid, Type: typeRefresh, IssuedAt: iat, ExpiresAt: iat + ttl, ID: "jti"}
		tok := string(s.appendToken(nil, &c))
		got, e := s.check(tok, time.Unix(iat, 0), typeRefresh)
		if e != nil {
			t.Fatalf("own token rejected: %v (%q)", e, tok)
		}
		if *got != c {
			t.Fatalf("claims changed: %+v != %+v", *got, c)
		}
	})
}

func FuzzCredentials(f *testing.F) {
	f.Add(`{"username":"john@API","password":"honeyBunnies"}`)
	f.Add(`{"username":"\u00e9\u00e9\u00e9","password":"\ud800\udc00xxxxxx"}`)
	f.Add(`{"username":"abc","password":"12345678","extra":[1,2,{"x":null}]}`)
	f.Add(`{"username":"abc","password":12345678}`)
	f.Fuzz(func(t *testing.T, body string) {
		obj, e := decodeObject([]byte(body))
		if e != nil {
			if e.Code != CodeInvalidJSON {
				t.Fatalf("decodeObject gave %d", e.Code)
			}
			return
		}
		u, p, e := credentials(obj)
		if e != nil {
			if e.Code != CodeInvalidField {
				t.Fatalf("credentials gave %d", e.Code)
			}
			return
		}
		// Accepted credentials re-encode to a body that decodes to the same.
		b, err := json.Marshal(map[string]string{"username": u, "password": p})
		if err != nil {
			t.Fatal(err)
		}
		obj2, e := decodeObject(b)
		if e != nil {
			t.Fatalf("re-encoded body rejected: %v", e)
		}
		u2, p2, e := credentials(obj2)
		if e != nil || u2 != u || p2 != p {
			t.Fatalf("round trip changed %q/%q to %q/%q (%v)", u, p, u2, p2, e)
		}
	})
}

func FuzzStateFile(f *testing.F) {
	s := fuzzServer(f)
	if _, err := s.MintSession(ExampleUsername, 0, 0); err != nil {
		f.Fatal(err)
	}
	good, _ := json.Marshal(s.snapshot())
	f.Add(good)
	f.Add([]byte(`{"version":1,"accounts":[],"sessions":[]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"sessions":[{"id":"x","account_id":"y","rotated":true}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decodeState(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		st2, err := decodeState(b)
		if err != nil {
			t.Fatalf("re-encoded state rejected: %v", err)
		}
		if !reflect.DeepEqual(normalizeState(st), normalizeState(st2)) {
			t.Fatalf("round trip changed the state:\n%+v\n%+v", st, st2)
		}
		// And it loads into a server without panicking.
		path := t.TempDir() + "/state.json"
		if err := writeFileAtomic(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		srv, err := New(WithBcryptCost(4), WithNoSeed(), WithStateFile(path, 0))
		if err == nil {
			srv.Close()
		}
	})
}

// normalizeState drops what JSON cannot tell apart (nil vs empty slices,
// time zones).
func normalizeState(st *stateFile) string {
	for i := range st.Accounts {
		if st.Accounts[i].LockedUntil != nil {
			u := st.Accounts[i].LockedUntil.UTC()
			st.Accounts[i].LockedUntil = &u
		}
	}
	b, _ := json.Marshal(st)
	return string(bytes.ReplaceAll(bytes.ReplaceAll(b, []byte(`"accounts":null`), []byte(`"accounts":[]`)), []byte(`"sessions":null`), []byte(`"sessions":[]`)))
}
