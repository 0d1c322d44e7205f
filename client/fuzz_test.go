package client

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// Fuzz targets for what the SDK reads from outside: the server's answers
// and the claims of its tokens. Their seed corpora (f.Add below and
// testdata/fuzz/) run in every go test; run one for longer with
//
//	go test -run '^$' -fuzz '^FuzzDecodeAnswer$' -fuzztime 60s ./client/

// maxMessageRunes bounds APIError.Message: clean keeps at most 200 runes
// of an envelope's message (100 of a body excerpt) plus an ellipsis.
const maxMessageRunes = 201

// checkPrintable fails unless s is valid UTF-8 without control or
// bidirectional-override characters and at most maxRunes runes long.
func checkPrintable(t *testing.T, what, s string, maxRunes int) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s is not valid UTF-8: %q", what, s)
	}
	if n := utf8.RuneCountInString(s); maxRunes > 0 && n > maxRunes {
		t.Fatalf("%s has %d runes, more than %d: %q", what, n, maxRunes, s)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			t.Fatalf("%s holds the control character %U: %q", what, r, s)
		}
	}
}

func FuzzDecodeAnswer(f *testing.F) {
	env := func(result string) []byte { return []byte(`{"ok":true,"result":` + result + `}`) }
	f.Add(200, env(`{"token":{"access":"a.b.c","refresh":"d.e.f"}}`))
	f.Add(200, env(`{}`))
	f.Add(401, []byte(`{"ok":false,"error":{"code":401004,"message":"session not found"}}`))
	f.Add(403, []byte(`{"ok":false,"error":{"code":403002,"message":"account locked\u202e\u0007\r\n  until later"}}`))
	f.Add(502, []byte("<html>\r\n<head><title>502 Bad Gateway</title></head>\n<body>\x1b[31mnginx</body></html>"))
	f.Add(500, []byte(""))
	f.Add(204, []byte(""))
	f.Add(200, []byte(`{"ok":true,"result":{"token":{"acc`))
	f.Add(401, []byte(`{"ok":false,"error":{"code":4010`))
	f.Add(200, []byte(`{"ok":true}`))
	f.Add(200, []byte(`{"ok":true,"result":null}`))
	f.Add(400, []byte(`{"ok":false,"error":{"code":"x"}}`))
	f.Add(200, []byte(`{"ok":false,"error":{"code":401002,"message":"m"}}`))
	f.Add(500, []byte(`{"ok":false,"error":{"message":"no code"}}`))
	f.Add(500, []byte("bad \xff\xfe bytes \xed\xa0\x80"))
	f.Add(200, []byte("{\"ok\":true,\"result\":{\"token\":{\"access\":\"\xff\",\"refresh\":\"\\ud800\"}}}"))
	f.Add(200, env(`{"token":{"access":1,"refresh":2}}`))
	f.Add(200, []byte(`{"OK":true,"Result":{"Token":{"Access":"x"}},"ok":false}`))
	f.Add(101, []byte(`{"ok":true,"result":{}}`))
	f.Add(304, []byte(`{"ok":true,"result":{}}`))
	f.Add(599, bytes.Repeat([]byte("\u00e9\t"), 300))
	f.Add(200, append(append([]byte(`{"ok":true,"result":{"token":{"access":"`), bytes.Repeat([]byte("a"), 2<<20)...), `"}}}`...))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			return // net/http hands the client nothing else
		}
		success := status >= 200 && status < 300

		var res tokenResult
		err := decodeAnswer(status, body, &res)
		errNil := decodeAnswer(status, body, nil)

		// Any error is an *APIError of this status with a short,
		// printable message, and so is its text.
		for _, e := range []error{err, errNil} {
			if e == nil {
				continue
			}
			var ae *APIError
			if !errors.As(e, &ae) {
				t.Fatalf("decodeAnswer(%d) = %T %v, want an *APIError", status, e, e)
			}
			if ae.Status != status {
				t.Fatalf("APIError.Status = %d, want %d", ae.Status, status)
			}
			checkPrintable(t, "APIError.Message", ae.Message, maxMessageRunes)
			checkPrintable(t, "APIError.Error()", ae.Error(), 0)
			if ae.Code == 0 && errors.Is(e, ErrSessionInvalid) {
				t.Fatalf("an answer without a code matched ErrSessionInvalid: %v", e)
			}
		}
		if !success && (err == nil || errNil == nil) {
			t.Fatalf("status %d decoded as a success (%v, %v)", status, err, errNil)
		}
		if err == nil && errNil != nil {
			t.Fatalf("a result decoded but the bare answer did not: %v", errNil)
		}

		// What a success is: the envelope with "ok": true (and a result,
		// when one is wanted) and no error code.
		var e envelope
		isEnvelope := json.Unmarshal(body, &e) == nil && e.OK != nil
		if success && isEnvelope && *e.OK && (e.Error == nil || e.Error.Code == 0) {
			if errNil != nil {
				t.Fatalf("status %d with ok:true = %v, want success", status, errNil)
			}
		}
		if isEnvelope && !*e.OK && e.Error != nil && e.Error.Code != 0 {
			var ae *APIError
			if !errors.As(errNil, &ae) || ae.Code != e.Error.Code {
				t.Fatalf("error envelope with code %d gave %v", e.Error.Code, errNil)
			}
		}
		// The body as a token in a valid success envelope comes back as it
		// was (JSON strings are UTF-8: invalid bytes become U+FFFD).
		if success && len(body) <= 64<<10 { // (a huge body costs time, not coverage)
			tok := viaJSON(t, string(body))
			wrapped, merr := json.Marshal(map[string]any{"ok": true, "result": map[string]any{
				"token": map[string]string{"access": tok, "refresh": strings.ToUpper(tok)}}})
			if merr != nil {
				t.Fatal(merr)
			}
			var w tokenResult
			if err := decodeAnswer(status, wrapped, &w); err != nil {
				t.Fatalf("valid envelope rejected: %v", err)
			}
			if w.Token.Access != tok || w.Token.Refresh != strings.ToUpper(tok) {
				t.Fatalf("valid envelope decoded to %+v", w)
			}
		}

		if err != nil {
			return
		}

		// A decoded result re-encoded in the envelope decodes to the same.
		again, merr := json.Marshal(map[string]any{"ok": true, "result": res})
		if merr != nil {
			t.Fatal(merr)
		}
		var res2 tokenResult
		if err := decodeAnswer(status, again, &res2); err != nil {
			t.Fatalf("re-encoded result %s rejected: %v", again, err)
		}
		if res2 != res {
			t.Fatalf("round trip changed %+v to %+v", res, res2)
		}
	})
}

// jwtOf returns a JWT (with a made-up signature) whose payload is claims.
func jwtOf(t *testing.T, claims map[string]any, sig string) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(payload) + "." + sig
}

// viaJSON is s as a JSON encoder and decoder carry it (invalid UTF-8
// becomes U+FFFD).
func viaJSON(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func FuzzParseTokens(f *testing.F) {
	f.Add("acc-1", "sess-1", "acc-1", "sess-1", int64(1_800_000_900), int64(1_800_604_800), int64(1_800_000_000), 0.0, true, "c2ln",
		"a.b.c", "eyJhbGciOiJub25lIn0.eyJleHAiOjF9.")
	f.Add("", "", "sub-r", "sid-r", int64(-1), int64(0), int64(0), 0.5, false, "",
		"x.eyJleHAiOiIxZTE1In0=.y", "..")
	f.Add("\xff", "\u202e", "", "", int64(1e15), int64(-1e15), int64(1e15+1), -0.25, true, "sig.with.dots",
		"a.eyJleHAiOjEuNX0.b", "a.bnVsbA.b")
	f.Add("s", "i", "s", "i", int64(math.MaxInt64), int64(math.MinInt64), int64(0), 0.999999999, true, "==",
		"a.W10.b", "a.eyJleHAiOm51bGx9.b")
	f.Add("s", "i", "s", "i", int64(1), int64(2), int64(3), 0.0, true, "s",
		"a.eyJleHAiOjEsImlhdCI6IngifQ.b", "a.eyJleHAiOjEsImV4cCI6Mn0.b")
	f.Fuzz(func(t *testing.T, accSub, accSid, refSub, refSid string, accExp, refExp, iat int64, frac float64, withIat bool, sig string,
		rawAccess, rawRefresh string) {
		// Never a panic on anything, and what parses is what was given.
		if tok, err := ParseTokens(rawAccess, rawRefresh); err == nil {
			if tok.Access != rawAccess || tok.Refresh != rawRefresh || tok.Username != "" {
				t.Fatalf("ParseTokens changed its input: %+v", tok)
			}
			for _, raw := range []string{rawAccess, rawRefresh} {
				checkHasExp(t, raw)
			}
			for _, at := range []time.Time{tok.AccessExpiresAt, tok.RefreshExpiresAt} {
				if at.Location() != time.UTC || at.Before(time.Unix(-1e15, 0)) || at.After(time.Unix(1e15, 0)) {
					t.Fatalf("expiry %v out of range or not UTC", at)
				}
			}
		}

		// Tokens built from claims read back as those claims.
		if math.IsNaN(frac) || math.IsInf(frac, 0) || frac <= -1 || frac >= 1 {
			frac = 0
		}
		sig = strings.ReplaceAll(sig, ".", "")
		accessExpF := float64(accExp) + frac
		access := map[string]any{"typ": "access", "exp": accessExpF}
		if frac == 0 {
			access["exp"] = accExp
		}
		if accSub != "" {
			access["sub"] = accSub
		}
		if accSid != "" {
			access["sid"] = accSid
		}
		if withIat {
			access["iat"] = iat
		}
		refresh := map[string]any{"typ": "refresh", "exp": refExp, "sub": refSub, "sid": refSid}
		tok, err := ParseTokens(jwtOf(t, access, sig), jwtOf(t, refresh, sig))
		inRange := func(n float64) bool { return math.Abs(n) <= 1e15 }
		valid := inRange(accessExpF) && inRange(float64(refExp)) && (!withIat || inRange(float64(iat)))
		if !valid {
			if err == nil {
				t.Fatalf("accepted out-of-range dates exp=%v/%v iat=%v", accessExpF, refExp, iat)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseTokens of built tokens: %v (%v, %v)", err, access, refresh)
		}
		wantSub, wantSid := viaJSON(t, accSub), viaJSON(t, accSid)
		if wantSub == "" {
			wantSub = viaJSON(t, refSub)
		}
		if wantSid == "" {
			wantSid = viaJSON(t, refSid)
		}
		if tok.Subject != wantSub || tok.SessionID != wantSid {
			t.Fatalf("sub/sid = %q/%q, want %q/%q", tok.Subject, tok.SessionID, wantSub, wantSid)
		}
		if want := time.Unix(refExp, 0).UTC(); !tok.RefreshExpiresAt.Equal(want) {
			t.Fatalf("RefreshExpiresAt = %v, want %v", tok.RefreshExpiresAt, want)
		}
		// A fractional second is kept to within float64's precision.
		wantAccess := time.Unix(accExp, 0).Add(time.Duration(frac * float64(time.Second)))
		tolerance := time.Microsecond
		if frac != 0 {
			// float64 has 53 bits: about 1e15 s carries ~0.1 s of error.
			tolerance += time.Duration(math.Abs(float64(accExp)) * 1e-15 * float64(time.Second) * 4)
		}
		if d := tok.AccessExpiresAt.Sub(wantAccess); d > tolerance || d < -tolerance {
			t.Fatalf("AccessExpiresAt = %v, want %v (±%v)", tok.AccessExpiresAt, wantAccess, tolerance)
		}
		if frac == 0 && !tok.AccessExpiresAt.Equal(time.Unix(accExp, 0)) {
			t.Fatalf("AccessExpiresAt = %v, want exactly %v", tok.AccessExpiresAt, time.Unix(accExp, 0).UTC())
		}
		if withIat != !tok.AccessIssuedAt.IsZero() && iat != -62135596800 {
			t.Fatalf("AccessIssuedAt = %v with iat present = %v", tok.AccessIssuedAt, withIat)
		}
		if withIat && !tok.AccessIssuedAt.Equal(time.Unix(iat, 0)) {
			t.Fatalf("AccessIssuedAt = %v, want %v", tok.AccessIssuedAt, time.Unix(iat, 0).UTC())
		}
		if tok.AccessExpiresAt.Location() != time.UTC || tok.RefreshExpiresAt.Location() != time.UTC {
			t.Fatalf("times not in UTC: %v %v", tok.AccessExpiresAt, tok.RefreshExpiresAt)
		}
		if !reflect.DeepEqual(tok, mustParse(t, tok.Access, tok.Refresh)) {
			t.Fatal("ParseTokens is not deterministic")
		}
	})
}

func mustParse(t *testing.T, access, refresh string) Tokens {
	t.Helper()
	tok, err := ParseTokens(access, refresh)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// checkHasExp fails unless raw is three dot-separated parts whose middle
// one is base64url of a JSON object with an "exp" claim, read here with
// encoding/json alone.
func checkHasExp(t *testing.T, raw string) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("accepted %q: not three parts", raw)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		t.Fatalf("accepted %q: payload not base64url: %v", raw, err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatalf("accepted %q: payload %q not a JSON object: %v", raw, payload, err)
	}
	if _, ok := c["exp"]; !ok {
		t.Fatalf("accepted %q: no exp in %q", raw, payload)
	}
}
