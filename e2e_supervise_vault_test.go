package main

// Supervise mode against the real Vault of the tests (internal/testenv/vaulttest):
// KV v2 versions and KV v1 values rolled out by restarts, new values that
// fail to resolve or fail the n8n guard left out, and Vault's database
// secrets engine with its PostgreSQL plugin over a real PostgreSQL
// (internal/testenv/pgtest): dynamic users kept alive past their TTL, fetched anew
// at their maximum TTL, revoked at the end, and proved by logging in.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
)

// watchPolicy lets a token read the versions of the n8n secrets.
const watchPolicy = `path "secret/metadata/n8n/*" { capabilities = ["read"] }`

func TestSuperviseVaultRollsOutNewVersions(t *testing.T) {
	ve := newVaultE2E(t)
	ve.v.WritePolicy("n8n-watch", watchPolicy)
	token := ve.v.Token("n8n-read", "n8n-watch")
	ve.canaries = append(ve.canaries, token, ve.v.RootToken)
	const refresh, splay = 500 * time.Millisecond, 1500 * time.Millisecond
	r := ve.startSupervised(superviseEnv(append(ve.refs(), "VAULT_TOKEN="+token, "N8N_SECRETS_N8N=auto",
		"N8N_SECRETS_REFRESH="+refresh.String(), "N8N_SECRETS_SPLAY="+splay.String(), "E2E_CHILD_EXIT=0")...), nil)
	first := r.waitStarts(1, 30*time.Second)[0]
	if env := childEnv(first); env["DB_POSTGRESDB_PASSWORD"] != ve.db || env["N8N_ENCRYPTION_KEY"] != ve.key {
		t.Fatal("the first child did not get Vault's values")
	}

	// A new KV v2 version: restarted within refresh plus splay, plus the
	// time the command takes to stop.
	db2 := ve.canary("db2")
	written := time.Now()
	ve.v.PutKV("secret/n8n/db", map[string]any{"password": db2})
	starts := r.waitStarts(2, refresh+splay+10*time.Second)
	took := time.Since(written)
	if env := childEnv(starts[1]); env["DB_POSTGRESDB_PASSWORD"] != db2 || env["N8N_ENCRYPTION_KEY"] != ve.key {
		t.Error("the restarted child did not get the new version")
	}
	sched := r.logEvents("CHANGE_SCHEDULED")
	if len(sched) != 1 || sched[0]["delay_ms"].(float64) > float64(splay.Milliseconds()) || fmt.Sprint(sched[0]["vars"]) != "[DB_POSTGRESDB_PASSWORD]" {
		t.Errorf("CHANGE_SCHEDULED %v: want one, for DB_POSTGRESDB_PASSWORD, within the splay", sched)
	}
	t.Logf("new version to restarted child: %v (refresh %v, splay %v)", took.Round(time.Millisecond), refresh, splay)

	// KV v1 keeps no versions: its value is read again and compared.
	redis2 := ve.canary("redis2")
	ve.v.PutKV("kv1/n8n/redis", map[string]any{"password": redis2})
	starts = r.waitStarts(3, refresh+splay+10*time.Second)
	if env := childEnv(starts[2]); env["QUEUE_BULL_REDIS_PASSWORD"] != redis2 || env["DB_POSTGRESDB_PASSWORD"] != db2 {
		t.Error("the restarted child did not get the new KV v1 value")
	}
	if !r.logged("SECRET_WATCH_BY_FETCH") {
		t.Error("no SECRET_WATCH_BY_FETCH event for the KV v1 secret")
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
}

func TestSuperviseVaultKeepsCommandOnBadValues(t *testing.T) {
	ve := newVaultE2E(t)
	ve.v.WritePolicy("n8n-watch", watchPolicy)
	token := ve.v.Token("n8n-read", "n8n-watch")
	ve.canaries = append(ve.canaries, token, ve.v.RootToken)
	env := append(ve.refs(), "VAULT_TOKEN="+token, "N8N_SECRETS_N8N=auto", "N8N_SECRETS_REFRESH=300ms", "E2E_CHILD_EXIT=0")
	env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "DB_POSTGRESDB_PASSWORD=") })
	env = append(env, "DB_POSTGRESDB_PASSWORD=vault://secret/n8n/db#password")
	r := ve.startSupervised(superviseEnv(env...), nil)
	first := r.waitStarts(1, 30*time.Second)[0]
	other := ve.canary("other")

	// Each bad version is refused, the command kept; then a version with
	// the values the command has is written back (no restart either).
	steps := []struct {
		name      string
		path      string
		bad, good map[string]any
		code      string
	}{
		{"missing key", "secret/n8n/db", map[string]any{"pass": ve.canary("typo")}, map[string]any{"password": ve.db}, "KEY_NOT_FOUND"},
		// A new key is never rolled out, whatever it holds: it never
		// reaches the guard (a path where the key should be).
		{"new key that is a path", "secret/n8n/core", map[string]any{"encryption_key": "/run/secrets/n8n_key", "other": other},
			map[string]any{"encryption_key": ve.key, "other": other}, "N8N_KEY_CHANGED"},
		{"new encryption key", "secret/n8n/core", map[string]any{"encryption_key": ve.canary("newkey"), "other": other},
			map[string]any{"encryption_key": ve.key, "other": other}, "N8N_KEY_CHANGED"},
	}
	for _, st := range steps {
		unchanged, seen := len(r.logEvents("VALUES_UNCHANGED")), len(r.logEvents(st.code))
		ve.v.PutKV(st.path, st.bad)
		r.waitFor(st.name+": "+st.code, 30*time.Second, func() bool { return len(r.logEvents(st.code)) > seen })
		if st.code != "N8N_KEY_CHANGED" && !r.logged("UPDATE_REFUSED") {
			t.Errorf("%s: no UPDATE_REFUSED event", st.name)
		}
		ve.v.PutKV(st.path, st.good)
		r.waitFor(st.name+": VALUES_UNCHANGED after the fix", 30*time.Second, func() bool {
			return len(r.logEvents("VALUES_UNCHANGED")) > unchanged
		})
		if starts := r.starts(); len(starts) != 1 {
			t.Fatalf("%s: the command was restarted (%d starts)", st.name, len(starts))
		}
	}
	changed := r.logEvents("N8N_KEY_CHANGED")[0]
	if changed["level"] != "ERROR" || changed["var"] != "N8N_ENCRYPTION_KEY" || changed["n8n_key_fingerprint"] == changed["new_n8n_key_fingerprint"] {
		t.Errorf("N8N_KEY_CHANGED event %v: want an error naming the variable, with both fingerprints", changed)
	}

	// A good new password: the command is restarted with it, the refused
	// values never reached it.
	db2 := ve.canary("db2")
	ve.v.PutKV("secret/n8n/db", map[string]any{"password": db2})
	starts := r.waitStarts(2, 30*time.Second)
	if env := childEnv(starts[1]); env["DB_POSTGRESDB_PASSWORD"] != db2 || env["N8N_ENCRYPTION_KEY"] != ve.key {
		t.Error("the restarted child did not get the new password and the old key")
	}
	if starts[0].PID != first.PID {
		t.Error("the first command was replaced before the good version")
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
}

// roleExists reports whether PostgreSQL has a role of that name.
func roleExists(pg *pgtest.Server, name string) bool {
	return strings.TrimSpace(pg.Exec("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = '"+strings.ReplaceAll(name, "'", "''")+"'")) == "1"
}

func TestSuperviseVaultDatabaseLeases(t *testing.T) {
	pg := pgtest.Start(t)
	pg.RequirePasswords()
	ve := newVaultE2E(t)
	const defaultTTL, maxTTL = 4 * time.Second, 14 * time.Second
	ve.v.EnableDatabase(pg.Host, pg.Port, pgtest.Superuser, "4s", "14s")
	roleID, secretID := ve.v.EnableAppRole("n8n", "n8n-read", "n8n-db")
	// Login tokens that live 4 s unless renewed.
	if _, err := ve.v.Client().Logical().Write("auth/approle/role/n8n", map[string]any{
		"token_policies": []string{"n8n-read", "n8n-db"}, "token_ttl": "4s", "token_max_ttl": "5m",
		"secret_id_num_uses": 0}); err != nil {
		t.Fatal(err)
	}
	ve.canaries = append(ve.canaries, roleID, secretID, ve.v.RootToken)
	env := []string{"VAULT_ADDR=" + ve.v.Addr, "VAULT_AUTH_METHOD=approle", "VAULT_ROLE_ID=" + roleID, "VAULT_SECRET_ID=" + secretID,
		"DB_POSTGRESDB_USER=vault://database/creds/n8n#username", "DB_POSTGRESDB_PASSWORD=vault://database/creds/n8n#password",
		"N8N_SECRETS_N8N=off", "N8N_SECRETS_LOG_LEVEL=debug"}

	// A reader without renewal: exec mode hands the credentials over and
	// is gone; they die with their lease.
	plain := ve.run(append(env, "E2E_CHILD_EXIT=0"), "--", self(t))
	if plain.code != 0 || plain.child == nil {
		t.Fatalf("exec mode: exit %d\n%s", plain.code, plain.stderr)
	}
	plainEnv := envOf(plain.child)
	ve.canaries = append(ve.canaries, plainEnv["DB_POSTGRESDB_PASSWORD"])
	if err := pg.Login("postgres", plainEnv["DB_POSTGRESDB_USER"], plainEnv["DB_POSTGRESDB_PASSWORD"]); err != nil {
		t.Fatalf("a fresh dynamic user cannot log in: %v", err)
	}

	r := ve.startSupervised(superviseEnv(append(env, "N8N_SECRETS_REFRESH=0", "E2E_CHILD_EXIT=0")...), nil)
	first := r.waitStarts(1, 30*time.Second)[0]
	user1, pw1 := childEnv(first)["DB_POSTGRESDB_USER"], childEnv(first)["DB_POSTGRESDB_PASSWORD"]
	ve.canaries = append(ve.canaries, pw1)
	started := time.Now()

	// Past the TTL: the supervised user still logs in, the plain one no more.
	time.Sleep(defaultTTL + 2*time.Second)
	if err := pg.Login("postgres", user1, pw1); err != nil {
		t.Errorf("the supervised dynamic user lost its login past its TTL: %v", err)
	}
	if err := pg.Login("postgres", plainEnv["DB_POSTGRESDB_USER"], plainEnv["DB_POSTGRESDB_PASSWORD"]); err == nil {
		t.Error("the dynamic user of exec mode still logs in past its TTL")
	}
	if !r.logged("LEASE_RENEWED") || !r.logged("CREDENTIAL_RENEWED") {
		t.Errorf("want LEASE_RENEWED and CREDENTIAL_RENEWED events\n%s", r.stderr.String())
	}

	// At the maximum TTL: new credentials, a restart before the old ones
	// end, and the old user revoked once the old command is gone.
	starts := r.waitStarts(2, maxTTL+10*time.Second)
	if time.Since(started) > maxTTL+2*time.Second {
		t.Errorf("restarted after %v: the old credentials ended at %v", time.Since(started), maxTTL)
	}
	user2, pw2 := childEnv(starts[1])["DB_POSTGRESDB_USER"], childEnv(starts[1])["DB_POSTGRESDB_PASSWORD"]
	ve.canaries = append(ve.canaries, pw2)
	if user2 == user1 || user2 == "" {
		t.Fatal("the restarted command did not get a new dynamic user")
	}
	if err := pg.Login("postgres", user2, pw2); err != nil {
		t.Errorf("the new dynamic user cannot log in: %v", err)
	}
	r.waitFor("the old user revoked", 10*time.Second, func() bool { return !roleExists(pg, user1) })
	for _, code := range []string{"LEASE_MAX_TTL", "LEASE_REFETCH", "CHILD_RESTARTED", "LEASE_REVOKED"} {
		if !r.logged(code) {
			t.Errorf("no %s event", code)
		}
	}
	if ev := r.logEvents("CHILD_RESTARTED"); len(ev) != 1 || ev[0]["reason"] != "lease" {
		t.Errorf("CHILD_RESTARTED %v, want one for the lease", ev)
	}

	// At the end the leases are revoked: the user is gone.
	accessorsBefore := ve.accessors()
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
	if roleExists(pg, user2) {
		t.Error("the dynamic user outlived the command: its lease was not revoked")
	}
	if err := pg.Login("postgres", user2, pw2); err == nil {
		t.Error("the dynamic user still logs in after the command exited")
	}
	if after := ve.accessors(); len(after) >= len(accessorsBefore) {
		t.Errorf("the login token was not revoked at exit (%d tokens before, %d after)", len(accessorsBefore), len(after))
	}
}

// TestSuperviseVaultReplacesTokenAtMaxTTL: the login token reaches its
// maximum TTL long before the database user's lease; Vault would revoke
// the user with the token, so the supervisor logs in again, fetches a new
// user with the new token and restarts the command with it.
func TestSuperviseVaultReplacesTokenAtMaxTTL(t *testing.T) {
	pg := pgtest.Start(t)
	pg.RequirePasswords()
	ve := newVaultE2E(t)
	ve.v.EnableDatabase(pg.Host, pg.Port, pgtest.Superuser, "1m", "5m")
	roleID, secretID := ve.v.EnableAppRole("n8n", "n8n-db")
	if _, err := ve.v.Client().Logical().Write("auth/approle/role/n8n", map[string]any{
		"token_policies": []string{"n8n-db"}, "token_ttl": "6s", "token_max_ttl": "14s"}); err != nil {
		t.Fatal(err)
	}
	ve.canaries = append(ve.canaries, roleID, secretID, ve.v.RootToken)
	r := ve.startSupervised(superviseEnv("VAULT_ADDR="+ve.v.Addr, "VAULT_AUTH_METHOD=approle", "VAULT_ROLE_ID="+roleID,
		"VAULT_SECRET_ID="+secretID, "DB_POSTGRESDB_USER=vault://database/creds/n8n#username",
		"DB_POSTGRESDB_PASSWORD=vault://database/creds/n8n#password", "N8N_SECRETS_N8N=off", "N8N_SECRETS_REFRESH=0",
		"E2E_CHILD_EXIT=0"), nil)
	first := r.waitStarts(1, 30*time.Second)[0]
	ve.canaries = append(ve.canaries, childEnv(first)["DB_POSTGRESDB_PASSWORD"])
	starts := r.waitStarts(2, 30*time.Second)
	user2, pw2 := childEnv(starts[1])["DB_POSTGRESDB_USER"], childEnv(starts[1])["DB_POSTGRESDB_PASSWORD"]
	ve.canaries = append(ve.canaries, pw2)
	if ev := r.logEvents("CHILD_RESTARTED"); len(ev) != 1 || ev[0]["reason"] != "credential" {
		t.Errorf("CHILD_RESTARTED %v, want one for the credential", ev)
	}
	for _, code := range []string{"CREDENTIAL_MAX_TTL", "CREDENTIAL_RELOGIN"} {
		if !r.logged(code) {
			t.Errorf("no %s event", code)
		}
	}
	// Past the first token's maximum TTL, the new user still logs in: it
	// was read with the new token, which is renewed.
	time.Sleep(8 * time.Second)
	if err := pg.Login("postgres", user2, pw2); err != nil {
		t.Errorf("the user read with the new token lost its login: %v", err)
	}
	if roleExists(pg, childEnv(first)["DB_POSTGRESDB_USER"]) {
		t.Error("the user read with the old token still exists")
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
	if roleExists(pg, user2) {
		t.Error("the user outlived the command")
	}
}
