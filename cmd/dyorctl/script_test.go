package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/dyor-exchange/dyorctl/mock"
)

// TestMain lets the scripts run "dyorctl" as a real process: the test
// binary, re-executed as the command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"dyorctl": main})
}

// TestScripts runs the CLI's contract as scripts (testdata/script/*.txtar):
// the commands a user types and what they get back — exit codes, stdout,
// stderr and -o json shapes. A script fails too if the mock finds that
// dyorctl reused or presented expired tokens, or leaked sessions. Each
// script has its own mock (bcrypt cost 4,
// the example account john@API / honeyBunnies) in $DYOR_SERVER and its own
// config dir in $DYOR_CONFIG_DIR. The "mock" command drives it:
//
//	mock advance DURATION       move the mock's clock
//	mock fault ROUTE STATUS     answer ROUTE's next request with STATUS
//	mock sessions N             assert that N sessions are live
//	mock allow KIND             a finding the script provokes on purpose
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			srv := mock.NewServer(mock.WithBcryptCost(4))
			allowed := map[mock.FindingKind]bool{}
			env.Values["allowed"] = allowed
			env.Defer(func() {
				defer srv.Close()
				// As mock.FailOnFindings does for Go tests: a script in which
				// dyorctl reuses or presents expired tokens, or leaks
				// sessions, fails whatever its own checks say, unless it
				// provokes that on purpose ("mock allow KIND").
				var kinds []mock.FindingKind
				for _, k := range []mock.FindingKind{mock.FindingReuse, mock.FindingExpiredToken, mock.FindingSessionLeak} {
					if !allowed[k] {
						kinds = append(kinds, k)
					}
				}
				if f := srv.Findings(kinds...); len(kinds) > 0 && len(f) > 0 {
					env.T().Fatal("dyorctl did what a well-behaved client never does: ", f)
				}
			})
			env.Values["mock"] = srv
			env.Setenv("DYOR_SERVER", srv.URL)
			env.Setenv("DYOR_CONFIG_DIR", filepath.Join(env.WorkDir, "cfg"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mock": mockCmd,
		},
	})
}

func mockCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: mock advance DURATION | mock fault ROUTE STATUS | mock sessions N | mock allow KIND")
	}
	srv := ts.Value("mock").(*mock.Server)
	switch args[0] {
	case "advance":
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		ts.Check(srv.Advance(d))
	case "fault":
		if len(args) != 3 {
			ts.Fatalf("usage: mock fault ROUTE STATUS")
		}
		status, err := strconv.Atoi(args[2])
		ts.Check(err)
		ts.Check(srv.AddFault(mock.Fault{Route: args[1], Status: status, Times: 1}))
	case "allow":
		ts.Value("allowed").(map[mock.FindingKind]bool)[mock.FindingKind(args[1])] = true
	case "sessions":
		want, err := strconv.Atoi(args[1])
		ts.Check(err)
		if got := len(srv.Sessions()); got != want {
			ts.Fatalf("%d live sessions, want %d", got, want)
		}
	default:
		ts.Fatalf("%s", fmt.Sprintf("unknown mock command %q", args[0]))
	}
}
