package mock

import (
	"strconv"
	"testing"
)

// The findings keep the latest MaxFindings, oldest first.
func TestFindingsKeepTheLatest(t *testing.T) {
	var fs findings
	for i := range MaxFindings + 5 {
		fs.add(noted{Finding: Finding{Kind: FindingReuse, Message: strconv.Itoa(i)}})
	}
	got := fs.get(nil)
	if len(got) != MaxFindings || got[0].Message != "5" || got[len(got)-1].Message != strconv.Itoa(MaxFindings+4) {
		t.Fatalf("%d findings, first %q, last %q", len(got), got[0].Message, got[len(got)-1].Message)
	}
	if n := len(fs.get([]FindingKind{FindingSessionLeak})); n != 0 {
		t.Fatalf("%d session-leak findings", n)
	}
	fs.clear()
	if n := len(fs.get(nil)); n != 0 {
		t.Fatalf("%d findings after clear", n)
	}
}
