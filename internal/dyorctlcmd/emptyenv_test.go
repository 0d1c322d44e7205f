package dyorctlcmd

import (
	"context"
	"strings"
	"testing"
)

// A variable set to "" is refused rather than taken as unset: an empty
// DYOR_SERVER would otherwise send the command to the production server.
func TestSetButEmptyEnvironmentIsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string // "" = no refusal
	}{
		{"empty DYOR_SERVER", map[string]string{"DYOR_SERVER": ""}, []string{"status"}, "DYOR_SERVER is set but empty"},
		{"blank DYOR_SERVER", map[string]string{"DYOR_SERVER": " \n"}, []string{"register", "-u", "alice"}, "DYOR_SERVER is set but empty"},
		{"empty DYOR_CONFIG_DIR", map[string]string{"DYOR_CONFIG_DIR": ""}, []string{"status"}, "DYOR_CONFIG_DIR is set but empty"},
		{"--server beats an empty DYOR_SERVER", map[string]string{"DYOR_SERVER": ""}, []string{"--server", "http://127.0.0.1:1", "--config-dir", "DIR", "status"}, ""},
		{"--config-dir beats an empty DYOR_CONFIG_DIR", map[string]string{"DYOR_CONFIG_DIR": ""}, []string{"--server", "http://127.0.0.1:1", "--config-dir", "DIR", "status"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for i, a := range tc.args {
				if a == "DIR" {
					tc.args[i] = dir
				}
			}
			ios, stdout, stderr := newTestIO("")
			f := NewFactory(ios, func(k string) string { return tc.env[k] })
			f.LookupEnv = func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			f.UserConfigDir = func() (string, error) { return dir, nil }
			f.RunTUI = nil
			code := run(context.Background(), f, tc.args)
			if tc.want == "" {
				// Not refused: status runs, finds no account and exits 4.
				if code != exitAuth || strings.Contains(stderr.String(), "set but empty") {
					t.Fatalf("exit %d, stderr %q; want 4 from status itself", code, stderr)
				}
				return
			}
			msg := strings.TrimSpace(stderr.String())
			if code != exitUsage || !strings.HasPrefix(msg, tc.want) || strings.Count(msg, "\n") != 0 || stdout.Len() != 0 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and one line %q…", code, stdout, msg, tc.want)
			}
		})
	}
}
