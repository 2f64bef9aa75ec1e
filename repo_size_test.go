package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// checkSizes runs tools/ci/check-sizes.sh (the check .ci/run makes) on dir.
func checkSizes(t *testing.T, dir string) (string, error) {
	t.Helper()
	script, err := filepath.Abs("tools/ci/check-sizes.sh")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", script, dir).CombinedOutput()
	return string(out), err
}

// TestTrackedFileSizes: no file tracked in this repository is over 1 MiB
// unless it is test data (the 27 MB n8n-secrets binary was tracked once).
func TestTrackedFileSizes(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	if _, err := os.Stat(".git"); err != nil {
		t.Skip("not a git checkout")
	}
	if out, err := checkSizes(t, "."); err != nil {
		t.Errorf("tracked files over 1 MiB:\n%s", out)
	}
}

// TestCheckSizesCatchesLargeFiles: the check fails on a large tracked file
// outside testdata/, names it, and lets large test data and untracked
// files be.
func TestCheckSizesCatchesLargeFiles(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	big := make([]byte, 1<<20+1)
	write := func(name string, b []byte) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("small.txt", []byte("x"))
	write("pkg/testdata/fixture.db", big)
	write("untracked.bin", big)
	git("add", "small.txt", "pkg/testdata/fixture.db")
	if out, err := checkSizes(t, dir); err != nil {
		t.Fatalf("test data and untracked files must pass: %v\n%s", err, out)
	}
	write("n8n-secrets", big)
	git("add", "n8n-secrets")
	out, err := checkSizes(t, dir)
	if err == nil || !strings.Contains(out, "n8n-secrets:") || strings.Contains(out, "fixture.db") {
		t.Errorf("a tracked 1 MiB binary must fail the check, naming it alone: %v\n%s", err, out)
	}
}
