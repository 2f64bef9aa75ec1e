package main

// End-to-end tests of the security review's findings (hardening): a
// refused start changes nothing, check never writes, every file the start
// reads is read under the deadline and stops on a signal, and a signal at
// any point before exec stops the start.

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/start"
)

// running is the binary started in the background.
type running struct {
	e    *e2e
	cmd  *exec.Cmd
	out  string
	so   *bytes.Buffer
	se   *bytes.Buffer
	done chan struct{}
}

// start runs the binary like run, without waiting for it.
func (e *e2e) start(env []string, args ...string) *running {
	e.t.Helper()
	out := filepath.Join(e.t.TempDir(), "child.json")
	cmd := exec.Command(binPath, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.home, "N8N_SECRETS_DIR=" + e.dir, "E2E_CHILD_OUT=" + out}, env...)
	r := &running{e: e, cmd: cmd, out: out, so: &bytes.Buffer{}, se: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = r.so, r.se
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(r.done)
	}()
	e.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-r.done
	})
	return r
}

// wait waits for the binary to end (at most limit) and returns what run
// returns; the canary check applies.
func (r *running) wait(limit time.Duration) result {
	r.e.t.Helper()
	select {
	case <-r.done:
	case <-time.After(limit):
		_ = r.cmd.Process.Kill()
		<-r.done
		r.e.t.Fatalf("still running after %v:\n%s", limit, r.se.String())
	}
	res := result{code: r.cmd.ProcessState.ExitCode(), stdout: r.so.String(), stderr: r.se.String(), pid: r.cmd.Process.Pid}
	if ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.code = 128 + int(ws.Signal())
	}
	r.e.assertNoCanary(res.stdout + res.stderr)
	if _, err := os.Stat(r.out); err == nil {
		res.child = &childReport{}
	}
	return res
}

// settingsFixture writes n8n 1.123's settings file holding key into the
// sandbox's home and returns its path and bytes.
func settingsFixture(t *testing.T, e *e2e, key string) (string, []byte) {
	t.Helper()
	p := writeSettings(t, e.home, key, 0o600)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, b
}

// TestSyncNeverDestroysTheKey: with N8N_SECRETS_N8N_SETTINGS=sync, a start
// the guard refuses for anything else (a pinned fingerprint that differs:
// a bad rotation; a key that is a path) leaves the settings file, which may
// hold the only copy of the right key, byte for byte as it was.
func TestSyncNeverDestroysTheKey(t *testing.T) {
	e := newE2E(t)
	real := e.canary("realkey")
	wrong := e.canary("wrongkey")
	e.plant("wrong", wrong)
	path, before := settingsFixture(t, e, real)
	cmd := fakeN8N(t, "n8n")
	for name, env := range map[string][]string{
		"pinned fingerprint": {"N8N_ENCRYPTION_KEY=file:wrong", "N8N_SECRETS_EXPECT_KEY_FINGERPRINT=" + n8n.Fingerprint(real)},
		"key is a path":      {"N8N_ENCRYPTION_KEY=/run/secrets/n8n_encryption_key"},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.run(append(env, "N8N_SECRETS_N8N_SETTINGS=sync"), "--", cmd, "worker")
			if r.code != 78 || r.child != nil {
				t.Fatalf("exit %d, want 78 without exec\n%s", r.code, r.stderr)
			}
			if strings.Contains(r.stderr, n8n.CodeSettingsSynced.Name()) || !strings.Contains(r.stderr, "not rewritten") {
				t.Errorf("the log must say the file was kept:\n%s", r.stderr)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
				t.Fatal("the settings file changed on a refused start")
			}
		})
	}
}

// TestCheckNeverWrites: check in sync mode says what a start would do and
// writes nothing.
func TestCheckNeverWrites(t *testing.T) {
	e := newE2E(t)
	// A key proved against n8n's database (the fixture's): sync may
	// replace the file's.
	e.home, _ = n8ntest.CopySQLite(t, n8ntest.SQLite2x)
	old := e.canary("oldkey")
	key := n8ntest.Key
	e.canaries = append(e.canaries, key)
	e.plant("key", key)
	path, before := settingsFixture(t, e, old)
	r := e.run([]string{"N8N_ENCRYPTION_KEY=file:key", "N8N_SECRETS_N8N_SETTINGS=sync"}, "check")
	if r.code != 0 || !strings.Contains(r.stdout, n8n.CodeSettingsSyncPlanned.Name()) || !strings.Contains(r.stdout, "check never writes") {
		t.Fatalf("check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Fatal("check wrote the settings file")
	}
	// The start itself rewrites it, last, and logs both fingerprints.
	r = e.run([]string{"N8N_ENCRYPTION_KEY=file:key", "N8N_SECRETS_N8N_SETTINGS=sync"}, "--", fakeN8N(t, "n8n"))
	if r.code != 0 || r.child == nil {
		t.Fatalf("start: exit %d\n%s", r.code, r.stderr)
	}
	synced := -1
	for i, ev := range jsonEvents(t, r.stderr) {
		if ev["code"] == n8n.CodeSettingsSynced.Name() {
			synced = i
			if ev["old_fingerprint"] != n8n.Fingerprint(old) || ev["n8n_key_fingerprint"] != n8n.Fingerprint(key) {
				t.Errorf("synced event %v", ev)
			}
		}
		if ev["code"] == start.CodeExec.Name() && synced < 0 {
			t.Error("exec logged before the settings file was rewritten")
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Contains(after, []byte(key)) || synced < 0 {
		t.Fatalf("the start did not rewrite the file\n%s", r.stderr)
	}
}

// TestSyncRefusesLinks: ~/.n8n/config as a link to another JSON file:
// refused, the target untouched (mode too).
func TestSyncRefusesLinks(t *testing.T) {
	e := newE2E(t)
	key := e.canary("key")
	e.plant("key", key)
	target := filepath.Join(t.TempDir(), "other.json")
	victim := []byte(`{"encryptionKey":"precious-0123456789abcdef"}`)
	if err := os.WriteFile(target, victim, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(e.home, ".n8n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(e.home, ".n8n", "config")); err != nil {
		t.Fatal(err)
	}
	r := e.run([]string{"N8N_ENCRYPTION_KEY=file:key", "N8N_SECRETS_N8N_SETTINGS=sync"}, "--", fakeN8N(t, "n8n"))
	if r.code != 78 || r.child != nil || !strings.Contains(r.stderr, "symbolic link") {
		t.Fatalf("exit %d, want 78\n%s", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(target); !bytes.Equal(after, victim) {
		t.Fatal("the link's target was rewritten")
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o644 {
		t.Fatal("the link's target's mode changed")
	}
}

// TestEveryFileReadUnderTheDeadline: a FIFO where the start reads a file
// (a secret, NAME_FILE, Vault's token file and CA certificate, AWS's config
// file) ends at the deadline, or at once on SIGTERM (143), and the command
// is never started. n8n's settings file is opened without waiting: a FIFO
// there is reported at once.
func TestEveryFileReadUnderTheDeadline(t *testing.T) {
	tests := []struct {
		name string
		env  func(fifo string) []string
	}{
		{"file reference", func(f string) []string { return []string{"K=file:fifo"} }},
		{"NAME_FILE", func(f string) []string { return []string{"K_FILE=" + f} }},
		{"VAULT_TOKEN_FILE", func(f string) []string {
			return []string{"K=vault://secret/k", "VAULT_ADDR=http://127.0.0.1:1", "VAULT_TOKEN_FILE=" + f}
		}},
		{"VAULT_CACERT", func(f string) []string {
			return []string{"K=vault://secret/k", "VAULT_ADDR=https://127.0.0.1:1", "VAULT_TOKEN=t", "VAULT_CACERT=" + f}
		}},
		{"AWS_CONFIG_FILE", func(f string) []string {
			return []string{"K=awssm://n8n/k", "AWS_REGION=us-east-1", "AWS_CONFIG_FILE=" + f, "AWS_EC2_METADATA_DISABLED=true"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newE2E(t)
			fifo := filepath.Join(e.dir, "fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			env := append(tt.env(fifo), "N8N_SECRETS_N8N=off")
			r := e.run(append(env, "N8N_SECRETS_TIMEOUT=500ms"), "--", self(t))
			if r.code != 69 || r.child != nil {
				t.Errorf("deadline: exit %d, want 69 without exec\n%s", r.code, r.stderr)
			}
			p := e.start(append(env, "N8N_SECRETS_TIMEOUT=1m"), "--", self(t))
			w := openFIFOWriter(t, fifo, 30*time.Second) // the start reads it
			defer w.Close()
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			r = p.wait(10 * time.Second)
			if r.code != 143 || r.child != nil {
				t.Errorf("SIGTERM: exit %d, want 143 without exec\n%s", r.code, r.stderr)
			}
		})
	}
	t.Run("n8n settings file", func(t *testing.T) {
		e := newE2E(t)
		e.plant("key", e.canary("key"))
		if err := os.MkdirAll(filepath.Join(e.home, ".n8n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(filepath.Join(e.home, ".n8n", "config"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := e.run([]string{"N8N_ENCRYPTION_KEY=file:key", "N8N_SECRETS_TIMEOUT=1m"}, "--", fakeN8N(t, "n8n"))
		if r.code != 78 || r.child != nil || !strings.Contains(r.stderr, n8n.CodeSettingsUnreadable.Name()) {
			t.Errorf("exit %d, want 78 at once\n%s", r.code, r.stderr)
		}
	})
}

// TestSignalDuringRevokeStopsTheStart: a SIGTERM that arrives after every
// secret was fetched, while the login token is being revoked, still stops
// the start: 143, the command never started, the token revoked anyway.
func TestSignalDuringRevokeStopsTheStart(t *testing.T) {
	revoking := make(chan struct{}, 1)
	revoked := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/v1/auth/approle/login":
			w.Write([]byte(`{"auth":{"client_token":"hvs.login","lease_duration":60,"renewable":true}}`))
		case strings.HasPrefix(r.URL.Path, "/v1/sys/internal/ui/mounts/"):
			w.Write([]byte(`{"data":{"path":"secret/","type":"kv","options":{"version":"2"}}}`))
		case r.URL.Path == "/v1/secret/data/n8n/core":
			w.Write([]byte(`{"data":{"data":{"k":"v"},"metadata":{"version":1}}}`))
		case r.URL.Path == "/v1/auth/token/revoke-self":
			revoking <- struct{}{}
			time.Sleep(700 * time.Millisecond)
			revoked <- struct{}{}
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	e := newE2E(t)
	p := e.start([]string{"K=vault://secret/n8n/core#k", "VAULT_ADDR=" + srv.URL, "VAULT_ROLE_ID=r", "VAULT_SECRET_ID=" + e.canary("sid"),
		"N8N_SECRETS_N8N=off"}, "--", self(t))
	select {
	case <-revoking:
	case <-time.After(10 * time.Second):
		t.Fatal("the token was never revoked")
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := p.wait(10 * time.Second)
	if r.code != 143 || r.child != nil {
		t.Fatalf("exit %d, want 143 without exec\n%s", r.code, r.stderr)
	}
	select {
	case <-revoked:
	default:
		t.Error("the revoke was cut short by the signal")
	}
}
