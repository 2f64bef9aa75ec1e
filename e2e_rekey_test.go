package main

// End-to-end tests of the key commands' own mistakes (issues 18 and 19):
// a key named through NAME_FILE, a key that resolves to nothing, the
// settings file that keeps the old key after a rekey. The real binary, on
// the databases the real n8n made.

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
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

// settingsKey returns the encryptionKey of the settings file at path.
func settingsKey(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		EncryptionKey string `json:"encryptionKey"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("the settings file is not JSON any more: %v", err)
	}
	return doc.EncryptionKey
}

// TestRekeySettingsFile (issue 19, item 9): n8n's settings file keeps the
// key n8n last ran with; after a rekey it holds the old one, and n8n (and
// the guard) refuse to start. The dry run and --apply say so, with the
// path; --update-settings-file rewrites it after the commit, under sync's
// rules (a link is refused before anything is written). Before, neither
// output mentioned it.
func TestRekeySettingsFile(t *testing.T) {
	ke := newKeyE2E(t, n8ntest.SQLite2x)
	cfg := filepath.Join(ke.home, ".n8n", "config")
	content := "{\n\t\"encryptionKey\": \"" + n8ntest.Key + "\",\n\t\"tunnelSubdomain\": \"kept\"\n}"
	if err := os.WriteFile(cfg, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	r := ke.run(ke.env(), "rekey", "--to", "file:new_key")
	if r.code != 0 || !strings.Contains(r.stdout, cfg) || !strings.Contains(r.stdout, "holds the old key") || !strings.Contains(r.stdout, "--update-settings-file") {
		t.Fatalf("dry run: exit %d; it does not say that %s holds the old key:\n%s", r.code, cfg, r.stdout)
	}
	r = ke.run(ke.env(), "rekey", "--to", "file:new_key", "--apply")
	if r.code != 0 || !strings.Contains(r.stdout, cfg) || !strings.Contains(r.stdout, "holds the old key") || !strings.Contains(r.stderr, n8n.CodeSettingsKeyMismatch.Name()) {
		t.Fatalf("--apply: exit %d; it does not say that %s holds the old key:\n%s\n%s", r.code, cfg, r.stdout, r.stderr)
	}
	if settingsKey(t, cfg) != n8ntest.Key {
		t.Fatal("--apply without --update-settings-file changed the settings file")
	}
	// The database is done; the file is updated by a second run.
	r = ke.run(ke.env(), "rekey", "--to", "file:new_key", "--apply", "--update-settings-file", "--json")
	var rep rekeyReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || rep.SettingsFile == nil || !strings.HasPrefix(rep.SettingsFile.Action, "rewritten") {
		t.Fatalf("--update-settings-file: exit %d %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	if settingsKey(t, cfg) != ke.newKey {
		t.Fatal("the settings file does not hold the new key")
	}
	b, _ := os.ReadFile(cfg)
	if !strings.Contains(string(b), `"tunnelSubdomain": "kept"`) {
		t.Error("the rewrite lost the file's other settings")
	}
	if st, _ := os.Stat(cfg); st.Mode().Perm() != 0o600 {
		t.Errorf("the rewritten file has mode %v", st.Mode().Perm())
	}
	// The guard now starts n8n's stand-in with the new key.
	r = ke.run([]string{"N8N_ENCRYPTION_KEY=file:new_key", "N8N_SECRETS_VERIFY_KEY=on"}, "--", self(t), "start")
	if r.code != 0 || r.child == nil {
		t.Fatalf("start after the rekey: exit %d\n%s", r.code, r.stderr)
	}

	// One run does both, and a link is refused before anything is
	// written.
	for _, link := range []bool{false, true} {
		ke := newKeyE2E(t, n8ntest.SQLite2x)
		cfg := filepath.Join(ke.home, ".n8n", "config")
		target := cfg
		if link {
			target = filepath.Join(t.TempDir(), "elsewhere")
		}
		if err := os.WriteFile(target, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if link {
			if err := os.Symlink(target, cfg); err != nil {
				t.Fatal(err)
			}
		}
		sum := fileSum(t, ke.dbPath)
		r := ke.run(ke.env(), "rekey", "--to", "file:new_key", "--apply", "--update-settings-file")
		switch {
		case !link && (r.code != 0 || settingsKey(t, cfg) != ke.newKey || !strings.Contains(r.stderr, n8n.CodeSettingsSynced.Name())):
			t.Fatalf("one run: exit %d, the file holds the new key: %v\n%s\n%s", r.code, settingsKey(t, cfg) == ke.newKey, r.stdout, r.stderr)
		case link && (r.code != 78 || fileSum(t, ke.dbPath) != sum || settingsKey(t, target) != n8ntest.Key || !strings.Contains(r.stderr, "symbolic link")):
			t.Fatalf("a link: exit %d, want 78 with nothing written\n%s", r.code, r.stderr)
		}
	}
}

// TestSettingsRewriteAfterCommitRefusesChangedFile (issue 19, item 9): the
// rewrite decided before the rekey is applied after the commit only if the
// file is still the one read; otherwise it is left as it is and rekey
// exits 73 (the database is under the new key all the same), saying so.
func TestSettingsRewriteAfterCommitRefusesChangedFile(t *testing.T) {
	home := t.TempDir()
	cfg := filepath.Join(home, ".n8n", "config")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o700); err != nil {
		t.Fatal(err)
	}
	const oldKey, newKey = "CANARY-old-settings-key-0123456789", "CANARY-new-settings-key-0123456789"
	if err := os.WriteFile(cfg, []byte(`{"encryptionKey":"`+oldKey+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	sf := n8n.InspectForRekey(cfg, oldKey, newKey, true)
	defer sf.Plan.Close()
	if sf.Holds != n8n.SettingsOldKey || sf.Plan == nil {
		t.Fatalf("holds %q, plan %v, refused %v", sf.Holds, sf.Plan != nil, sf.Refused)
	}
	// n8n (or someone) writes the file meanwhile.
	changed := `{"encryptionKey":"` + oldKey + `","tunnelSubdomain":"x"}`
	if err := os.WriteFile(cfg, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	rep, code := settingsAfterRekey(sf, true, true, slog.New(slog.NewJSONHandler(&logs, nil)))
	if code != exitSettingsNotRewritten || rep == nil || !strings.HasPrefix(rep.Action, "not rewritten") || !strings.Contains(rep.Action, "the database IS under the new key") {
		t.Fatalf("exit %d, report %+v", code, rep)
	}
	if b, _ := os.ReadFile(cfg); string(b) != changed {
		t.Fatal("the changed file was rewritten")
	}
	if strings.Contains(logs.String()+rep.Action, "CANARY") {
		t.Fatal("a key reached the output")
	}
}
