package main

// The init-container flow without a container engine: `n8n-secrets install
// DIR` copies the binary into a directory that stands in for the volume an
// init container shares with the n8n container, and the copy then runs as
// that container's command in front of the real n8n (internal/testenv/n8nreal),
// under tini as in the official image, until n8n answers /healthz.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8nreal"
	"github.com/n8n-secrets/n8n-secrets/n8n"
)

// installed runs `install dir` and returns the INSTALLED event.
func installed(t *testing.T, e *e2e, dir string) map[string]any {
	t.Helper()
	r := e.run(nil, "install", dir)
	if r.code != 0 {
		t.Fatalf("install %s: exit %d\n%s", dir, r.code, r.stderr)
	}
	var ev map[string]any
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if err := json.Unmarshal([]byte(line), &ev); err == nil && ev["code"] == "INSTALLED" {
			return ev
		}
	}
	t.Fatalf("install logged no INSTALLED event:\n%s", r.stderr)
	return nil
}

// TestInstallCommand: the command's copy is the binary, byte for byte, with
// mode 0755; the event names its path and SHA-256; a second install
// replaces it; what is not ours is refused with 73 and left as it was.
func TestInstallCommand(t *testing.T) {
	e := newE2E(t)
	dir := t.TempDir()
	ev := installed(t, e, dir)
	want, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "n8n-secrets")
	got, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(want)
	if string(got) != string(want) || ev["sha256"] != hex.EncodeToString(sum[:]) || ev["path"] != copyPath || ev["replaced"] != false {
		t.Errorf("the copy differs from the binary, or the event does not describe it: %v", ev)
	}
	if st, err := os.Stat(copyPath); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("the copy's mode: %v (%v), want 0755", st.Mode(), err)
	}
	// The copy is a working n8n-secrets, and it can install itself again.
	out, err := exec.Command(copyPath, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "n8n-secrets e2e") {
		t.Errorf("the copy's version: %q, %v", out, err)
	}
	if ev := installed(t, e, dir); ev["replaced"] != true {
		t.Errorf("a second install did not replace the first copy: %v", ev)
	}

	// Not ours: a script of the same name stays as it is.
	other := t.TempDir()
	script := filepath.Join(other, "n8n-secrets")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := e.run(nil, "install", other)
	if r.code != 73 || !strings.Contains(r.stderr, `"code":"INSTALL_REFUSED"`) {
		t.Errorf("install over a script: exit %d, want 73 and INSTALL_REFUSED\n%s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(script); string(b) != "#!/bin/sh\nexit 0\n" {
		t.Error("the script was changed")
	}
	for _, args := range [][]string{{"install"}, {"install", dir, dir}, {"install", "--nope", dir}} {
		if r := e.run(nil, args...); r.code != 64 || !strings.Contains(r.stderr, `"code":"USAGE"`) {
			t.Errorf("%q: exit %d, want 64 (usage)\n%s", args, r.code, r.stderr)
		}
	}
}

// TestInitContainerN8N is the init-container flow with the real n8n 2.x:
// the key is a file: reference into the secrets dir (a Kubernetes secret
// volume), the command is the one the Kubernetes examples give the n8n
// container, tini -- <copy> -- n8n, and n8n comes up healthy with the key
// n8n-secrets resolved (the key n8n writes into its settings file).
func TestInitContainerN8N(t *testing.T) {
	in := n8nreal.V2(t)
	tini, err := exec.LookPath("tini")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tini is not installed (.ci/run installs it): the official image runs n8n under tini")
		}
		t.Skip("tini is not installed (apt-get install tini)")
	}
	e := newE2E(t)
	shared := t.TempDir()
	installed(t, e, shared)
	key := e.canary("key") + "-0123456789abcdef"
	e.plant("encryption_key", key+"\n")

	tmp := t.TempDir()
	node := n8nreal.NewNode(t, in, "N8N_ENCRYPTION_KEY=file:encryption_key", "N8N_SECRETS_DIR="+e.dir,
		"N8N_SECRETS_EXPECT_KEY_FINGERPRINT="+n8n.Fingerprint(key), "TMPDIR="+tmp)
	p, err := node.Start(tini, "--", filepath.Join(shared, "n8n-secrets"), "--")
	if err != nil {
		t.Fatalf("n8n behind the installed copy did not come up: %v\n%s", err, lastLines(n8nreal.OutputOf(err), 20))
	}
	resp, err := http.Get(p.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"ok"`) {
		t.Errorf("/healthz: %d %s", resp.StatusCode, body)
	}
	out := p.Output()
	if !strings.Contains(out, `"code":"EXEC"`) || !strings.Contains(out, `"n8n_key_fingerprint":"`+n8n.Fingerprint(key)+`"`) {
		t.Errorf("the installed copy logged no EXEC event with the key's fingerprint:\n%s", lastLines(out, 20))
	}
	e.assertNoCanary(out)
	// n8n got the value, not the reference: it wrote it to its settings file.
	cfg, err := os.ReadFile(filepath.Join(node.DataDir(), "config"))
	if err != nil {
		t.Fatal(err)
	}
	var settings struct {
		EncryptionKey string `json:"encryptionKey"`
	}
	if err := json.Unmarshal(cfg, &settings); err != nil || settings.EncryptionKey != key {
		t.Errorf("n8n's settings file does not hold the resolved key (%v)", err)
	}
	// What n8n writes in its home (N8N_USER_FOLDER and HOME here, /home/node
	// in the image): its folder and its static cache, which the examples
	// give it as volumes on a read-only root file system (with /tmp).
	ents, err := os.ReadDir(node.UserFolder)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range ents {
		if ent.Name() != ".n8n" && ent.Name() != ".cache" {
			t.Errorf("n8n wrote %s in its home: the examples give it no volume there", ent.Name())
		}
	}
	// tini forwards the TERM to n8n, which n8n-secrets has become.
	if err := p.Stop(); err != nil {
		t.Error(err)
	}
}
