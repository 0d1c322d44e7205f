package dyormockcmd

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The control plane is described in the terminal too: dyormock help
// control-plane, and the topic is listed in dyormock --help.
func TestControlPlaneHelpTopic(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help", "control-plane"}, {"control-plane"}} {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), args, &out, &errOut, noEnv)
		for _, route := range []string{"GET    /_mock/accounts", "POST   /_mock/sessions", "DELETE /_mock/faults", "POST   /_mock/clock", "GET    /_mock/requests", "POST   /_mock/reset"} {
			if !strings.Contains(out.String(), route) {
				t.Errorf("dyormock %s: exit %d, no %q in\n%s%s", strings.Join(args, " "), code, route, out.String(), errOut.String())
			}
		}
		if code != 0 {
			t.Errorf("dyormock %s: exit %d", strings.Join(args, " "), code)
		}
	}
	var out bytes.Buffer
	Run(context.Background(), []string{"--help"}, &out, &out, noEnv)
	if !strings.Contains(out.String(), "control-plane") {
		t.Errorf("dyormock --help does not list the control-plane topic:\n%s", out.String())
	}
}
