package main

// What a careless operator does while following the docs (the review of
// 2026-12-06, evening): a setting's variable misspelled, the only copy of
// a key handed to rekey.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/n8n"
)

// TestSettingVariableTypo: a misspelled N8N_SECRETS_* variable must not be
// ignored in silence. The fingerprint pin misspelled let a node with another
// key start (the pin was simply not there), N8N_SECRETS_VERIFY_KY=on left
// the check before start at auto: a near miss of a setting's name is a
// usage error (64) that names the variable and the setting it is near,
// never its value; nothing is exec'd.
func TestSettingVariableTypo(t *testing.T) {
	e := newE2E(t)
	key := e.canary("key")
	e.plant("key", key)
	cmd := fakeN8N(t, "n8n")
	pin := "0000000000000000" // not the key's fingerprint
	if pin == n8n.Fingerprint(key) {
		t.Fatal("the pin must differ from the key's fingerprint")
	}
	tests := []struct{ typo, want string }{
		{"N8N_SECRETS_EXPECT_KEY_FINGERPRNT=" + pin, "N8N_SECRETS_EXPECT_KEY_FINGERPRINT"},
		{"N8N_SECRETS_EXPECT_KEY_FINGERPRINTS=" + pin, "N8N_SECRETS_EXPECT_KEY_FINGERPRINT"},
		{"N8N_SECRET_EXPECT_KEY_FINGERPRINT=" + pin, "N8N_SECRETS_EXPECT_KEY_FINGERPRINT"},
		{"N8N_SECRETS_VERIFY_KY=on", "N8N_SECRETS_VERIFY_KEY"},
		{"N8N_SECRETS_N8N_SETTING=sync", "N8N_SECRETS_N8N_SETTINGS"},
		{"N8N_SECRETS_PASTHROUGH=" + key, "N8N_SECRETS_PASSTHROUGH"},
	}
	for _, tt := range tests {
		name, _, _ := strings.Cut(tt.typo, "=")
		r := e.run([]string{"N8N_ENCRYPTION_KEY=file:key", tt.typo}, "--", cmd, "worker")
		if r.code != 64 || r.child != nil {
			t.Errorf("%s: exit %d (exec'd: %v), want 64 without exec\n%s", name, r.code, r.child != nil, r.stderr)
			continue
		}
		if !strings.Contains(r.stderr, name) || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%s: the error does not name the variable and %s:\n%s", name, tt.want, r.stderr)
		}
		if strings.Contains(r.stderr, pin) {
			t.Errorf("%s: the error repeats the value:\n%s", name, r.stderr)
		}
	}
	// Variables of the prefix that are near no setting, and other
	// programs' variables, are left alone.
	r := e.run([]string{"N8N_ENCRYPTION_KEY=file:key", "N8N_SECRETS_OUTAGE=10m", "N8N_SECURE_COOKIE=false"}, "--", cmd, "worker")
	if r.code != 0 || r.child == nil {
		t.Errorf("unrelated variables: exit %d, want 0 and exec\n%s", r.code, r.stderr)
	}
}

// TestRekeyFromTheSettingsFileKeepsIt: an n8n that was never given
// N8N_ENCRYPTION_KEY runs with the key it generated into its settings file,
// the only copy. rekey names no variable then, and the operator points
// --from at the file (file:///…/.n8n/config#encryptionKey, or a variable
// holding that reference). With --update-settings-file the file was
// rewritten after the commit: the old key, the one every backup of the
// database is under, was gone for good. Refused before anything is written
// (64), naming the file and what to do; without --update-settings-file it
// runs, and the file keeps the old key.
func TestRekeyFromTheSettingsFileKeepsIt(t *testing.T) {
	for _, how := range []string{"reference", "variable", "relative"} {
		t.Run(how, func(t *testing.T) {
			ke := newKeyE2E(t, n8ntest.SQLite2x)
			cfg := filepath.Join(ke.home, ".n8n", "config")
			if err := os.WriteFile(cfg, []byte("{\n\t\"encryptionKey\": \""+n8ntest.Key+"\"\n}"), 0o600); err != nil {
				t.Fatal(err)
			}
			dbBefore, cfgBefore := fileSum(t, ke.dbPath), fileSum(t, cfg)
			from, env := "file://"+cfg+"#encryptionKey", []string{}
			switch how {
			case "variable":
				env, from = append(env, "OLD_KEY=file://"+cfg+"#encryptionKey"), "OLD_KEY"
			case "relative":
				// The secrets dir is the user folder's .n8n: file:config.
				env, from = append(env, "N8N_SECRETS_DIR="+filepath.Dir(cfg)), "file:config#encryptionKey"
			}
			to := "file://" + filepath.Join(ke.dir, "new_key")
			r := ke.run(env, "rekey", "--from", from, "--to", to, "--apply", "--update-settings-file")
			if r.code != 64 || !strings.Contains(r.stderr, cfg) || !strings.Contains(r.stderr, "--update-settings-file") {
				t.Errorf("exit %d, want 64 naming %s and --update-settings-file\n%s\n%s", r.code, cfg, r.stdout, r.stderr)
			}
			if fileSum(t, cfg) != cfgBefore || settingsKey(t, cfg) != n8ntest.Key {
				t.Fatal("the settings file, the only copy of the old key, was rewritten")
			}
			if fileSum(t, ke.dbPath) != dbBefore {
				t.Fatal("the refused rekey changed the database")
			}
			if how != "reference" {
				return
			}
			// Without --update-settings-file: rekeyed, the file kept.
			r = ke.run(env, "rekey", "--from", from, "--to", to, "--apply")
			if r.code != 0 || settingsKey(t, cfg) != n8ntest.Key {
				t.Fatalf("rekey from the settings file: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// TestConvergeExitPolicyNeverExitsIntoHeldKey: with
// N8N_SECRETS_ON_CHANGE=exit the orchestrator starts the container again,
// which resolves every reference anew: after step 1 of docs/rekey.md (the
// new key written to the store, the reference unpinned), an exit for any
// other secret's change started the node with the new key, which nothing
// is encrypted with yet (the check before start refuses it: a crash loop;
// with the database unreachable, a worker runs with the wrong key). Under
// exit, a change is not applied while a new key is held back; it is said
// once (UPDATE_REFUSED, naming the policy), and applied once the store
// holds the key the command has again.
func TestConvergeExitPolicyNeverExitsIntoHeldKey(t *testing.T) {
	ve := newVaultE2E(t)
	ve.v.WritePolicy("converge", convergePolicy)
	token := ve.v.Token("converge")
	ve.canaries = append(ve.canaries, token, ve.v.RootToken)
	r := ve.startSupervised(superviseEnv("VAULT_ADDR="+ve.v.Addr, "VAULT_TOKEN="+token,
		"N8N_ENCRYPTION_KEY=vault://secret/n8n/core#encryption_key", "DB_POSTGRESDB_PASSWORD=vault://secret/n8n/db#password",
		"N8N_SECRETS_N8N=auto", "N8N_SECRETS_REFRESH=300ms", "N8N_SECRETS_ON_CHANGE=exit"), nil)
	r.waitStarts(1, 30*time.Second)

	newKey := ve.canary("newkey")
	ve.v.PutKV("secret/n8n/core", map[string]any{"encryption_key": newKey})
	r.waitFor("N8N_KEY_CHANGED", 30*time.Second, func() bool { return r.logged("N8N_KEY_CHANGED") })

	db2 := ve.canary("db2")
	ve.v.PutKV("secret/n8n/db", map[string]any{"password": db2})
	r.waitFor("UPDATE_REFUSED", 30*time.Second, func() bool { return r.logged("UPDATE_REFUSED") || r.exited() })
	if r.exited() {
		t.Fatalf("the node exited (%d) for the orchestrator to start it with the held-back key\n%s", r.wait(), r.stderr.String())
	}
	if ev := r.logEvents("UPDATE_REFUSED"); len(ev) != 1 || !strings.Contains(fmt.Sprint(ev[0]), "N8N_SECRETS_ON_CHANGE=exit") {
		t.Errorf("UPDATE_REFUSED %v: want one event naming the exit policy", ev)
	}
	// The key reverts (no rekey after all): the password's change is
	// applied now, by the exit.
	ve.v.PutKV("secret/n8n/core", map[string]any{"encryption_key": ve.key})
	if code := r.wait(); code != 75 {
		t.Errorf("after the key reverted: exit %d, want 75\n%s", code, r.stderr.String())
	}
	if n := len(r.logEvents("UPDATE_REFUSED")); n != 1 {
		t.Errorf("UPDATE_REFUSED logged %d times, want once", n)
	}
}

// exited reports whether the supervised binary has exited.
func (r *supervised) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// TestKeyOnlyInSettingsFileHint: an n8n never given N8N_ENCRYPTION_KEY runs
// with the key it wrote into its settings file. verify-key, fingerprint and
// rekey (whose --from defaults to N8N_ENCRYPTION_KEY) said only that the
// variable is not set, and the hint sent the operator to set a variable to
// a key they did not know they had. The hint names the file and the
// reference that reads it, and following it works; the key is never shown.
func TestKeyOnlyInSettingsFileHint(t *testing.T) {
	ke := newKeyE2E(t, n8ntest.SQLite2x)
	cfg := filepath.Join(ke.home, ".n8n", "config")
	if err := os.WriteFile(cfg, []byte("{\n\t\"encryptionKey\": \""+n8ntest.Key+"\"\n}"), 0o600); err != nil {
		t.Fatal(err)
	}
	ref := "file://" + cfg + "#encryptionKey"
	for _, args := range [][]string{{"verify-key"}, {"fingerprint"}, {"rekey", "--to", "file:new_key"}} {
		r := ke.run([]string{"N8N_SECRETS_LOG_FORMAT=text"}, args...)
		if r.code != 64 || !strings.Contains(r.stderr, ref) {
			t.Errorf("%v: exit %d, want 64 and a hint naming %s\n%s", args, r.code, ref, r.stderr)
		}
	}
	if r := ke.run([]string{"N8N_ENCRYPTION_KEY=" + ref}, "verify-key"); r.code != 0 {
		t.Errorf("verify-key with the key the hint names: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestRekeyKeyErrorsNameTheFlag: a --to or --from reference that does not
// resolve was reported as the variable N8N_REKEY_TO_KEY, a name the
// operator never typed; the event names the flag too.
func TestRekeyKeyErrorsNameTheFlag(t *testing.T) {
	ke := newKeyE2E(t, n8ntest.SQLite2x)
	for _, tt := range []struct{ flag, args []string }{
		{[]string{"--to"}, []string{"rekey", "--to", "file:no_such_key"}},
		{[]string{"--from"}, []string{"rekey", "--from", "file:no_such_key", "--to", "file:new_key"}},
	} {
		r := ke.run(ke.env(), tt.args...)
		if r.code != 65 || !strings.Contains(r.stderr, `"flag":"`+tt.flag[0]+`"`) {
			t.Errorf("%v: exit %d, want 65 and an event naming %s\n%s", tt.args, r.code, tt.flag[0], r.stderr)
		}
	}
}

// TestConvergeExitPolicyCancelsForHeldKey: the sibling of
// TestConvergeExitPolicyNeverExitsIntoHeldKey in the other order: a change
// already waits for its splay under N8N_SECRETS_ON_CHANGE=exit when the
// new key arrives. The pending exit must be canceled (RESTART_CANCELED),
// else it fires at the end of the splay and the new container starts with
// the new key; once the key is back, the change is scheduled again.
func TestConvergeExitPolicyCancelsForHeldKey(t *testing.T) {
	ve := newVaultE2E(t)
	ve.v.WritePolicy("converge", convergePolicy)
	token := ve.v.Token("converge")
	ve.canaries = append(ve.canaries, token, ve.v.RootToken)
	var r *supervised
	// The splay is drawn at random up to an hour: a draw under a minute
	// would leave too little time to see the key first; start again then
	// (three draws under a minute: about 5 in a million).
	for attempt := 0; ; attempt++ {
		r = ve.startSupervised(superviseEnv("VAULT_ADDR="+ve.v.Addr, "VAULT_TOKEN="+token,
			"N8N_ENCRYPTION_KEY=vault://secret/n8n/core#encryption_key", "DB_POSTGRESDB_PASSWORD=vault://secret/n8n/db#password",
			"N8N_SECRETS_N8N=auto", "N8N_SECRETS_REFRESH=300ms", "N8N_SECRETS_ON_CHANGE=exit", "N8N_SECRETS_SPLAY=1h"), nil)
		r.waitStarts(1, 30*time.Second)
		ve.v.PutKV("secret/n8n/db", map[string]any{"password": ve.canary(fmt.Sprintf("db%d", attempt))})
		r.waitFor("CHANGE_SCHEDULED", 30*time.Second, func() bool { return r.logged("CHANGE_SCHEDULED") })
		ev := r.logEvents("CHANGE_SCHEDULED")
		if d, _ := ev[0]["delay_ms"].(float64); d >= 60000 || attempt == 2 {
			if d < 60000 {
				t.Fatalf("three splays drawn under a minute: %v", ev)
			}
			break
		}
		r.stop()
	}
	newKey := ve.canary("newkey")
	ve.v.PutKV("secret/n8n/core", map[string]any{"encryption_key": newKey})
	r.waitFor("RESTART_CANCELED", 30*time.Second, func() bool { return r.logged("RESTART_CANCELED") || r.logged("UPDATE_REFUSED") && r.exited() })
	if !r.logged("RESTART_CANCELED") || !r.logged("UPDATE_REFUSED") {
		t.Fatalf("the exit waiting for its splay was not canceled for the held-back key\n%s", r.stderr.String())
	}
	ve.v.PutKV("secret/n8n/core", map[string]any{"encryption_key": ve.key})
	r.waitFor("the change scheduled again", 30*time.Second, func() bool { return len(r.logEvents("CHANGE_SCHEDULED")) >= 2 })
	if r.exited() {
		t.Fatalf("the node exited\n%s", r.stderr.String())
	}
	if code := r.stop(); code != 143 && code != 0 {
		t.Errorf("exit %d", code)
	}
}
