// Package version tells which build of convnet is running: the module
// version or source revision the binary was built from, and the Go release
// that built it. Model files record both.
package version

import (
	"runtime"
	"runtime/debug"
)

// override is set at link time for release builds:
//
//	go build -ldflags "-X github.com/convnet-go/convnet/internal/version.override=v1.2.3"
var override string

// String returns the version of this build: the link-time override if set,
// else the module version ("v1.2.3" when built as a dependency or with
// go install pkg@version), else "devel" followed by the source revision and
// "-dirty" for uncommitted changes when the build recorded them, such as
// "devel-3e91272b1c4d" or plain "devel".
func String() string {
	if override != "" {
		return override
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return fromBuildInfo(info)
}

func fromBuildInfo(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	v := "devel"
	if rev != "" {
		v += "-" + rev[:min(12, len(rev))]
		if modified == "true" {
			v += "-dirty"
		}
	}
	return v
}

// Go returns the Go release that built this binary, such as "go1.26.8".
func Go() string { return runtime.Version() }
