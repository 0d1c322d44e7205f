package mock_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dyor-exchange/dyorctl/mock"
)

// A restart with the same state file and secret keeps accounts and
// sessions: a token issued before the restart refreshes after it.
func TestStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	secret := mock.WithSecret([]byte("fixed secret"))
	first := mock.NewServer(mock.WithBcryptCost(4), mock.WithStateFile(path, 0), secret)
	s1 := &testServer{Server: first, t: t, client: start(t).client}
	s1.do("POST", mock.RegisterPath, credsJSON("alice", "password1")).wantOK(t)
	p := s1.login("alice", "password1")
	rotated := s1.login("john@API", "honeyBunnies")
	s1.refresh(rotated.Refresh).wantOK(t)
	first.Close()

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", info.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("password1")) || bytes.Contains(raw, []byte("honeyBunnies")) {
		t.Fatal("state file holds a password in clear")
	}

	second := mock.NewServer(mock.WithBcryptCost(4), mock.WithStateFile(path, 0), secret)
	t.Cleanup(second.Close)
	s2 := &testServer{Server: second, t: t, client: s1.client}
	s2.login("alice", "password1")
	s2.refresh(p.Refresh).wantOK(t)
	// The tombstone came back too: reuse is still seen.
	s2.refresh(rotated.Refresh).wantError(t, 401004)
	if n := len(second.Accounts()); n != 2 {
		t.Fatalf("%d accounts after restart", n)
	}
}

func TestCorruptStateStopsStartAndIsKept(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{
		"not json":                          "{\"version\":1,",
		"unknown version":                   `{"version":7,"accounts":[],"sessions":[]}`,
		"bad account":                       `{"version":1,"accounts":[{"id":"","username":"x"}],"sessions":[]}`,
		"account id not issued by a server": `{"version":1,"accounts":[{"id":"acc-1","username":"john@API","bcrypt_hash":"$2a$04$x"}],"sessions":[]}`,
		"session id not issued by a server": `{"version":1,"accounts":[],"sessions":[{"id":"s1","account_id":"AAAAAAAAAAAAAAAAAAAAAA","created_at":1,"expires_at":2}]}`,
		"rotated without a successor":       `{"version":1,"accounts":[],"sessions":[{"id":"AAAAAAAAAAAAAAAAAAAAAA","account_id":"AAAAAAAAAAAAAAAAAAAAAA","created_at":1,"expires_at":2,"rotated":true}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := mock.New(mock.WithStateFile(path, 0))
			if !errors.Is(err, mock.ErrCorruptState) || !bytes.Contains([]byte(err.Error()), []byte(path)) {
				t.Fatalf("New = %v, want ErrCorruptState naming %s", err, path)
			}
			after, _ := os.ReadFile(path)
			if string(after) != content {
				t.Fatal("the corrupt state file was changed")
			}
		})
	}
}

func TestMissingStateFileStartsEmpty(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	s, err := mock.New(mock.WithBcryptCost(4), mock.WithStateFile(path, 0))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Accounts()); n != 1 {
		t.Fatalf("%d accounts, want the seed", n)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no state saved on close: %v", err)
	}
}
