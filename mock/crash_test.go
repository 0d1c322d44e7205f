package mock

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCrashHelper is the child of TestStateFileSurvivesSIGKILL: it saves
// the state file in a loop, reporting each save on stdout, until killed.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv("DYORMOCK_CRASH_STATE")
	if path == "" {
		t.Skip("only run as the child of TestStateFileSurvivesSIGKILL")
	}
	s, err := New(WithBcryptCost(4), WithStateFile(path, 0))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	for i := 0; ; i++ {
		if _, err := s.MintSession(ExampleUsername, 0, 0); err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		if err := s.SaveState(); err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		fmt.Println("saved", i)
	}
}

// A writer of the --state file killed with SIGKILL at random moments, 100
// times (10 with -short): after each kill a reader finds a complete state file (the previous
// one or the new one), never a partial, empty or missing one, and temp files
// from killed writes do not pile up.
func TestStateFileSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	kills := 100
	if testing.Short() {
		kills = 10
	}
	rng := rand.New(rand.NewPCG(1, 2))
	sessionsSeen := 0
	for k := range kills {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
		cmd.Env = append(os.Environ(), "DYORMOCK_CRASH_STATE="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait for the first save of this child, then kill it a random
		// moment later: mostly in the middle of another save.
		lines := bufio.NewScanner(out)
		if !lines.Scan() || !strings.HasPrefix(lines.Text(), "saved") {
			_ = cmd.Process.Kill()
			t.Fatalf("kill %d: child did not save: %q", k, lines.Text())
		}
		go func() {
			for lines.Scan() {
			}
		}()
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond) // a random kill moment, not a wait for a condition
		_ = cmd.Process.Kill()
		_ = cmd.Wait()

		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("kill %d: state file missing: %v", k, err)
		}
		st, err := decodeState(b)
		if err != nil {
			t.Fatalf("kill %d: state file not complete (%d bytes): %v", k, len(b), err)
		}
		if len(st.Sessions) < sessionsSeen {
			t.Fatalf("kill %d: state went back from %d to %d sessions", k, sessionsSeen, len(st.Sessions))
		}
		sessionsSeen = len(st.Sessions)
		entries, _ := os.ReadDir(dir)
		if len(entries) > 2 {
			names := []string{}
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Fatalf("kill %d: temp files pile up: %v", k, names)
		}
	}
	t.Logf("%d kills; the state file always held a complete state (%d sessions at the end)", kills, sessionsSeen)
}
