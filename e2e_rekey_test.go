package main

// End-to-end tests of the key commands' own mistakes (issues 18 and 19):
// a key named through NAME_FILE, a key that resolves to nothing, the
// settings file that keeps the old key after a rekey. The real binary, on
// the databases the real n8n made.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/n8n"
)

// outside writes content to a file outside the sandbox's secrets dir (the
// mounts), as NAME_FILE variables often name, and returns its path.
func outside(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKeyFromNameFile (issue 18, item 4): `rekey --to NAME` and `--from
// NAME` with only NAME_FILE set read the file, wherever it is, as they
// read N8N_ENCRYPTION_KEY_FILE; before, the key was read as empty (exit
// 78). The default --from (N8N_ENCRYPTION_KEY) given as
// N8N_ENCRYPTION_KEY_FILE outside the mounts is the same case.
func TestKeyFromNameFile(t *testing.T) {
	ke := newKeyE2E(t, n8ntest.SQLite2x)
	sum := fileSum(t, ke.dbPath)
	newFile := outside(t, "new.key", ke.newKey+"\n")
	oldFile := outside(t, "old.key", n8ntest.Key+"\n")

	for name, tc := range map[string]struct {
		env  []string
		args []string
	}{
		"--to NAME":                 {ke.env("NEW_N8N_KEY_FILE=" + newFile), []string{"--to", "NEW_N8N_KEY"}},
		"--from NAME":               {[]string{"OLD_N8N_KEY_FILE=" + oldFile}, []string{"--from", "OLD_N8N_KEY", "--to", "file:new_key"}},
		"default --from, _FILE":     {[]string{"N8N_ENCRYPTION_KEY_FILE=" + oldFile}, []string{"--to", "file:new_key"}},
		"both through NAME_FILE":    {[]string{"N8N_ENCRYPTION_KEY_FILE=" + oldFile, "NEW_N8N_KEY_FILE=" + newFile}, []string{"--to", "NEW_N8N_KEY"}},
		"--to NAME, file in mounts": {ke.env("NEW_N8N_KEY_FILE=" + filepath.Join(ke.dir, "new_key")), []string{"--to", "NEW_N8N_KEY"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := ke.run(tc.env, append([]string{"rekey"}, tc.args...)...)
			if r.code != 0 || !strings.Contains(r.stdout, "new key fingerprint "+n8n.Fingerprint(ke.newKey)) {
				t.Fatalf("exit %d, want 0 and the new key's fingerprint\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, "old key fingerprint "+n8n.Fingerprint(n8ntest.Key)) {
				t.Errorf("the old key is not the file's:\n%s", r.stdout)
			}
		})
	}
	if fileSum(t, ke.dbPath) != sum {
		t.Fatal("a dry run changed the database")
	}
}

// TestKeyMissingIsUsage (issue 18, item 4): a key command without its key
// is a usage error (64) naming what is missing, not the guard's 78; the
// siblings: verify-key, fingerprint, rekey's --from and --to.
func TestKeyMissingIsUsage(t *testing.T) {
	ke := newKeyE2E(t, n8ntest.SQLite2x)
	empty := outside(t, "empty.key", "")
	for name, tc := range map[string]struct {
		env   []string
		args  []string
		wants []string
	}{
		"verify-key, no key":          {nil, []string{"verify-key"}, []string{"N8N_ENCRYPTION_KEY", "not set"}},
		"verify-key, empty key":       {[]string{"N8N_ENCRYPTION_KEY="}, []string{"verify-key"}, []string{"N8N_ENCRYPTION_KEY", "empty"}},
		"verify-key, empty _FILE":     {[]string{"N8N_ENCRYPTION_KEY_FILE=" + empty}, []string{"verify-key"}, []string{"N8N_ENCRYPTION_KEY_FILE", "empty"}},
		"fingerprint, no key":         {nil, []string{"fingerprint"}, []string{"N8N_ENCRYPTION_KEY", "not set"}},
		"rekey --to NAME, empty":      {ke.env("NEW_N8N_KEY="), []string{"rekey", "--to", "NEW_N8N_KEY"}, []string{"--to", "variable NEW_N8N_KEY", "empty"}},
		"rekey --to NAME, empty file": {ke.env("NEW_N8N_KEY_FILE=" + empty), []string{"rekey", "--to", "NEW_N8N_KEY"}, []string{"--to", "NEW_N8N_KEY_FILE", "empty"}},
		"rekey --from, empty":         {[]string{"N8N_ENCRYPTION_KEY="}, []string{"rekey", "--to", "file:new_key"}, []string{"--from", "variable N8N_ENCRYPTION_KEY", "empty"}},
		"rekey --from, empty file":    {[]string{"N8N_ENCRYPTION_KEY_FILE=" + empty}, []string{"rekey", "--to", "file:new_key"}, []string{"--from", "N8N_ENCRYPTION_KEY_FILE", "empty"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := ke.run(tc.env, tc.args...)
			if r.code != 64 {
				t.Fatalf("exit %d, want 64\n%s", r.code, r.stderr)
			}
			for _, w := range tc.wants {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("the error does not say %q:\n%s", w, r.stderr)
				}
			}
		})
	}
	// fingerprint reads N8N_ENCRYPTION_KEY_FILE wherever it is, as n8n does.
	r := ke.run([]string{"N8N_ENCRYPTION_KEY_FILE=" + outside(t, "k", n8ntest.Key)}, "fingerprint")
	if r.code != 0 || strings.TrimSpace(r.stdout) != n8n.Fingerprint(n8ntest.Key) {
		t.Fatalf("fingerprint of N8N_ENCRYPTION_KEY_FILE outside the mounts: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
