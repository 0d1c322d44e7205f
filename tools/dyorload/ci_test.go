package main

import (
	"context"
	"testing"
	"time"
)

func TestLoginRepeatRoute(t *testing.T) {
	rep, err := run(context.Background(), config{route: "login-repeat", workers: 2, duration: 150 * time.Millisecond,
		floor: true, bcryptCost: 4, client: "wire", runs: 1, tenants: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 {
		t.Fatalf("%+v", rep.Results)
	}
	if r := rep.Results[1]; r.Target != "login-repeat" || r.Requests == 0 || r.Failures != 0 || r.Ratio <= 0 || r.RatioTo != "floor" {
		t.Fatalf("%+v", r)
	}
}

func TestTenantsRoute(t *testing.T) {
	rep, err := run(context.Background(), config{route: "tenants", workers: 1, duration: time.Second,
		bcryptCost: 4, client: "wire", runs: 2, tenants: 25})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 {
		t.Fatalf("%+v", rep.Results)
	}
	// Two passes of 25 each: the first pass's tenants were ended, or the
	// second could not make its own within the same server.
	if r := rep.Results[0]; r.Requests != 50 || r.P50ms <= 0 || r.HeapPerTenant <= 0 || r.Throughput <= 0 || len(r.Passes) != 2 {
		t.Fatalf("%+v", r)
	}
}

// The start-up measurement with the bare program standing in for
// dyormock too (building dyormock is left to real runs): both are exec'd,
// timed to their first line, and ended.
func TestStartupMeasurement(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	dir := t.TempDir()
	ctx := context.Background()
	bare, other, err := startupBinaries(ctx, config{dyormock: "unused"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if other != "unused" {
		t.Fatalf("-dyormock was not used: %q", other)
	}
	res, err := measureStartup(ctx, config{execs: 3}, bare, bare)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Requests != 3 || res[1].Requests != 3 || res[0].P50ms <= 0 || res[1].Ratio <= 0 || res[1].RatioTo != "bare program" {
		t.Fatalf("%+v", res)
	}
	if _, err := execToReady(ctx, "/bin/true"); err == nil {
		t.Fatal("a program that prints nothing was taken as ready")
	}
}
