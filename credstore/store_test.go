package credstore_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
)

const serverA, serverB = "https://a.example", "http://127.0.0.1:8080"

func fakeJWT(t testing.TB, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
}

// tokens returns a readable pair for username with session id sid.
func tokens(t testing.TB, username, sid string) client.Tokens {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	tok, err := client.ParseTokens(
		fakeJWT(t, map[string]any{"sub": "id-" + username, "sid": sid, "typ": "access", "iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix()}),
		fakeJWT(t, map[string]any{"sub": "id-" + username, "sid": sid, "typ": "refresh", "iat": now.Unix(), "exp": now.Add(7 * 24 * time.Hour).Unix()}),
	)
	if err != nil {
		t.Fatal(err)
	}
	tok.Username = username
	return tok
}

func open(t testing.TB, dir string) *credstore.Store {
	t.Helper()
	s, err := credstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNormalizeServer(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"HTTPS://WWW.DyorBackend.TK/", "https://www.dyorbackend.tk"},
		{"https://x.example:443", "https://x.example"},
		{"http://x.example:80/", "http://x.example"},
		{"https://x.example:8443/api/", "https://x.example:8443/api"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"https://x.example/path?q=1#frag", "https://x.example/path"},
		{"", ""}, {"x.example", ""}, {"ftp://x.example", ""}, {"https://u:p@x.example", ""}, {"http://", ""},
	}
	for _, tt := range tests {
		got, err := credstore.NormalizeServer(tt.raw)
		if tt.want == "" {
			if err == nil {
				t.Errorf("NormalizeServer(%q) = %q, want an error", tt.raw, got)
			} else if strings.Contains(tt.raw, "@") && strings.Contains(err.Error(), "u:p") {
				t.Errorf("NormalizeServer(%q): error %q shows the user information", tt.raw, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeServer(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
		// The SDK's BaseURL is the same key, so ForServer(c.BaseURL()) works.
		if c, err := client.New(tt.raw); err == nil && c.BaseURL() != got {
			t.Errorf("client.New(%q).BaseURL() = %q, NormalizeServer = %q", tt.raw, c.BaseURL(), got)
		}
	}
}

func TestOpenCreatesNothing(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "not", "yet")
	s := open(t, dir)
	if s.Path() != filepath.Join(dir, credstore.FileName) {
		t.Errorf("Path() = %q", s.Path())
	}
	if _, err := s.ForServer(serverA).Load(t.Context()); !errors.Is(err, credstore.ErrNoActive) || !errors.Is(err, client.ErrNotLoggedIn) {
		t.Errorf("Load = %v, want ErrNoActive and client.ErrNotLoggedIn", err)
	}
	if accts, err := s.Accounts(); err != nil || len(accts) != 0 {
		t.Errorf("Accounts = %v, %v", accts, err)
	}
	if err := s.ForServer(serverA).Delete(t.Context()); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, credstore.FileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the file exists after reads and an empty Delete: %v", err)
	}
	if _, err := credstore.Open(""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("DYOR_CONFIG_DIR", "/somewhere/else")
	if dir, err := credstore.DefaultDir(); err != nil || dir != "/somewhere/else" {
		t.Errorf("DefaultDir = %q, %v", dir, err)
	}
	t.Setenv("DYOR_CONFIG_DIR", "")
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	t.Setenv("HOME", "/home/someone")
	base, _ := os.UserConfigDir()
	if dir, err := credstore.DefaultDir(); err != nil || dir != filepath.Join(base, "dyorctl") {
		t.Errorf("DefaultDir = %q, %v; want %s/dyorctl", dir, err, base)
	}
}

func TestSaveWritesTheDocumentedFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "cfg")
	s := open(t, dir)
	tok := tokens(t, "john@API", "s1")
	if err := s.ForServer(serverA+"/").Save(t.Context(), tok); err != nil {
		t.Fatal(err)
	}

	checkMode(t, dir, fs.ModeDir|0o700)
	checkMode(t, s.Path(), 0o600)
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Version int `json:"version"`
		Servers map[string]struct {
			Active   string                       `json:"active"`
			Accounts map[string]map[string]string `json:"accounts"`
		} `json:"servers"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	sa := f.Servers[serverA]
	if f.Version != 1 || sa.Active != "john@API" || sa.Accounts["john@API"]["access"] != tok.Access ||
		sa.Accounts["john@API"]["refresh"] != tok.Refresh || len(sa.Accounts["john@API"]) != 2 {
		t.Errorf("file = %s", data)
	}

	got, err := s.ForServer("HTTPS://A.EXAMPLE:443").Load(t.Context())
	if err != nil || got != tok {
		t.Errorf("Load = %v, %v; want %v", got, err, tok)
	}
	checkOnlyFiles(t, dir, credstore.FileName, "credentials.lock")
}

func TestExistingLooseDirectoryIsLeftAlone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := open(t, dir)
	if err := os.WriteFile(s.Path(), []byte(`{"version":1,"servers":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.ForServer(serverA).Save(t.Context(), tokens(t, "u1", "s1")); err != nil {
		t.Fatal(err)
	}
	checkMode(t, dir, fs.ModeDir|0o755)
	checkMode(t, s.Path(), 0o600)
}

func TestSeveralServersAndAccounts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t, t.TempDir())
	alice, bob, carol := tokens(t, "alice", "s-a"), tokens(t, "bob", "s-b"), tokens(t, "carol", "s-c")
	for _, step := range []struct {
		server string
		tok    client.Tokens
	}{{serverA, alice}, {serverA, bob}, {serverB, carol}} {
		if err := s.ForServer(step.server).Save(ctx, step.tok); err != nil {
			t.Fatal(err)
		}
	}
	checkAccounts(t, s, []credstore.Account{
		{Server: serverB, Username: "carol", Active: true, Tokens: carol},
		{Server: serverA, Username: "alice", Active: false, Tokens: alice},
		{Server: serverA, Username: "bob", Active: true, Tokens: bob},
	})
	if got, err := s.Active(serverA); err != nil || got.Username != "bob" || got.Tokens != bob {
		t.Errorf("Active(A) = %+v, %v; want bob", got, err)
	}

	if err := s.Switch(context.Background(), serverA, "alice"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ForServer(serverA).Load(ctx); got != alice {
		t.Errorf("after Switch, Load = %v; want alice", got)
	}
	err := s.Switch(context.Background(), serverA, "carol")
	if !errors.Is(err, credstore.ErrNoAccount) || !errors.Is(err, client.ErrNotLoggedIn) || !strings.Contains(err.Error(), "carol") {
		t.Errorf("Switch to an account of another server = %v", err)
	}
	if _, err := s.Active("not a url"); err == nil {
		t.Error("Active of a bad URL succeeded")
	}

	// Delete removes the active account only: the server has none active.
	if err := s.ForServer(serverA).Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Active(serverA); !errors.Is(err, credstore.ErrNoActive) || !strings.Contains(err.Error(), serverA) {
		t.Errorf("Active after Delete = %v; want ErrNoActive naming the server", err)
	}
	checkAccounts(t, s, []credstore.Account{
		{Server: serverB, Username: "carol", Active: true, Tokens: carol},
		{Server: serverA, Username: "bob", Active: false, Tokens: bob},
	})

	// Remove of an inactive account leaves the active one.
	if err := s.Remove(context.Background(), serverB, "nobody"); err != nil {
		t.Errorf("Remove of an unknown account: %v", err)
	}
	if err := s.Remove(context.Background(), serverA, "bob"); err != nil {
		t.Fatal(err)
	}
	checkAccounts(t, s, []credstore.Account{{Server: serverB, Username: "carol", Active: true, Tokens: carol}})

	// A second Store on the same directory sees it all.
	if got, err := open(t, filepath.Dir(s.Path())).Active(serverB); err != nil || got.Tokens != carol {
		t.Errorf("another Store: Active = %+v, %v", got, err)
	}
	if bad := s.ForServer("nope"); bad.Save(ctx, alice) == nil {
		t.Error("Save to a bad server URL succeeded")
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t, t.TempDir())
	ts := s.ForServer(serverA)
	a, b := tokens(t, "alice", "s1"), tokens(t, "alice", "s2")
	fnErr := errors.New("fn failed")

	// On an empty store fn sees zero tokens; zero back writes nothing.
	after, err := ts.Update(ctx, func(cur client.Tokens) (client.Tokens, error) {
		if !cur.IsZero() {
			t.Errorf("current = %v, want zero", cur)
		}
		return client.Tokens{}, fnErr
	})
	if !errors.Is(err, fnErr) || !after.IsZero() {
		t.Errorf("Update = %v, %v", after, err)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Error("an Update that changed nothing wrote the file")
	}

	if err := ts.Save(ctx, a); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(s.Path())

	// Unchanged: the file is not rewritten.
	after, err = ts.Update(ctx, func(cur client.Tokens) (client.Tokens, error) { return cur, nil })
	if err != nil || after != a {
		t.Errorf("Update = %v, %v", after, err)
	}
	if now, _ := os.Stat(s.Path()); !os.SameFile(before, now) {
		t.Error("an unchanged Update rewrote the file")
	}

	// Replaced, without a username: it is carried over. fn's error comes back.
	b2 := b
	b2.Username = ""
	after, err = ts.Update(ctx, func(client.Tokens) (client.Tokens, error) { return b2, fnErr })
	if !errors.Is(err, fnErr) || after != b {
		t.Errorf("Update = %v, %v; want %v and fn's error", after, err, b)
	}
	if got, _ := ts.Load(ctx); got != b {
		t.Errorf("stored %v, want %v", got, b)
	}

	// Tokens that cannot be read are refused and nothing is written.
	after, err = ts.Update(ctx, func(client.Tokens) (client.Tokens, error) {
		return client.Tokens{Access: "x", Refresh: "y", Username: "alice"}, nil
	})
	if err == nil || after != b {
		t.Errorf("Update with unreadable tokens = %v, %v; want an error and b kept", after, err)
	}
	if err := ts.Save(ctx, client.Tokens{Access: "x", Refresh: "y", Username: "alice"}); err == nil {
		t.Error("Save of unreadable tokens succeeded")
	}
	noName := a
	noName.Username = ""
	if err := ts.Save(ctx, noName); err == nil {
		t.Error("Save without a username succeeded")
	}

	// Zero removes.
	after, err = ts.Update(ctx, func(client.Tokens) (client.Tokens, error) { return client.Tokens{}, nil })
	if err != nil || !after.IsZero() {
		t.Errorf("Update = %v, %v", after, err)
	}
	if _, err := ts.Load(ctx); !errors.Is(err, client.ErrNotLoggedIn) {
		t.Errorf("Load after removal = %v", err)
	}
}

// TestLockHonoursContext: while another holder has the file lock, changes
// wait until their context ends; reads do not wait.
func TestLockHonoursContext(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	tok := tokens(t, "alice", "s1")
	if err := s.ForServer(serverA).Save(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	held := flock.New(filepath.Join(dir, "credentials.lock"))
	if err := held.Lock(); err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := s.ForServer(serverA).Update(ctx, func(cur client.Tokens) (client.Tokens, error) {
		t.Error("fn ran without the lock")
		return cur, nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Update = %v, want context.DeadlineExceeded", err)
	}
	if got, err := s.ForServer(serverA).Load(t.Context()); err != nil || got != tok {
		t.Errorf("Load while locked = %v, %v", got, err)
	}
}

// TestBadFilesAreReportedAndLeftUntouched: a corrupt, unknown or
// unreadable file gives an error naming it from every operation, and its
// bytes and mode are the same afterwards.
func TestBadFilesAreReportedAndLeftUntouched(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		content     string
		dir         bool // the path is a directory
		unreadable  bool // mode 0000
		loop        bool // a symbolic link to itself
		wantCorrupt bool
		wantText    string
	}{
		{name: "invalid JSON", content: `{"version":1,"servers":`, wantCorrupt: true, wantText: "not valid JSON"},
		{name: "empty file", content: "", wantCorrupt: true, wantText: "(empty)"},
		{name: "not an object", content: `[1,2,3]`, wantCorrupt: true},
		{name: "unknown version", content: `{"version":2,"servers":{}}`, wantCorrupt: true, wantText: "unknown version 2"},
		{name: "version as a string", content: `{"version":"1","servers":{}}`, wantCorrupt: true, wantText: "unknown version"},
		{name: "no version", content: `{"servers":{}}`, wantCorrupt: true, wantText: "no version"},
		{name: "wrong layout", content: `{"version":1,"servers":{"https://a.example":{"accounts":[]}}}`, wantCorrupt: true},
		{name: "token that is not a JWT", content: `{"version":1,"servers":{"https://a.example":{"active":"u","accounts":{"u":{"access":"x","refresh":"y"}}}}}`,
			wantCorrupt: true, wantText: `tokens of "u"`},
		{name: "bad server key", content: `{"version":1,"servers":{"ftp://x":{"active":"","accounts":{}}}}`, wantCorrupt: true},
		{name: "a directory in its place", dir: true, wantText: "cannot read the credential store"},
		{name: "symbolic link loop", loop: true, wantText: "cannot read the credential store"},
		{name: "unreadable", content: `{"version":1,"servers":{}}`, unreadable: true, wantText: "permission denied"},
	}
	ops := map[string]func(context.Context, *credstore.Store) error{
		"Load": func(ctx context.Context, s *credstore.Store) error {
			_, err := s.ForServer(serverA).Load(ctx)
			return err
		},
		"Save": func(ctx context.Context, s *credstore.Store) error {
			return s.ForServer(serverA).Save(ctx, tokens(t, "u", "s"))
		},
		"Delete":   func(ctx context.Context, s *credstore.Store) error { return s.ForServer(serverA).Delete(ctx) },
		"Accounts": func(ctx context.Context, s *credstore.Store) error { _, err := s.Accounts(); return err },
		"Active":   func(ctx context.Context, s *credstore.Store) error { _, err := s.Active(serverA); return err },
		"Switch":   func(ctx context.Context, s *credstore.Store) error { return s.Switch(ctx, serverA, "u") },
		"Remove":   func(ctx context.Context, s *credstore.Store) error { return s.Remove(ctx, serverA, "u") },
		"Update": func(ctx context.Context, s *credstore.Store) error {
			_, err := s.ForServer(serverA).Update(ctx, func(client.Tokens) (client.Tokens, error) {
				return tokens(t, "u", "s"), nil
			})
			return err
		},
		"client refresh": func(ctx context.Context, s *credstore.Store) error {
			c, err := client.New(serverA, client.WithTokenStore(s.ForServer(serverA)))
			if err != nil {
				return err
			}
			_, err = c.AccessToken(ctx)
			return err
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.unreadable && os.Geteuid() == 0 {
				t.Skip("root reads any file")
			}
			dir := t.TempDir()
			s := open(t, dir)
			switch {
			case tt.dir:
				if err := os.Mkdir(s.Path(), 0o700); err != nil {
					t.Fatal(err)
				}
			case tt.loop:
				if err := os.Symlink(s.Path(), s.Path()); err != nil {
					t.Skip("no symbolic links here:", err)
				}
			default:
				mode := fs.FileMode(0o644) // looser than what the store writes, so a write would show
				if tt.unreadable {
					mode = 0o000
				}
				if err := os.WriteFile(s.Path(), []byte(tt.content), mode); err != nil {
					t.Fatal(err)
				}
				_ = os.Chmod(s.Path(), mode)
			}
			before, _ := os.Lstat(s.Path())
			for name, op := range ops {
				err := op(t.Context(), s)
				if err == nil {
					t.Errorf("%s succeeded", name)
					continue
				}
				if !strings.Contains(err.Error(), s.Path()) {
					t.Errorf("%s: error %q does not name the file", name, err)
				}
				if errors.Is(err, credstore.ErrCorrupt) != tt.wantCorrupt {
					t.Errorf("%s: errors.Is(%q, ErrCorrupt) = %v, want %v", name, err, !tt.wantCorrupt, tt.wantCorrupt)
				}
				if tt.wantCorrupt && !strings.Contains(err.Error(), "move it away and log in again") {
					t.Errorf("%s: error %q does not say how to fix it", name, err)
				}
				if tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("%s: error %q does not contain %q", name, err, tt.wantText)
				}
				if errors.Is(err, client.ErrNotLoggedIn) {
					t.Errorf("%s: a bad file must not read as not logged in: %v", name, err)
				}
			}
			after, err := os.Lstat(s.Path())
			if err != nil {
				t.Fatal(err)
			}
			if after.Mode() != before.Mode() || !os.SameFile(before, after) {
				t.Errorf("file changed: mode %v → %v, same file %v", before.Mode(), after.Mode(), os.SameFile(before, after))
			}
			if !tt.dir && !tt.loop {
				_ = os.Chmod(s.Path(), 0o600)
				if got, _ := os.ReadFile(s.Path()); !bytes.Equal(got, []byte(tt.content)) {
					t.Errorf("content changed: %q", got)
				}
			}
			checkOnlyFiles(t, dir, credstore.FileName, "credentials.lock")
		})
	}
}

func checkMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != want {
		t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
	}
}

// checkOnlyFiles fails if dir holds anything but names (no temporary file
// left behind).
func checkOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, n := range names {
		allowed[n] = true
	}
	for _, e := range entries {
		if !allowed[e.Name()] {
			t.Errorf("unexpected file %s in %s", e.Name(), dir)
		}
	}
}

func checkAccounts(t *testing.T, s *credstore.Store, want []credstore.Account) {
	t.Helper()
	got, err := s.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Accounts = %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Accounts[%d] = %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// TestLoginReturnsTheSessionItReplaced: Login stores the new pair as the
// active account and returns the earlier pair of the same username that
// was stored when it held the lock; other usernames are kept and are not
// "earlier"; a failed login changes nothing.
func TestLoginReturnsTheSessionItReplaced(t *testing.T) {
	t.Parallel()
	s := open(t, t.TempDir())
	login := func(username, sid string) (client.Tokens, client.Tokens) {
		t.Helper()
		got, earlier, err := s.Login(t.Context(), serverA, func() (client.Tokens, error) { return tokens(t, username, sid), nil })
		if err != nil {
			t.Fatal(err)
		}
		return got, earlier
	}
	if _, earlier := login("u", "s1"); !earlier.IsZero() {
		t.Fatalf("first login replaced %v", earlier)
	}
	if _, earlier := login("v", "s2"); !earlier.IsZero() {
		t.Fatalf("another username's login replaced %v", earlier)
	}
	got, earlier := login("u", "s3")
	if earlier.SessionID != "s1" || got.SessionID != "s3" {
		t.Fatalf("second login of u: got %v replacing %v, want s3 replacing s1", got, earlier)
	}
	wantErr := errors.New("wrong password")
	if _, _, err := s.Login(t.Context(), serverA, func() (client.Tokens, error) { return client.Tokens{}, wantErr }); err != wantErr {
		t.Fatalf("failed login: %v", err)
	}
	a, err := s.Active(serverA)
	if err != nil || a.Username != "u" || a.Tokens.SessionID != "s3" {
		t.Fatalf("active = %+v, %v; want u with s3", a, err)
	}
	if list, _ := s.Accounts(); len(list) != 2 {
		t.Fatalf("%d accounts stored, want 2", len(list))
	}
}
