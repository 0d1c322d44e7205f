// Package docstest runs the shell blocks of README.md and docs/*.md as a
// user pasting them would, against a local dyormock, so that the docs stay
// true. It has tests only.
//
// The blocks of one file run in order in one bash session (a user follows
// a page top to bottom in one terminal), with dyorctl and dyormock built
// from this checkout first on PATH, a fresh HOME, TMPDIR and RUNNER_TEMP,
// and every proxy variable pointing at a listener that fails the test if
// anything reaches it: a block that would talk to the production server
// instead of the local mock fails. Every curl gets --fail-with-body, so an
// example the server answers with an error fails too.
//
// A block that cannot run here is marked with an HTML comment on the line
// before its fence, naming why; the test skips it by that name:
//
//	<!-- docstest: network -->   needs the real network, server or registry
//	<!-- docstest: release -->   needs a release archive or image
//	<!-- docstest: terminal -->  needs a person at a terminal
//	<!-- docstest: suite -->     builds or tests the project itself (.ci/run does)
//
// and a block whose curls show error answers on purpose is marked
// <!-- docstest: errors --> (it runs, without --fail-with-body).
package docstest
