// Package api holds the project's statement of the DYOR account API
// contract: openapi.yaml, an OpenAPI 3.0.3 document covering the four account
// routes (/api/v1/account/register, login, refresh, logout), /healthz and the
// /_mock/ control plane that only dyormock serves.
//
// The document is embedded so that the mock can serve it and tests can check
// traffic against it (see internal/apitest).
package api

import _ "embed"

// OpenAPI is the contents of openapi.yaml. Callers must not modify it.
//
//go:embed openapi.yaml
var OpenAPI []byte
