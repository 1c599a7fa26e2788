package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// version overrides the module version when set at build time with -ldflags "-X main.version=…".
var version = ""

// buildInfo is what the binary knows of its own build: the module version (a tag, a pseudo-version
// or "(devel)"), the VCS commit and whether the tree had changes, and the Go release.
type buildInfo struct {
	Version  string
	Commit   string
	Time     string
	Modified bool
	Go       string
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: "(devel)"}
	info, ok := debug.ReadBuildInfo()
	if ok {
		b.Go = info.GoVersion
		if v := info.Main.Version; v != "" {
			b.Version = v
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		b.Version = version
	}
	return b
}

// short is the version alone, for the banner.
func (b buildInfo) short() string {
	if b.Version == "(devel)" && b.Commit != "" {
		return "(devel) " + shortCommit(b.Commit)
	}
	return b.Version
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	for _, a := range args {
		switch a {
		case "-h", "--help", "-help":
			fmt.Fprintln(stdout, "Usage: wxemu version (or wxemu --version)\n\nPrints the module version, the commit wxemu was built from and the Go release.")
			return exitOK
		}
		return usageError(stderr, "version", "unexpected argument %q", a)
	}
	b := readBuildInfo()
	commit := "commit unknown (built outside a git checkout)"
	if b.Commit != "" {
		commit = "commit " + b.Commit
		if b.Time != "" {
			commit += " (" + b.Time + ")"
		}
		if b.Modified {
			commit += ", with uncommitted changes"
		}
	}
	fmt.Fprintf(stdout, "wxemu %s\n%s\n%s\n", b.Version, commit, b.Go)
	return exitOK
}
