package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/n8n/rekey"
)

// TestSQLiteFIFOUnderTheDeadline: n8n's SQLite database is a FIFO (or a
// file on a mount that stopped answering). SQLite's open blocks whatever
// the context says: the check before start, verify-key and rekey must end
// at once or at the deadline, never hang, and stop on SIGTERM.
func TestSQLiteFIFOUnderTheDeadline(t *testing.T) {
	e := newE2E(t)
	fifo := filepath.Join(e.dir, "database.sqlite")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	key := e.canary("key") + "-0123456789abcdef"
	e.plant("n8n_key", key)
	e.plant("new_key", e.canary("newkey")+"-0123456789abcdef")
	env := []string{"N8N_ENCRYPTION_KEY=file:n8n_key", "DB_SQLITE_DATABASE=" + fifo, "N8N_SECRETS_TIMEOUT=1m"}

	// auto: the database cannot be checked, a warning, and n8n starts.
	r := e.start(env, "--", fakeN8N(t, "n8n")).wait(15 * time.Second)
	if r.code != 0 || r.child == nil || !strings.Contains(r.stderr, rekey.CodeDBSettings.Name()) {
		t.Errorf("auto: exit %d, want 0 with a %s warning\n%s", r.code, rekey.CodeDBSettings, r.stderr)
	}
	// on: refused, n8n not started.
	r = e.start(append(env, "N8N_SECRETS_VERIFY_KEY=on"), "--", fakeN8N(t, "n8n")).wait(15 * time.Second)
	if r.code != 78 || r.child != nil {
		t.Errorf("on: exit %d, want 78 without exec\n%s", r.code, r.stderr)
	}
	for _, args := range [][]string{{"verify-key"}, {"rekey", "--to", "file:new_key"}, {"rekey", "--to", "file:new_key", "--apply"}} {
		r = e.start(env, args...).wait(15 * time.Second)
		if r.code != 64 || !strings.Contains(r.stdout+r.stderr, "not a regular file") {
			t.Errorf("%s: exit %d, want 64 naming the file as not a regular file\n%s%s", args[0], r.code, r.stdout, r.stderr)
		}
	}
}

// TestKeyCommandsSIGTERMExit143: SIGTERM while the key commands resolve
// their keys ends them with 143, as the README's exit codes say for every
// command that reads secrets, not with SIGINT's 130; the failure names
// the variable, never a value.
func TestKeyCommandsSIGTERMExit143(t *testing.T) {
	e := newE2E(t)
	fifo := filepath.Join(e.dir, "key")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	newk := e.canary("newkey")
	env := []string{"N8N_ENCRYPTION_KEY=file:key", "N8N_SECRETS_TIMEOUT=1m", "NEWK=" + newk + "-0123456789abcdef"}
	for _, args := range [][]string{{"verify-key"}, {"rekey", "--to", "NEWK"}, {"fingerprint"}} {
		p := e.start(env, args...)
		w := openFIFOWriter(t, fifo, 30*time.Second) // the command reads it
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		r := p.wait(10 * time.Second)
		if r.code != 143 {
			t.Errorf("%s: exit %d after SIGTERM, want 143\n%s", args[0], r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, inject.CodeCanceled.Name()) || !strings.Contains(r.stderr, `"var":"N8N_ENCRYPTION_KEY"`) {
			t.Errorf("%s: no %s event naming N8N_ENCRYPTION_KEY\n%s", args[0], inject.CodeCanceled, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, newk) {
			t.Errorf("%s: the new key's value is in the output", args[0])
		}
		w.Close()
	}
}

// TestRekeyRefusesANewKeyTheGuardRefuses: a new key that the guard would
// refuse at every start (white space around it, quotes, a path, an
// and the like) is refused before the database is touched: after
// --apply no node could start with it. A short key is only a warning.
func TestRekeyRefusesANewKeyTheGuardRefuses(t *testing.T) {
	tests := []struct {
		name, key, code string
	}{
		{"whitespace", " " + n8ntest.Key + "-new ", n8n.CodeKeyWhitespace.Name()},
		{"trailing newline", n8ntest.Key + "-new\n", n8n.CodeKeyWhitespace.Name()},
		{"quoted", `"` + n8ntest.Key + `-new"`, n8n.CodeKeyQuoted.Name()},
		{"path", "/run/secrets/n8n_encryption_key", n8n.CodeKeyIsPath.Name()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ke := newKeyE2E(t, n8ntest.SQLite1x)
			before := fileSum(t, ke.dbPath)
			r := ke.run(ke.env("NEWK="+tt.key, "N8N_SECRETS_SKIP=NEWK"), "rekey", "--to", "NEWK", "--apply")
			if r.code != 64 || !strings.Contains(r.stderr, tt.code) || !strings.Contains(r.stderr, rekey.CodeRekeyRefused.Name()) {
				t.Errorf("exit %d, want 64 with %s and %s\n%s%s", r.code, tt.code, rekey.CodeRekeyRefused, r.stdout, r.stderr)
			}
			if fileSum(t, ke.dbPath) != before {
				t.Error("the database changed")
			}
		})
	}
	t.Run("short key warns", func(t *testing.T) {
		ke := newKeyE2E(t, n8ntest.SQLite1x)
		r := ke.run(ke.env("NEWK=short-key"), "rekey", "--to", "NEWK")
		if r.code != 0 || !strings.Contains(r.stderr, n8n.CodeKeyWeak.Name()) {
			t.Errorf("exit %d, want 0 with %s\n%s", r.code, n8n.CodeKeyWeak, r.stderr)
		}
	})
}

// TestRekeyRefusesWhenHoldersCannotBeSeen: on SQLite only a file lease
// sees an idle n8n of another container, and only the file's owner (or
// CAP_LEASE) may take one. rekey --apply run by another user refuses (78)
// rather than commit under a running n8n, unless the operator says every
// node is stopped (--assume-stopped).
func TestRekeyRefusesWhenHoldersCannotBeSeen(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the binary as another user")
	}
	const runAs, owner = 1, 65534 // daemon runs rekey; nobody owns the database
	dir, err := os.MkdirTemp("", "n8n-secrets-lease-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	b, err := os.ReadFile(filepath.Join(n8ntest.Dir(), n8ntest.SQLite1x))
	if err != nil {
		t.Fatal(err)
	}
	bin, db := filepath.Join(dir, "n8n-secrets"), filepath.Join(dir, "database.sqlite")
	exe, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	key, newKey := n8ntest.Key, "new-key-"+strings.Repeat("9", 24)
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{bin, exe, 0o755}, {db, b, 0o666}, {filepath.Join(dir, "old"), []byte(key), 0o644}, {filepath.Join(dir, "new"), []byte(newKey), 0o644}} {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(f.path, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(db, owner, owner); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil { // SQLite writes its journal beside the file
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "N8N_SECRETS_DIR=" + dir,
			"N8N_ENCRYPTION_KEY=file:old", "DB_SQLITE_DATABASE=" + db, "N8N_SECRETS_TIMEOUT=20s"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: runAs, Gid: runAs}}
		out, _ := cmd.CombinedOutput()
		for _, c := range []string{key, newKey} {
			if strings.Contains(string(out), c) {
				t.Fatal("the output holds a key")
			}
		}
		return cmd.ProcessState.ExitCode(), string(out)
	}
	before := fileSum(t, db)
	code, out := run("rekey", "--to", "file:new", "--apply")
	if code != 78 || !strings.Contains(out, "cannot tell whether n8n has") || !strings.Contains(out, "--assume-stopped") {
		t.Fatalf("exit %d, want 78 saying the holders cannot be seen\n%s", code, out)
	}
	if fileSum(t, db) != before {
		t.Fatal("the database changed")
	}
	code, out = run("rekey", "--to", "file:new", "--apply", "--assume-stopped")
	if code != 0 || fileSum(t, db) == before {
		t.Fatalf("--assume-stopped: exit %d\n%s", code, out)
	}
}

// TestNoSyncBeforeAnExecThatFails: an executable file execve cannot run
// (no "#!", not ELF) is found before anything is written: 126, and the
// settings file that sync would rewrite keeps its key.
func TestNoSyncBeforeAnExecThatFails(t *testing.T) {
	e := newE2E(t)
	key := e.canary("key")
	e.plant("key", key)
	path, before := settingsFixture(t, e, e.canary("oldkey"))
	script := e.plant("run-n8n", "echo no shebang\n")
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	r := e.run([]string{"N8N_ENCRYPTION_KEY=file:key", "N8N_SECRETS_N8N_SETTINGS=sync", "N8N_SECRETS_N8N=on"}, "--", script)
	if r.code != 126 || !strings.Contains(r.stderr, "COMMAND_NOT_EXECUTABLE") {
		t.Fatalf("exit %d, want 126\n%s", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("the settings file was rewritten before a failed exec")
	}
}
