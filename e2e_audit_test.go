package main

// End-to-end tests of `n8n-secrets audit` through the binary: exit codes,
// --fail-on, the three formats, the N8N_SECRETS_ALLOW_HTTP opt-in, usage
// errors, that it writes nothing, and that no planted secret of the
// fixtures reaches its output.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// auditFixture copies a finding's fixture pair into a temporary directory
// and registers its planted values as canaries.
func auditFixture(t *testing.T, e *e2e, code string) (broken, fixed string) {
	t.Helper()
	dir := t.TempDir()
	for _, kind := range []string{"broken", "fixed"} {
		src := filepath.Join("audit", "testdata", "findings", code, kind)
		files, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, kind), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(src, f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			e.canaries = append(e.canaries, regexp.MustCompile(`CANARY-[A-Za-z0-9-]+`).FindAllString(string(b), -1)...)
			if err := os.WriteFile(filepath.Join(dir, kind, f.Name()), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return filepath.Join(dir, "broken"), filepath.Join(dir, "fixed")
}

// listing describes a directory tree (names, sizes, times), to prove a run
// wrote nothing.
func listing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v %v %d\n", p, st.Mode(), st.ModTime(), st.Size())
		return nil
	})
	return b.String()
}

func TestAuditCommand(t *testing.T) {
	e := newE2E(t)
	broken, fixed := auditFixture(t, e, "LITERAL_SECRET")
	before := listing(t, filepath.Dir(broken))

	r := e.run(nil, "audit", fixed)
	if r.code != 0 || !strings.Contains(r.stdout, "0 errors, 0 warnings") {
		t.Errorf("audit of the fixed twin: exit %d:\n%s", r.code, r.stdout)
	}
	r = e.run(nil, "audit", broken)
	if r.code != exitFindings || !strings.Contains(r.stdout, "LITERAL_SECRET") {
		t.Errorf("audit of the broken files: exit %d, want %d:\n%s", r.code, exitFindings, r.stdout)
	}
	// Flags after the paths, JSON.
	r = e.run(nil, "audit", broken, "--format", "json")
	var rep struct {
		Findings []struct{ Code, File string } `json:"findings"`
		Summary  struct{ Errors int }          `json:"summary"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != exitFindings || rep.Summary.Errors < 4 {
		t.Errorf("--format json: exit %d, %d errors, %v", r.code, rep.Summary.Errors, err)
	}
	r = e.run(nil, "audit", "--format", "sarif", broken)
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct{ RuleID string } `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sarif); err != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || len(sarif.Runs[0].Results) < 4 {
		t.Errorf("--format sarif: exit %d, %v", r.code, err)
	}
	if after := listing(t, filepath.Dir(broken)); after != before {
		t.Error("audit changed the files it read")
	}

	// Usage errors: 64, before anything is read.
	for _, args := range [][]string{
		{"audit", "--format", "xml", fixed},
		{"audit", "--fail-on", "never", fixed},
		{"audit", filepath.Join(fixed, "missing.yaml")},
		{"audit", "--nope"},
	} {
		if r := e.run(nil, args...); r.code != 64 || !strings.Contains(r.stderr, `"code":"USAGE","error":"audit`) {
			t.Errorf("%q: exit %d, want 64:\n%s", args, r.code, r.stderr)
		}
	}
}

// TestAuditFailOnAndAllowHTTP: plain http:// to the store is an error; the
// service's N8N_SECRETS_ALLOW_HTTP=true turns it into a warning, which
// fails only with --fail-on warning.
func TestAuditFailOnAndAllowHTTP(t *testing.T) {
	e := newE2E(t)
	broken, _ := auditFixture(t, e, "STORE_PLAIN_HTTP")
	if r := e.run(nil, "audit", broken); r.code != exitFindings || !strings.Contains(r.stdout, "error     STORE_PLAIN_HTTP") {
		t.Errorf("plain http without the opt-in: exit %d:\n%s", r.code, r.stdout)
	}
	p := filepath.Join(broken, "compose.yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	optIn := strings.Replace(string(b), "    environment:\n", "    environment:\n      N8N_SECRETS_ALLOW_HTTP: \"true\"\n", 1)
	if err := os.WriteFile(p, []byte(optIn), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.run(nil, "audit", broken)
	if r.code != 0 || !strings.Contains(r.stdout, "warning   STORE_PLAIN_HTTP") {
		t.Errorf("with N8N_SECRETS_ALLOW_HTTP=true: exit %d, want 0 and a warning:\n%s", r.code, r.stdout)
	}
	if r := e.run(nil, "audit", "--fail-on", "warning", broken); r.code != exitFindings {
		t.Errorf("--fail-on warning: exit %d, want %d", r.code, exitFindings)
	}
}
