package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
)

func testClient(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.New("http://127.0.0.1:1") // never called: nothing is stored
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runResult runs Run in the background.
func runResult(ctx context.Context, opts Options) <-chan error {
	done := make(chan error, 1)
	go func() { done <- Run(ctx, opts) }()
	return done
}

func waitRun(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return")
		return nil
	}
}

func TestRunNeedsClient(t *testing.T) {
	t.Parallel()
	if err := Run(context.Background(), Options{}); !errors.Is(err, errNoClient) {
		t.Fatalf("Run without a client: %v", err)
	}
}

func TestRunQuitsWithCtrlC(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	done := runResult(context.Background(), Options{
		Client: testClient(t),
		Input:  strings.NewReader("\x03"), // Ctrl-C
		Output: &out,
		Banner: "demo banner",
	})
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !strings.Contains(out.String(), "demo banner") {
		t.Errorf("output: %q", out.String())
	}
}

func TestRunEndsWithContext(t *testing.T) {
	t.Parallel()
	in, w := io.Pipe() // no key ever comes
	t.Cleanup(func() { w.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := runResult(ctx, Options{Client: testClient(t), Input: in, Output: &out, AltScreen: true})
	cancel()
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
}
