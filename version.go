package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// versionString is what -version prints and the start-up log shows:
// "wsfan <version> (<revision>, <commit time>[, modified]) <go version>".
// The version is main.version when the build set it, else the module
// version from the build info, else the VCS revision.
func versionString() string {
	v := version
	var rev, at string
	modified := false
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if v == "" {
		v = "devel"
		if rev != "" {
			v = rev
		}
	}
	detail := ""
	if rev != "" {
		detail = " (" + rev + ", " + at
		if modified {
			detail += ", modified"
		}
		detail += ")"
	}
	return fmt.Sprintf("wsfan %s%s %s", v, detail, runtime.Version())
}
