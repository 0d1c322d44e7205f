package mock

import "testing"

// Every route a fault may name has its own bit in faults.routes: a route
// without one would never see its faults fire.
func TestEveryFaultRouteHasItsOwnBit(t *testing.T) {
	seen := map[uint32]string{}
	for _, rt := range apiRoutes {
		if e := (Fault{Route: rt.name, Status: 503}).validate(); e != nil {
			t.Fatalf("a fault on %q is refused: %v", rt.name, e)
		}
		bit := routeBit(rt.name)
		if bit == 0 || seen[bit] != "" {
			t.Fatalf("route %q has bit %d (already %q)", rt.name, bit, seen[bit])
		}
		seen[bit] = rt.name
	}
}

// A rule for one route leaves the others on the fast path, and the bit
// goes when the rule is used up.
func TestFaultRoutesFollowTheRules(t *testing.T) {
	var fs faults
	if _, e := fs.add(Fault{Route: "login", Status: 503, Times: 1}); e != nil {
		t.Fatal(e)
	}
	if _, _, ok := fs.match("refresh"); ok || fs.routes.Load() != routeBit("login") {
		t.Fatalf("routes = %b after a login rule", fs.routes.Load())
	}
	if _, _, ok := fs.match("login"); !ok {
		t.Fatal("the login rule did not fire")
	}
	if _, _, ok := fs.match("login"); ok || fs.routes.Load() != 0 {
		t.Fatalf("a used-up rule fired again, or left routes = %b", fs.routes.Load())
	}
}
