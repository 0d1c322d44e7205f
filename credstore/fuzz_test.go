package credstore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
)

// The fuzz target for the credentials file loader. Its seed corpus (f.Add
// below and testdata/fuzz/) runs in every go test; run it for longer with
//
//	go test -run '^$' -fuzz '^FuzzLoad$' -fuzztime 60s ./credstore/

// fuzzServer is a server the fuzzer's files are unlikely to name: the
// round trip stores an account there and removes it again.
const fuzzServer = "https://round-trip.fuzz.invalid"

func FuzzLoad(f *testing.F) {
	tok := tokens(f, "john@API", "s1")
	other := tokens(f, "jane", "s2")
	acct := func(t client.Tokens) string { return `{"access":"` + t.Access + `","refresh":"` + t.Refresh + `"}` }
	good := `{"version":1,"servers":{"https://a.example":{"active":"john@API","accounts":{"john@API":` + acct(tok) +
		`,"jane":` + acct(other) + `}},"http://127.0.0.1:8080":{"active":"","accounts":{"jane":` + acct(other) + `}}}}`
	f.Add([]byte(good))
	f.Add([]byte(`{"version":1,"servers":{}}`))
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"servers":null}`))
	f.Add([]byte(`{"version":1,"servers":{"https://a.example":null}}`))
	f.Add([]byte(`{"version":1,"servers":{"HTTPS://A.example:443/x/":{"active":"ghost","accounts":{"u":` + acct(tok) + `}}}}`))
	f.Add([]byte(`{"version":1,"servers":{"https://a.example":{"active":"u","accounts":{"u":` + acct(tok) + `}},"https://A.example/":{}}}`))
	f.Add([]byte(`{"version":1,"servers":{"http://[fe80::1%25eth0]:8080":{"active":"u","accounts":{"u":` + acct(tok) + `}}}}`))
	f.Add([]byte(`{"version":1,"servers":{"https://a.example":{"active":"u","accounts":{"u":{"access":"x","refresh":"y"}}}}}`))
	f.Add([]byte(`{"version":1,"servers":{"https://a.example":{"active":"","accounts":{"":` + acct(tok) + `}}}}`))
	f.Add([]byte("{\"version\":1,\"servers\":{\"https://a.example\":{\"active\":\"\xff\",\"accounts\":{\"\xff\":" + acct(tok) + "}}}}"))
	f.Add([]byte(`{"version":2,"servers":{}}`))
	f.Add([]byte(`{"version":"1"}`))
	f.Add([]byte(`{"version":1.0}`))
	f.Add([]byte(`{"version":1,"version":2}`))
	f.Add([]byte(`{"servers":{}}`))
	f.Add([]byte(`[1,2,3]`))
	f.Add([]byte(`null`))
	f.Add([]byte(""))
	f.Add([]byte("  \n"))
	f.Add([]byte(good[:len(good)/2]))
	f.Add([]byte("\xef\xbb\xbf" + `{"version":1,"servers":{}}`))
	// One directory for every input of a worker (inputs run one at a
	// time): each starts by writing the whole file.
	dir := f.TempDir()
	s := open(f, dir)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(s.Path(), data, 0o600); err != nil {
			t.Fatal(err)
		}
		accts, err := s.Accounts()
		if err != nil {
			checkRejected(t, s, data, err)
			return
		}
		for _, a := range accts {
			if a.Username == "" || a.Tokens.Username != a.Username || a.Tokens.Access == "" || a.Tokens.Refresh == "" {
				t.Fatalf("loaded an account that cannot be used: %+v", a)
			}
			if norm, err := credstore.NormalizeServer(a.Server); err != nil || norm != a.Server {
				t.Fatalf("loaded server %q, which normalises to %q, %v", a.Server, norm, err)
			}
		}

		// Written back through the store, the same accounts load again.
		ctx := context.Background()
		saved := false
		for _, a := range accts {
			if a.Active {
				if err := s.ForServer(a.Server).Save(ctx, a.Tokens); err != nil {
					t.Fatalf("Save of the active account %q on %s: %v", a.Username, a.Server, err)
				}
				saved = true
			}
		}
		if !saved {
			// A write that changes nothing in the end: add an account and
			// remove it.
			for _, a := range accts {
				if a.Server == fuzzServer {
					return
				}
			}
			if err := s.ForServer(fuzzServer).Save(ctx, tokens(t, "fuzz", "fuzz")); err != nil {
				t.Fatalf("Save: %v", err)
			}
			if err := s.Remove(context.Background(), fuzzServer, "fuzz"); err != nil {
				t.Fatalf("Remove: %v", err)
			}
		}
		written, err := os.ReadFile(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.Accounts()
		if err != nil {
			t.Fatalf("the store cannot read the file it wrote: %v\nfrom: %q\nwrote: %s", err, data, written)
		}
		if !sameAccounts(accts, again) {
			t.Fatalf("round trip changed the accounts:\n%+v\n%+v\nfrom: %q\nwrote: %s", accts, again, data, written)
		}
		// And the written form is a fixed point.
		if err := s.ForServer(fuzzServer).Save(ctx, tokens(t, "fuzz", "fuzz")); err != nil {
			t.Fatal(err)
		}
		if err := s.Remove(context.Background(), fuzzServer, "fuzz"); err != nil {
			t.Fatal(err)
		}
		if rewritten, _ := os.ReadFile(s.Path()); !bytes.Equal(rewritten, written) {
			t.Fatalf("rewriting changed the file:\n%s\n%s", written, rewritten)
		}
		checkOnlyFiles(t, dir, credstore.FileName, "credentials.lock")
	})
}

// checkRejected checks what a rejected file gets: an error matching
// ErrCorrupt that names the file, from reads and writes alike, and the
// file's bytes unchanged after every attempt to change it.
func checkRejected(t *testing.T, s *credstore.Store, data []byte, err error) {
	t.Helper()
	if !errors.Is(err, credstore.ErrCorrupt) || !strings.Contains(err.Error(), s.Path()) {
		t.Fatalf("Accounts = %v, want ErrCorrupt naming %s (file %q)", err, s.Path(), data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ss := s.ForServer("https://a.example")
	errs := map[string]error{
		"Save":   ss.Save(ctx, tokens(t, "u", "s")),
		"Delete": ss.Delete(ctx),
		"Switch": s.Switch(context.Background(), "https://a.example", "u"),
		"Remove": s.Remove(context.Background(), "https://a.example", "u"),
	}
	_, errs["Update"] = ss.Update(ctx, func(client.Tokens) (client.Tokens, error) { return tokens(t, "u", "s"), nil })
	_, errs["Load"] = ss.Load(ctx)
	for op, err := range errs {
		if !errors.Is(err, credstore.ErrCorrupt) || !strings.Contains(err.Error(), s.Path()) {
			t.Fatalf("%s = %v, want ErrCorrupt naming the file (file %q)", op, err, data)
		}
	}
	if got, err := os.ReadFile(s.Path()); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("a rejected file changed: %q → %q (%v)", data, got, err)
	}
}

func sameAccounts(a, b []credstore.Account) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzNormalizeServer: a server key is a fixed point (the file's keys are
// normalised again when read) and the SDK's BaseURL for the same URL.
func FuzzNormalizeServer(f *testing.F) {
	for _, raw := range []string{
		"http://127.0.0.1:8080", "HTTPS://WWW.DyorBackend.TK/", "https://x.example:443", "http://[::1]:8080/api/",
		"http://[fe80::1%25eth0]:8080", "http://[FE80::1%25En0]/", "https://x.example/a%2Fb/", "http://%C3%A9.example",
		"https://x.example/path?q=1#frag", "http://x.example:/", "http://x.example/%7e/", "http://x/ /",
	} {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		key, err := credstore.NormalizeServer(raw)
		if err != nil {
			return
		}
		again, err := credstore.NormalizeServer(key)
		if err != nil || again != key {
			t.Fatalf("NormalizeServer(%q) = %q, whose key is %q, %v", raw, key, again, err)
		}
		c, err := client.New(key)
		if err != nil {
			t.Fatalf("client.New(%q): %v (from %q)", key, err, raw)
		}
		if c.BaseURL() != key {
			t.Fatalf("client.New(%q).BaseURL() = %q (from %q)", key, c.BaseURL(), raw)
		}
		if c, err := client.New(raw); err == nil && c.BaseURL() != key {
			t.Fatalf("client.New(%q).BaseURL() = %q, NormalizeServer = %q", raw, c.BaseURL(), key)
		}
	})
}
