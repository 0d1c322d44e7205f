package mock

import (
	"encoding/json"
	"maps"
	"testing"
)

var plainObjectSeeds = []string{
	`{"username":"john@API","password":"honeyBunnies"}`,
	` { "password" : "honeyBunnies" ,` + "\n\t" + `"username":"john@API" } ` + "\r\n",
	`{}`, `{ }`, `{"a":"b","a":"c"}`, `{"a":"b","a":1}`, `{"a":"b",}`, `{"a":"b"}x`, `{"a":"b"`,
	`{"a":"\u0041"}`, `{"a":"é"}`, `{"a":"b\\"}`, `{"a":"tab	here"}`, `{"a":1}`, `{"a":null}`,
	`{"a":"b"}{}`, `{,}`, `[]`, `"x"`, `{"a" "b"}`, `{"":""}`, `{"a":"b","c":"d","e":"f"}`,
}

// The fast path answers exactly as encoding/json does, for every body it
// takes; the rest it leaves alone.
func checkPlainObject(t *testing.T, body string) {
	fast, fastErr, ok := decodePlainObject([]byte(body))
	if !ok {
		return
	}
	slow, e := decodeAnyObject([]byte(body))
	if fastErr != nil {
		if e == nil || *e != *fastErr {
			t.Fatalf("%q: the fast path answered %v, encoding/json %v", body, fastErr, e)
		}
		return
	}
	if e != nil {
		t.Fatalf("%q: the fast path took it, encoding/json answered %v", body, e)
	}
	if !maps.EqualFunc(fast, slow, func(a, b json.RawMessage) bool { return string(a) == string(b) }) {
		t.Fatalf("%q: fast %q, encoding/json %q", body, fast, slow)
	}
	for name, raw := range fast {
		v, e := stringField(fast, name)
		var want string
		if e != nil || decodeJSONString(raw, &want) != nil || v != want {
			t.Fatalf("%q: member %q read as %q (%v), want %q", body, name, v, e, want)
		}
	}
}

func TestPlainObjectFastPath(t *testing.T) {
	t.Parallel()
	took := 0
	for _, body := range plainObjectSeeds {
		if _, _, ok := decodePlainObject([]byte(body)); ok {
			took++
		}
		checkPlainObject(t, body)
	}
	if took < 5 {
		t.Fatalf("the fast path took %d of the bodies: it is not used", took)
	}
}

func FuzzPlainObject(f *testing.F) {
	for _, s := range plainObjectSeeds {
		f.Add(s)
	}
	f.Fuzz(checkPlainObject)
}

func decodeJSONString(raw []byte, dst *string) error { return json.Unmarshal(raw, dst) }
