package mock_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/mock"
)

// hostile is one request a hostile or broken client might send, as raw
// bytes on a fresh connection.
type hostile struct {
	name string
	raw  func(s *mock.Server) string
	// holdOpen keeps the connection open after the bytes (a client that
	// never finishes).
	holdOpen bool
}

func req(method, path string, headers []string, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: mock\r\n", method, path)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.WriteString(body)
	return b.String()
}

func jsonReq(path, body string) func(*mock.Server) string {
	return func(*mock.Server) string {
		return req("POST", path, []string{"Content-Type: application/json"}, body)
	}
}

func authReq(method, path, auth string) func(*mock.Server) string {
	return func(*mock.Server) string { return req(method, path, []string{"Authorization: " + auth}, "") }
}

func minted(s *mock.Server) mock.Minted {
	m, err := s.MintSession(mock.ExampleUsername, 0, 0)
	if err != nil {
		panic(err)
	}
	return m
}

var hostileRequests = []hostile{
	{name: "100 KB header", raw: func(*mock.Server) string {
		return req("GET", mock.RefreshPath, []string{"X-Big: " + strings.Repeat("a", 100<<10)}, "")
	}},
	{name: "5000 headers", raw: func(*mock.Server) string {
		h := make([]string, 5000)
		for i := range h {
			h[i] = fmt.Sprintf("X-H%d: v", i)
		}
		return req("GET", mock.RefreshPath, h, "")
	}},
	{name: "100 KB URL", raw: func(*mock.Server) string { return req("GET", "/"+strings.Repeat("a", 100<<10), nil, "") }},
	{name: "10 MB body with Content-Length", raw: jsonReq(mock.LoginPath, `{"username":"`+strings.Repeat("x", 10<<20)+`"}`)},
	{name: "10 MB chunked body", raw: func(*mock.Server) string {
		var b strings.Builder
		b.WriteString("POST " + mock.RegisterPath + " HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
		chunk := strings.Repeat("x", 1<<20)
		for range 10 {
			fmt.Fprintf(&b, "%x\r\n%s\r\n", len(chunk), chunk)
		}
		b.WriteString("0\r\n\r\n")
		return b.String()
	}},
	{name: "Expect 100-continue with 1 GB Content-Length", raw: func(*mock.Server) string {
		return "POST " + mock.LoginPath + " HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 1073741824\r\nConnection: close\r\n\r\n"
	}},
	{name: "30000 nested arrays", raw: jsonReq(mock.LoginPath, strings.Repeat("[", 30000)+strings.Repeat("]", 30000))},
	{name: "nested objects in a field", raw: jsonReq(mock.LoginPath, `{"username":`+strings.Repeat(`{"a":`, 10000)+"1"+strings.Repeat("}", 10000)+`}`)},
	{name: "NUL in username", raw: jsonReq(mock.RegisterPath, `{"username":"ab\u0000cd","password":"password1"}`)},
	{name: "raw NUL byte in body", raw: jsonReq(mock.RegisterPath, "{\"username\":\"ab\x00cd\",\"password\":\"password1\"}")},
	{name: "NUL in password", raw: jsonReq(mock.LoginPath, `{"username":"john@API","password":"honey\u0000Bunnies"}`)},
	{name: "invalid UTF-8 in username", raw: jsonReq(mock.RegisterPath, "{\"username\":\"\xff\xfe\xfd\",\"password\":\"password1\"}")},
	{name: "invalid UTF-8 in password", raw: jsonReq(mock.RegisterPath, "{\"username\":\"someone\",\"password\":\"\xc3\x28password\"}")},
	{name: "lone surrogate escape", raw: jsonReq(mock.RegisterPath, `{"username":"\ud800abc","password":"password1"}`)},
	{name: "Unicode space in username", raw: jsonReq(mock.RegisterPath, `{"username":"\u00a0abc","password":"password1"}`)},
	{name: "line separator in username", raw: jsonReq(mock.RegisterPath, `{"username":"ab\u2028cd","password":"password1"}`)},
	{name: "duplicate keys", raw: jsonReq(mock.LoginPath, `{"username":"nobody","username":"john@API","password":"x","password":"honeyBunnies"}`)},
	{name: "number for username", raw: jsonReq(mock.LoginPath, `{"username":12345,"password":"honeyBunnies"}`)},
	{name: "huge number", raw: jsonReq(mock.LoginPath, `{"username":1e999999,"password":"honeyBunnies"}`)},
	{name: "array for password", raw: jsonReq(mock.LoginPath, `{"username":"john@API","password":["honeyBunnies"]}`)},
	{name: "object for password", raw: jsonReq(mock.LoginPath, `{"username":"john@API","password":{"value":"honeyBunnies"}}`)},
	{name: "bool for username", raw: jsonReq(mock.RegisterPath, `{"username":true,"password":"password1"}`)},
	{name: "BOM before the object", raw: jsonReq(mock.LoginPath, "\xef\xbb\xbf{\"username\":\"john@API\",\"password\":\"honeyBunnies\"}")},
	{name: "truncated JSON", raw: jsonReq(mock.LoginPath, `{"username":"john@API","pass`)},
	{name: "trailing garbage", raw: jsonReq(mock.LoginPath, `{"username":"john@API","password":"honeyBunnies"}garbage`)},
	{name: "10000 keys", raw: func(*mock.Server) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range 10000 {
			fmt.Fprintf(&b, `"k%d":1,`, i)
		}
		b.WriteString(`"z":0}`)
		return req("POST", mock.LoginPath, []string{"Content-Type: application/json"}, b.String())
	}},
	{name: "73-byte multibyte password", raw: jsonReq(mock.RegisterPath, `{"username":"someone","password":"`+strings.Repeat("é", 36)+`x"}`)},
	{name: "HTML content type", raw: func(*mock.Server) string {
		return req("POST", mock.LoginPath, []string{"Content-Type: text/html"}, "<html></html>")
	}},
	{name: "garbage content type", raw: func(*mock.Server) string {
		return req("POST", mock.LoginPath, []string{"Content-Type: ;;;==="}, `{}`)
	}},
	{name: "gzip-encoded body", raw: func(*mock.Server) string {
		return req("POST", mock.LoginPath, []string{"Content-Type: application/json", "Content-Encoding: gzip"}, "\x1f\x8b\x08\x00\x00\x00\x00\x00")
	}},
	{name: "Content-Length and chunked together", raw: func(*mock.Server) string {
		return "POST " + mock.LoginPath + " HTTP/1.1\r\nHost: mock\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	}},
	{name: "bad chunk size", raw: func(*mock.Server) string {
		return "POST " + mock.LoginPath + " HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
	}},
	{name: "no Host header", raw: func(*mock.Server) string { return "GET " + mock.RefreshPath + " HTTP/1.1\r\n\r\n" }},
	{name: "garbage request line", raw: func(*mock.Server) string { return "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS hello\r\n\r\n" }},
	{name: "unknown method", raw: func(*mock.Server) string { return req("BREW", mock.LoginPath, nil, "") }},
	{name: "dot segments", raw: jsonReq("/api/v1/account/../account/login", `{"username":"john@API","password":"honeyBunnies"}`)},
	{name: "60 KB bearer token", raw: authReq("GET", mock.RefreshPath, "Bearer "+strings.Repeat("a.", 30<<10))},
	{name: "bearer of three dots", raw: authReq("DELETE", mock.LogoutPath, "Bearer ...")},
	{name: "alg none token", raw: func(s *mock.Server) string {
		parts := strings.Split(minted(s).Refresh, ".")
		return authReq("GET", mock.RefreshPath, "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."+parts[1]+".")(s)
	}},
	{name: "access token at refresh", raw: func(s *mock.Server) string {
		return authReq("GET", mock.RefreshPath, "Bearer "+minted(s).Access)(s)
	}},
	{name: "token with a swapped payload", raw: func(s *mock.Server) string {
		a, b := strings.Split(minted(s).Refresh, "."), strings.Split(minted(s).Refresh, ".")
		return authReq("GET", mock.RefreshPath, "Bearer "+a[0]+"."+b[1]+"."+a[2])(s)
	}},
	{name: "Digest scheme", raw: authReq("GET", mock.RefreshPath, `Digest username="john"`)},
	{name: "absurd fault delay", raw: jsonReq("/_mock/faults", `{"route":"login","delay":"1000h"}`)},
	{name: "absurd clock advance", raw: jsonReq("/_mock/clock", `{"advance":"9223372036s"}`)},
	{name: "mint with a negative TTL", raw: jsonReq("/_mock/sessions", `{"username":"john@API","refresh_ttl":"-1h"}`)},
	{name: "body that never finishes", holdOpen: true, raw: func(*mock.Server) string {
		return "POST " + mock.LoginPath + " HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user"
	}},
	{name: "headers that never finish", holdOpen: true, raw: func(*mock.Server) string {
		return "POST " + mock.LoginPath + " HTTP/1.1\r\nHost: mock\r\nX-Slow: a"
	}},
}

// Every hostile request gets a 4xx or a closed connection, never a 5xx or
// a panic, and the server answers a normal login within a second after.
func TestHostileRequests(t *testing.T) {
	t.Parallel()
	if len(hostileRequests) < 40 {
		t.Fatalf("only %d hostile requests", len(hostileRequests))
	}
	s := mock.Start(t, mock.WithBcryptCost(4), mock.WithReadTimeout(300*time.Millisecond), mock.WithLockout(0, 0))
	addr := strings.TrimPrefix(s.URL, "http://")
	for _, h := range hostileRequests {
		t.Run(h.name, func(t *testing.T) {
			status, err := sendRaw(addr, h.raw(s), h.holdOpen)
			switch {
			case err != nil:
				t.Logf("connection closed: %v", err)
			case status >= 400 && status < 500:
				t.Logf("status %d", status)
			default:
				t.Fatalf("status %d, want a 4xx or a closed connection", status)
			}
		})
	}
	loginWithin(t, s.URL, time.Second)
}

// 1,000 connections opened and left idle do not stop the server from
// answering.
func TestIdleConnections(t *testing.T) {
	t.Parallel()
	s := mock.Start(t, mock.WithBcryptCost(4))
	addr := strings.TrimPrefix(s.URL, "http://")
	conns := make([]net.Conn, 0, 1000)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 1000 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("after %d connections: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	loginWithin(t, s.URL, time.Second)
}

func loginWithin(t *testing.T, url string, limit time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: limit}
	start := time.Now()
	resp, err := client.Post(url+mock.LoginPath, "application/json", strings.NewReader(credsJSON("john@API", "honeyBunnies")))
	if err != nil {
		t.Fatalf("normal login afterwards: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("normal login afterwards: %s", resp.Status)
	}
	t.Logf("normal login answered in %v", time.Since(start))
}

// sendRaw writes raw on a new connection and reads one answer. A
// connection the server closes (or resets) without an answer is an error.
func sendRaw(addr, raw string, holdOpen bool) (int, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	// Write in the background: the server may answer (413, 431) and close
	// before it has read everything.
	go func() {
		_, _ = io.WriteString(c, raw)
		if !holdOpen {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, fmt.Errorf("closed without an answer")
		}
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
