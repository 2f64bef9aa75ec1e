package examples

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// makeVar returns the value of a `NAME := value` line of the Makefile: the
// tools' versions are set there once.
func makeVar(t *testing.T, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s*:?=\s*(\S+)\s*$`).FindStringSubmatch(readFile(t, filepath.Join(root, "Makefile")))
	if m == nil {
		t.Fatalf("Makefile: no %s", name)
	}
	return m[1]
}

// tool returns the path of a tool `make tools` builds: $envVar (the
// Makefile sets it for `make test`), else the cache the Makefile builds it
// into. A missing tool skips the test, except under CI=true, where .ci/run
// has built it and its absence is a failure.
func tool(t *testing.T, envVar, name, versionVar string) string {
	t.Helper()
	p := os.Getenv(envVar)
	if p == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache")
		}
		p = filepath.Join(cache, "n8n-secrets", name+"-"+makeVar(t, versionVar), name)
	}
	if st, err := os.Stat(p); err != nil || st.Mode()&0o111 == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not built (%s): `make tools` builds it", name, p)
		}
		t.Skipf("%s is not built (%s): run `make tools`", name, p)
	}
	return p
}

// lookTool returns the path of a command on PATH, with the same rule for
// a missing one as tool.
func lookTool(t *testing.T, name, why string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (%s)", name, why)
		}
		t.Skipf("%s is not installed (%s)", name, why)
	}
	return p
}
