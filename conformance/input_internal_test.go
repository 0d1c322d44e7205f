package conformance

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dyor-exchange/dyorctl/api"
)

// The suite's input cases agree with package api: each body breaks a rule
// (api.CheckCredentials refuses it, or a field is missing or not a
// string), and every username it could create on a server that failed to
// refuse it carries the run's prefix, so that no broken server ends up with
// an account the suite cannot recognise.
func TestInputCasesBreakTheirRule(t *testing.T) {
	c := &cx{r: &runner{prefix: "conf-0123abcd-", bySID: map[string]*tracked{}}}
	n := 0
	for _, k := range suite {
		if !strings.HasPrefix(k.name, "input/") || k.name == "input/at-the-limits" {
			continue
		}
		n++
		var ic inputCase
		for _, x := range inputCaseTable() {
			if "input/"+x.name == k.name {
				ic = x
			}
		}
		body := ic.body(c)
		var fields map[string]any
		if err := json.Unmarshal(body, &fields); err != nil {
			if ic.name != "username/invalid-utf8" {
				t.Errorf("%s: the body is not JSON: %v", k.name, err)
			}
			if ic.loginOnly || !strings.Contains(string(body), c.r.prefix) {
				t.Errorf("%s: the body does not carry the prefix", k.name)
			}
			continue
		}
		u, uok := fields["username"].(string)
		p, pok := fields["password"].(string)
		if uok && pok && api.CheckCredentials(u, p) == nil {
			t.Errorf("%s: api.CheckCredentials accepts %+q / %d bytes, want a refusal", k.name, u, len(p))
		}
		if uok && !ic.loginOnly && !strings.HasPrefix(u, c.r.prefix) {
			t.Errorf("%s: the username %+q is sent to register without the prefix", k.name, u)
		}
		if !uok && !pok {
			t.Errorf("%s: neither field is a string", k.name)
		}
	}
	if n < 15 {
		t.Errorf("%d input cases, want one per rule (at least 15)", n)
	}
}
