package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/n8ntest"
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
	if r.code != 0 || r.child == nil || !strings.Contains(r.stderr, rekey.CodeDBSettings) {
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
// command that reads secrets, not with SIGINT's 130.
func TestKeyCommandsSIGTERMExit143(t *testing.T) {
	e := newE2E(t)
	fifo := filepath.Join(e.dir, "key")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"N8N_ENCRYPTION_KEY=file:key", "N8N_SECRETS_TIMEOUT=1m", "NEWK=" + e.canary("newkey") + "-0123456789abcdef"}
	for _, args := range [][]string{{"verify-key"}, {"rekey", "--to", "NEWK"}} {
		p := e.start(env, args...)
		time.Sleep(300 * time.Millisecond) // blocked on the FIFO
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if r := p.wait(10 * time.Second); r.code != 143 {
			t.Errorf("%s: exit %d after SIGTERM, want 143\n%s", args[0], r.code, r.stderr)
		}
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
		{"whitespace", " " + n8ntest.Key + "-new ", n8n.CodeKeyWhitespace},
		{"trailing newline", n8ntest.Key + "-new\n", n8n.CodeKeyWhitespace},
		{"quoted", `"` + n8ntest.Key + `-new"`, n8n.CodeKeyQuoted},
		{"path", "/run/secrets/n8n_encryption_key", n8n.CodeKeyIsPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ke := newKeyE2E(t, n8ntest.SQLite1x)
			before := fileSum(t, ke.dbPath)
			r := ke.run(ke.env("NEWK="+tt.key, "N8N_SECRETS_SKIP=NEWK"), "rekey", "--to", "NEWK", "--apply")
			if r.code != 64 || !strings.Contains(r.stderr, tt.code) || !strings.Contains(r.stderr, rekey.CodeRekeyRefused) {
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
		if r.code != 0 || !strings.Contains(r.stderr, n8n.CodeKeyWeak) {
			t.Errorf("exit %d, want 0 with %s\n%s", r.code, n8n.CodeKeyWeak, r.stderr)
		}
	})
}
