package main

// The figures of dyormock at CI scale: start-up against a bare Go program,
// repeated logins of one account at the default options, and tenants.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/dyor-exchange/dyorctl/mock"
)

// loadLoginRepeat drives repeated logins of one account with its right
// password. The first login, which pays bcrypt once, is made before the
// measurement: the figure is what the login cache gives every later one.
func loadLoginRepeat(ctx context.Context, c config, base string) (Result, error) {
	warm, err := newRequester(c.client, base)
	if err != nil {
		return Result{}, err
	}
	_, err = call(ctx, warm, "POST", mock.LoginPath, loginBody, "")
	warm.close()
	if err != nil {
		return Result{}, fmt.Errorf("login-repeat: the first login: %w", err)
	}
	return drive(ctx, c, "login-repeat", base, func(context.Context, requester) (step, error) {
		return func(ctx context.Context, rq requester) error {
			_, err := call(ctx, rq, "POST", mock.LoginPath, loginBody, "")
			return err
		}, nil
	})
}

const loginBody = `{"username":"john@API","password":"honeyBunnies"}`

// bareProgram is the baseline of start-up: a Go program that listens on a
// loopback port, prints one line and serves HTTP, built in the same run as
// dyormock, by the same toolchain.
const bareProgram = `package main

import (
	"fmt"
	"net"
	"net/http"
)

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	_ = http.Serve(ln, http.NotFoundHandler())
}
`

// startupBinaries builds the bare program and, unless -dyormock names one,
// dyormock (from the module in the working directory), into dir.
func startupBinaries(ctx context.Context, c config, dir string) (bare, dyormock string, err error) {
	src := filepath.Join(dir, "bare.go")
	if err := os.WriteFile(src, []byte(bareProgram), 0o600); err != nil {
		return "", "", err
	}
	bare = filepath.Join(dir, "bare")
	build := func(out string, args ...string) error {
		cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", out}, args...)...)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build %v: %w", args, err)
		}
		return nil
	}
	if err := build(bare, src); err != nil {
		return "", "", err
	}
	dyormock = c.dyormock
	if dyormock == "" {
		dyormock = filepath.Join(dir, "dyormock")
		if err := build(dyormock, "github.com/dyor-exchange/dyorctl/cmd/dyormock"); err != nil {
			return "", "", err
		}
	}
	return bare, dyormock, nil
}

// execToReady runs a program and returns how long it took from exec to
// its first line on stdout (its readiness line); then it kills it.
func execToReady(ctx context.Context, path string, args ...string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	_, err = bufio.NewReader(out).ReadString('\n')
	took := time.Since(t0)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if err != nil {
		return 0, fmt.Errorf("%s printed no readiness line: %w", filepath.Base(path), err)
	}
	return took, nil
}

// measureStartup execs the bare program and dyormock (at its default
// options, on a free port) c.execs times each, alternating, and reports
// the median exec-to-ready of each; dyormock's ratio is to the bare
// program's of the same pass.
func measureStartup(ctx context.Context, c config, bare, dyormock string) ([]Result, error) {
	progs := []struct {
		target, path string
		args         []string
	}{
		{"exec-to-ready: bare Go program", bare, nil},
		{"exec-to-ready: dyormock", dyormock, []string{"--addr", "127.0.0.1:0"}},
	}
	for _, p := range progs { // once each, unmeasured: the page cache
		if _, err := execToReady(ctx, p.path, p.args...); err != nil {
			return nil, err
		}
	}
	took := make([][]time.Duration, len(progs))
	for i := range c.execs {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		for _, k := range order {
			d, err := execToReady(ctx, progs[k].path, progs[k].args...)
			if err != nil {
				return nil, err
			}
			took[k] = append(took[k], d)
		}
	}
	results := make([]Result, len(progs))
	for k, p := range progs {
		results[k] = latencies(p.target, took[k])
	}
	results[1].Ratio, results[1].RatioTo = results[1].P50ms/results[0].P50ms, "bare program"
	return results, nil
}

// latencies summarises durations of single operations.
func latencies(target string, d []time.Duration) Result {
	d = slices.Clone(d)
	slices.Sort(d)
	res := Result{Target: target, Requests: len(d)}
	if len(d) > 0 {
		res.P50ms, res.P99ms, res.Maxms = ms(d[len(d)/2]), ms(d[len(d)*99/100]), ms(d[len(d)-1])
	}
	return res
}

// measureTenants creates c.tenants tenants one after another through
// POST /_mock/tenants, reports the time of one creation and, for the
// server in this process, the heap each tenant holds; then it ends them.
func measureTenants(ctx context.Context, c config, control requester, inProcess bool) ([]Result, error) {
	var before runtime.MemStats
	if inProcess {
		runtime.GC()
		runtime.ReadMemStats(&before)
	}
	ids := make([]string, 0, c.tenants)
	took := make([]time.Duration, 0, c.tenants)
	t0 := time.Now()
	for range c.tenants {
		t1 := time.Now()
		body, err := call(ctx, control, "POST", "/_mock/tenants", "", "")
		if err != nil {
			return nil, fmt.Errorf("creating tenant %d: %w", len(ids)+1, err)
		}
		took = append(took, time.Since(t1))
		id, err := jsonString(body, "id")
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	elapsed := time.Since(t0)
	res := latencies(fmt.Sprintf("tenant create (%d)", c.tenants), took)
	res.Seconds, res.Throughput = elapsed.Seconds(), float64(len(ids))/elapsed.Seconds()
	if inProcess {
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		res.HeapPerTenant = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(len(ids))
	}
	for _, id := range ids {
		if _, err := call(ctx, control, "DELETE", "/_mock/tenants/"+id, "", ""); err != nil {
			return nil, fmt.Errorf("ending tenant %s: %w", id, err)
		}
	}
	return []Result{res}, nil
}

// jsonString returns the string member name of an answer whose values need
// no escapes (ids are base64url).
func jsonString(body []byte, name string) (string, error) {
	v, err := tokenField(body, name)
	if err != nil {
		return "", errors.New("no " + name + " in the answer")
	}
	return v, nil
}
