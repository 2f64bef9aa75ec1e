package examples

// The GitHub Actions workflows of examples/github-actions: actionlint
// (`make actionlint`, from the Go module proxy) passes them, with
// shellcheck over their run: scripts; the scheduled one rotates a secret,
// rolls the nodes out and verifies them; the manual one rotates the key
// behind an environment's approval. Every script they run exists.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var workflowDir = "github-actions"

// actionlint runs actionlint on files and returns its output and error.
func actionlint(t *testing.T, bin, shellcheck string, files ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-no-color", "-shellcheck=" + shellcheck}, files...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestWorkflows(t *testing.T) {
	bin := tool(t, "ACTIONLINT_BIN", "actionlint", "ACTIONLINT_VERSION")
	// Without shellcheck actionlint skips the run: scripts; .ci/run
	// installs it.
	shellcheck := lookTool(t, "shellcheck", "actionlint checks the workflows' scripts with it")
	files, _ := filepath.Glob(filepath.Join(workflowDir, "*.yml"))
	if len(files) != 2 {
		t.Fatalf("%d workflows, want the scheduled rotation and the key rotation", len(files))
	}
	if out, err := actionlint(t, bin, shellcheck, files...); err != nil || out != "" {
		t.Errorf("actionlint: %v\n%s", err, out)
	}

	// actionlint does find what it must: a context where it is not
	// available (the mistake it caught in these files), and a script error
	// for shellcheck.
	for what, spoil := range map[string][2]string{
		"runner context in a job's env": {"    env:\n", "    env:\n      SPOILED: ${{ runner.temp }}/x\n"},
		"unquoted variable in a script": {`rm -f "$RUNNER_TEMP/vault_token"`, `rm -f $RUNNER_TEMP/vault_token`},
	} {
		src := readFile(t, files[0])
		if !strings.Contains(src, spoil[0]) {
			t.Fatalf("%s: nothing to spoil for %s", files[0], what)
		}
		bad := filepath.Join(t.TempDir(), filepath.Base(files[0]))
		if err := os.WriteFile(bad, []byte(strings.Replace(src, spoil[0], spoil[1], 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := actionlint(t, bin, shellcheck, bad); err == nil {
			t.Errorf("actionlint passed a workflow with a %s:\n%s", what, out)
		}
	}

	byName := map[string]map[string]any{}
	for _, f := range files {
		byName[filepath.Base(f)] = loadYAML(t, f)[0]
	}
	scheduled, manual := byName["rotate-redis-password.yml"], byName["rotate-key.yml"]
	if scheduled == nil || manual == nil {
		t.Fatalf("workflows %v, want rotate-redis-password.yml and rotate-key.yml", sortedKeys(byName))
	}
	// yaml.v3 reads YAML 1.2: `on` is a string key, not a boolean.
	on := func(w map[string]any) map[string]any { return asMap(w["on"]) }
	if on(scheduled)["schedule"] == nil {
		t.Error("rotate-redis-password.yml runs on no schedule")
	}
	if o := on(manual); o["workflow_dispatch"] == nil || o["schedule"] != nil || o["push"] != nil {
		t.Errorf("rotate-key.yml: triggers %v, want workflow_dispatch only", sortedKeys(o))
	}
	for name, w := range byName {
		perms := asMap(w["permissions"])
		if str(perms["id-token"]) != "write" || str(perms["contents"]) != "read" || len(perms) != 2 {
			t.Errorf("%s: permissions %v, want contents: read and id-token: write only", name, perms)
		}
		if g := str(asMap(w["concurrency"])["group"]); g != "n8n-rotation" {
			t.Errorf("%s: concurrency group %q: the two rotations must never run at once", name, g)
		}
		for jname, j := range asMap(w["jobs"]) {
			if str(asMap(j)["environment"]) == "" {
				t.Errorf("%s: job %s runs in no environment (its secrets and, for the key, its approval)", name, jname)
			}
		}
	}
	// The key rotation waits for an approval: its environment is not the
	// scheduled one, which must run unattended.
	envOf := func(w map[string]any) string {
		for _, j := range asMap(w["jobs"]) {
			return str(asMap(j)["environment"])
		}
		return ""
	}
	if envOf(manual) == envOf(scheduled) {
		t.Errorf("both workflows run in the environment %q: the key rotation needs its own, with required reviewers", envOf(manual))
	}

	// Every script they run exists and is executable, and the scheduled one
	// writes, rolls out and verifies.
	used := map[string][]string{}
	for name := range byName {
		for _, m := range regexp.MustCompile(`examples/(rotate/[a-z-]+\.sh)`).FindAllStringSubmatch(readFile(t, filepath.Join(workflowDir, name)), -1) {
			used[name] = append(used[name], m[1])
			if st, err := os.Stat(m[1]); err != nil || st.Mode()&0o111 == 0 {
				t.Errorf("%s runs examples/%s, which is not an executable script here", name, m[1])
			}
		}
	}
	for _, s := range []string{"rotate/vault-kv-patch.sh", "rotate/roll.sh", "rotate/verify.sh"} {
		if !slices.Contains(used["rotate-redis-password.yml"], s) {
			t.Errorf("rotate-redis-password.yml does not run %s", s)
		}
	}
	if !slices.Contains(used["rotate-key.yml"], "rotate/rotate-key.sh") {
		t.Error("rotate-key.yml does not run rotate/rotate-key.sh")
	}
}
