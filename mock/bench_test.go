package mock_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/dyor-exchange/dyorctl/mock"
)

// The benchmarks call the handler directly, so they measure the server's
// own work per request (decoding, bcrypt, signing, the session store), not
// the loopback network. Run them with
//
//	go test -run '^$' -bench . -benchmem ./mock/

func serve(b *testing.B, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, w.Code, w.Body)
	}
	return w
}

func newBenchServer(b *testing.B, opts ...mock.Option) *mock.Server {
	s, err := mock.New(opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	return s
}

func loginRequest(user, pass string) *http.Request {
	r := httptest.NewRequest("POST", mock.LoginPath, strings.NewReader(credsJSON(user, pass)))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// BenchmarkLogin pays bcrypt on every login (the login cache is off);
// BenchmarkLoginRepeat is the default: the cache on.
func BenchmarkLogin(b *testing.B) {
	for _, cost := range []int{4, bcrypt.DefaultCost} {
		b.Run(fmt.Sprintf("bcrypt-cost-%d", cost), func(b *testing.B) {
			s := newBenchServer(b, mock.WithBcryptCost(cost), mock.WithLoginCache(false))
			h := s.Handler()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					serve(b, h, loginRequest(mock.ExampleUsername, mock.ExamplePassword))
				}
			})
		})
	}
}

// Repeated logins of one account at the default options: the first pays
// bcrypt (before the timer), the rest hit the login cache.
func BenchmarkLoginRepeat(b *testing.B) {
	s := newBenchServer(b)
	h := s.Handler()
	serve(b, h, loginRequest(mock.ExampleUsername, mock.ExamplePassword))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, h, loginRequest(mock.ExampleUsername, mock.ExamplePassword))
		}
	})
}

func BenchmarkRegister(b *testing.B) {
	s := newBenchServer(b, mock.WithBcryptCost(4))
	h := s.Handler()
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", mock.RegisterPath, strings.NewReader(credsJSON(fmt.Sprintf("user-%d", n.Add(1)), "password1")))
			serve(b, h, r)
		}
	})
}

// Each goroutine owns one session chain: refresh rotates, so chains cannot
// be shared.
func BenchmarkRefresh(b *testing.B) {
	s := newBenchServer(b, mock.WithBcryptCost(4))
	h := s.Handler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		m, err := s.MintSession(mock.ExampleUsername, 0, 0)
		if err != nil {
			b.Error(err)
			return
		}
		refresh := m.Refresh
		for pb.Next() {
			r := httptest.NewRequest("GET", mock.RefreshPath, nil)
			r.Header.Set("Authorization", "Bearer "+refresh)
			w := serve(b, h, r)
			body := w.Body.String()
			i := strings.Index(body, `"refresh":"`) + len(`"refresh":"`)
			refresh = body[i : i+strings.IndexByte(body[i:], '"')]
		}
	})
}

// Sessions are minted in advance, so the loop measures logout alone.
func BenchmarkLogout(b *testing.B) {
	s := newBenchServer(b, mock.WithBcryptCost(4))
	h := s.Handler()
	tokens := make([]string, b.N)
	for i := range tokens {
		m, err := s.MintSession(mock.ExampleUsername, 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = m.Access
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("DELETE", mock.LogoutPath, nil)
			r.Header.Set("Authorization", "Bearer "+tokens[next.Add(1)-1])
			serve(b, h, r)
		}
	})
}

// The floor: a handler answering fixed JSON through the same recorder.
func BenchmarkFixedJSONFloor(b *testing.B) {
	body := []byte(`{"ok":true,"result":{}}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, h, httptest.NewRequest("GET", mock.RefreshPath, nil))
		}
	})
}
