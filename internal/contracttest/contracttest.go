// Package contracttest holds test tables of the contract that several
// packages' tests share, so that the mock, the CLI and the TUI are checked
// against the very same rows.
package contracttest

import (
	_ "embed"
	"encoding/json"
)

// An InputCase is one value of the input-rules table and its verdict.
type InputCase struct {
	Value string `json:"value"`
	Valid bool   `json:"valid"`
	Note  string `json:"note,omitempty"`
}

//go:embed input-rules.json
var inputRulesJSON []byte

// InputRules returns the table of usernames and passwords with the verdict
// every side of the contract must give them (input-rules.json).
func InputRules() (usernames, passwords []InputCase) {
	var t struct{ Usernames, Passwords []InputCase }
	if err := json.Unmarshal(inputRulesJSON, &t); err != nil {
		panic("contracttest: input-rules.json: " + err.Error())
	}
	return t.Usernames, t.Passwords
}
