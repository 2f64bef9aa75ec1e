package n8n

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
)

// fixtureKey is the key in testdata/n8n-1.123-config.
const fixtureKey = "fixture-key-7f3c9a1e5b2d4c6e8a0f1b3d5e7a9c1e"

// otherKey is a well-formed key that is not fixtureKey.
const otherKey = "other-key-0a1b2c3d4e5f60718293a4b5c6d7e8f9"

// fixtureSettings returns the settings file as n8n 1.123 wrote it.
func fixtureSettings(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "n8n-1.123-config"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// userFolder returns a new N8N_USER_FOLDER and its settings file path; the
// file is written with content and mode unless content is nil.
func userFolder(t *testing.T, content []byte, mode fs.FileMode) (dir, settings string) {
	t.Helper()
	dir = t.TempDir()
	settings = filepath.Join(dir, ".n8n", "config")
	if content == nil {
		return dir, settings
	}
	if err := os.MkdirAll(filepath.Dir(settings), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(settings, content, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(settings, mode); err != nil { // not subject to umask
		t.Fatal(err)
	}
	return dir, settings
}

// env returns a child environment with the user folder dir, env access
// blocked (so that tests of other findings see only theirs), and kv pairs
// (name, value, name, value…); a value of "\x00unset" removes the name.
func env(dir string, kv ...string) map[string]string {
	m := map[string]string{EnvUserFolder: dir, EnvBlockEnvAccess: "true"}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "\x00unset" {
			delete(m, kv[i])
			continue
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

var argvStart = []string{"/docker-entrypoint.sh"}

// mustCheck runs Check and fails the test on an error.
func mustCheck(t *testing.T, opts Options, argv []string, env map[string]string, injected []string) Report {
	t.Helper()
	r, err := Check(opts, argv, env, injected)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return r
}

// codesOf lists the findings' codes, in order.
func codesOf(r Report) []logcode.Code {
	var c []logcode.Code
	for _, f := range r.Findings {
		c = append(c, f.Code)
	}
	return c
}

// only returns the one finding with code, failing unless there is exactly
// one finding with it.
func only(t *testing.T, r Report, code logcode.Code) Finding {
	t.Helper()
	var got []Finding
	for _, f := range r.Findings {
		if f.Code == code {
			got = append(got, f)
		}
	}
	if len(got) != 1 {
		t.Fatalf("want one %s finding, got codes %v", code, codesOf(r))
	}
	return got[0]
}

// none fails if r has a finding with one of codes.
func none(t *testing.T, r Report, codes ...logcode.Code) {
	t.Helper()
	for _, f := range r.Findings {
		if slices.Contains(codes, f.Code) {
			t.Fatalf("unexpected %s finding: %s", f.Code, f.Message)
		}
	}
}
