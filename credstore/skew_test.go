package credstore_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
)

// The server's clock offset is kept with the account, and a file written
// before the field existed still loads, with no offset.
func TestClockOffsetIsStored(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	tok := tokens(t, "john@API", "s1")
	tok.ClockOffset = -42*time.Second - 250*time.Millisecond
	if err := s.ForServer(serverA).Save(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	got, err := open(t, dir).ForServer(serverA).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.ClockOffset != tok.ClockOffset {
		t.Errorf("ClockOffset read back %v, want %v", got.ClockOffset, tok.ClockOffset)
	}
	data, err := os.ReadFile(filepath.Join(dir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"clock_offset_ms": -42250`) {
		t.Errorf("the file does not hold the offset in milliseconds:\n%s", data)
	}

	// An Update that rotates keeps what the new tokens carry.
	next := tokens(t, "john@API", "s2")
	next.ClockOffset = 3 * time.Second
	after, err := s.ForServer(serverA).Update(context.Background(), func(client.Tokens) (client.Tokens, error) { return next, nil })
	if err != nil || after.ClockOffset != 3*time.Second {
		t.Errorf("Update stored offset %v (%v), want 3s", after.ClockOffset, err)
	}

	// The layout before the offset: no field at all.
	old := t.TempDir()
	file := map[string]any{"version": 1, "servers": map[string]any{
		serverA: map[string]any{"active": "john@API", "accounts": map[string]any{
			"john@API": map[string]any{"access": tok.Access, "refresh": tok.Refresh}}}}}
	data, _ = json.Marshal(file)
	if err := os.WriteFile(filepath.Join(old, "credentials.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = open(t, old).ForServer(serverA).Load(context.Background())
	if err != nil {
		t.Fatalf("a file without clock_offset_ms: %v", err)
	}
	if got.ClockOffset != 0 || got.Access != tok.Access {
		t.Errorf("old file loaded as %v with offset %v, want the tokens and no offset", got, got.ClockOffset)
	}
}
