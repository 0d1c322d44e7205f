// Package buildinfo holds the version of the binaries, set at link time:
//
//	go build -ldflags "-X github.com/dyor-exchange/dyorctl/internal/buildinfo.Version=1.2.3 …"
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by -ldflags -X at release time.
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// String is "NAME VERSION (commit COMMIT, built DATE, GOVERSION OS/ARCH)".
// Without link-time values it falls back to the module version and VCS
// stamp that the go command records.
func String(name string) string {
	version, commit, date := Version, Commit, Date
	if info, ok := debug.ReadBuildInfo(); ok {
		if version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && commit == "":
				commit = s.Value
			case s.Key == "vcs.time" && date == "":
				date = s.Value
			}
		}
	}
	if version == "" {
		version = "dev"
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if commit == "" {
		commit = "unknown"
	}
	if date == "" {
		date = "unknown"
	}
	return fmt.Sprintf("%s %s (commit %s, built %s, %s %s/%s)", name, version, commit, date,
		runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
