// Package api is the DYOR account API's contract in Go: the routes, the
// error codes with their HTTP status and meaning, the input rules, the token
// claims and the JSON envelopes. The client, the mock, the CLI and the TUI
// all take these facts from here, so that no two of them can disagree.
//
// OpenAPI holds the same contract as an OpenAPI 3.0.3 document
// (openapi.yaml): the four account routes, /healthz and the /_mock/ control
// plane that only dyormock serves. The mock's tests check every request and
// response against it (see internal/apitest), and the conformance package
// checks any server against it.
//
// The package is small and cheap to import: the standard library only.
package api

import _ "embed"

// OpenAPI is the contents of openapi.yaml. Callers must not modify it.
//
//go:embed openapi.yaml
var OpenAPI []byte
