package main

// Supervise mode converges to what Vault holds, against the real Vault of
// the tests (internal/testenv/vaulttest) seen through a counting proxy
// (internal/testenv/testproxy): one failing secret holds up no other, not even
// the re-fetch of a leased one at its maximum TTL (Vault's own leased
// key-value backend gives leases without a database); a new encryption
// key is held back and the rest rolled out; a revert during the splay
// cancels the restart, and is signaled like any change; logins read their
// credential files again and never drive Vault's user lockout; a revoked
// token is replaced by a new login, and watching versions goes on.

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/testproxy"
)

// convergePolicy reads and watches the n8n secrets, reads the leased
// ones, and may revoke leases.
const convergePolicy = `path "secret/data/n8n/*" { capabilities = ["read"] }
path "secret/metadata/n8n/*" { capabilities = ["read"] }
path "leased/n8n/*" { capabilities = ["read"] }
path "sys/leases/revoke" { capabilities = ["update"] }`

// requests counts the proxy's requests whose path has prefix (after
// /v1/), with the given status class (0: any; 2: 2xx; 4: 4xx).
func requests(px *testproxy.Proxy, prefix string, class int) int {
	n := 0
	for _, r := range px.Requests() {
		if strings.HasPrefix(strings.TrimPrefix(r.Path, "/v1/"), prefix) && (class == 0 || r.Status/100 == class) {
			n++
		}
	}
	return n
}

func TestConvergeFailingSecretDoesNotBlockLeaseRefetch(t *testing.T) {
	ve := newVaultE2E(t)
	ve.v.MountLeasedKV("leased", "10s")
	db1, other := ve.canary("leased-db1"), ve.canary("other")
	ve.v.Write("leased/n8n/db", map[string]any{"password": db1, "ttl": "3s"})
	ve.v.PutKV("secret/n8n/other", map[string]any{"v": other})
	ve.v.WritePolicy("converge", convergePolicy)
	token := ve.v.Token("converge")
	ve.canaries = append(ve.canaries, token, ve.v.RootToken)
	px := testproxy.New(t, ve.v.Addr, 0)
	r := ve.startSupervised(superviseEnv("VAULT_ADDR="+px.URL, "VAULT_TOKEN="+token,
		"N8N_ENCRYPTION_KEY=vault://secret/n8n/core#encryption_key", "OTHER=vault://secret/n8n/other#v",
		"DB_POSTGRESDB_PASSWORD=vault://leased/n8n/db#password", "N8N_SECRETS_N8N=auto",
		"N8N_SECRETS_REFRESH=300ms", "N8N_SECRETS_TIMEOUT=5s", "N8N_GRACEFUL_SHUTDOWN_TIMEOUT=2"), nil)
	first := r.waitStarts(1, 30*time.Second)[0]
	if env := childEnv(first); env["DB_POSTGRESDB_PASSWORD"] != db1 || env["OTHER"] != other {
		t.Fatal("the first child did not get Vault's values")
	}

	// An unrelated secret is deleted (soft: it can be undeleted), and the
	// leased secret gets a new value, read at the lease's maximum TTL.
	if _, err := ve.v.Client().Logical().Delete("secret/data/n8n/other"); err != nil {
		t.Fatal(err)
	}
	db2 := ve.canary("leased-db2")
	ve.v.Write("leased/n8n/db", map[string]any{"password": db2, "ttl": "3s"})
	starts := r.waitStarts(2, 40*time.Second)
	env := childEnv(starts[1])
	if env["DB_POSTGRESDB_PASSWORD"] != db2 || env["OTHER"] != other || env["N8N_ENCRYPTION_KEY"] != ve.key {
		t.Error("the restart at the lease's maximum TTL did not bring the new leased value with the others kept")
	}
	if ev := r.logEvents("CHILD_RESTARTED"); len(ev) != 1 || ev[0]["reason"] != "lease" {
		t.Errorf("CHILD_RESTARTED %v, want one for the lease", ev)
	}
	// The deleted secret is reported once at most (its version did not
	// change: it is not read again), and costs no lease: the leased
	// secret was read once at start and once
	// at its maximum TTL (and maybe once more for the new lease's).
	if n := len(r.logEvents("UPDATE_REFUSED")); n > 1 {
		t.Errorf("%d UPDATE_REFUSED events, want at most one (the deleted secret, once)", n)
	}
	if n := requests(px, "leased/n8n/db", 0); n > 3 {
		t.Errorf("the leased secret was read %d times: each read creates a lease", n)
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
}

func TestConvergeNewKeyIsHeldTheRestRollsOut(t *testing.T) {
	ve := newVaultE2E(t)
	ve.v.WritePolicy("converge", convergePolicy)
	token := ve.v.Token("converge")
	ve.canaries = append(ve.canaries, token, ve.v.RootToken)
	px := testproxy.New(t, ve.v.Addr, 0)
	r := ve.startSupervised(superviseEnv("VAULT_ADDR="+px.URL, "VAULT_TOKEN="+token,
		"N8N_ENCRYPTION_KEY=vault://secret/n8n/core#encryption_key", "DB_POSTGRESDB_PASSWORD=vault://secret/n8n/db#password",
		"N8N_SECRETS_N8N=auto", "N8N_SECRETS_REFRESH=300ms"), nil)
	r.waitStarts(1, 30*time.Second)

	// Step 1 of docs/rekey.md with an unpinned key reference: the new
	// key is in the store.
	newKey := ve.canary("newkey")
	ve.v.PutKV("secret/n8n/core", map[string]any{"encryption_key": newKey})
	r.waitFor("N8N_KEY_CHANGED", 30*time.Second, func() bool { return r.logged("N8N_KEY_CHANGED") })
	coreReads := requests(px, "secret/data/n8n/core", 0)

	// Other rotations still roll out, with the old key.
	db2 := ve.canary("db2")
	ve.v.PutKV("secret/n8n/db", map[string]any{"password": db2})
	starts := r.waitStarts(2, 30*time.Second)
	if env := childEnv(starts[1]); env["DB_POSTGRESDB_PASSWORD"] != db2 || env["N8N_ENCRYPTION_KEY"] != ve.key {
		t.Error("the restarted child did not get the new password with the old key")
	}
	// More refreshes: the key's change is not logged again, nor its secret
	// read again.
	watched := requests(px, "secret/metadata/n8n/core", 0)
	r.waitFor("ten more refreshes", 30*time.Second, func() bool { return requests(px, "secret/metadata/n8n/core", 0) >= watched+10 })
	ev := r.logEvents("N8N_KEY_CHANGED")
	if len(ev) != 1 || ev[0]["level"] != "ERROR" || ev[0]["new_n8n_key_fingerprint"] == ev[0]["n8n_key_fingerprint"] {
		t.Errorf("N8N_KEY_CHANGED %v: want one error event with both fingerprints", ev)
	}
	if n := requests(px, "secret/data/n8n/core", 0); n != coreReads {
		t.Errorf("the held key's secret was read %d more times", n-coreReads)
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
}

// TestConvergeRevertDuringSplay: A→B schedules a restart; B→A (what vault
// kv rollback does) within the splay cancels it, and the node keeps
// converging afterwards.
func TestConvergeRevertDuringSplay(t *testing.T) {
	ve := newVaultE2E(t)
	ve.v.WritePolicy("converge", convergePolicy)
	token := ve.v.Token("converge")
	ve.canaries = append(ve.canaries, token, ve.v.RootToken)
	const splay = 8 * time.Second
	r := ve.startSupervised(superviseEnv("VAULT_ADDR="+ve.v.Addr, "VAULT_TOKEN="+token,
		"DB_POSTGRESDB_PASSWORD=vault://secret/n8n/db#password", "N8N_SECRETS_REFRESH=200ms",
		"N8N_SECRETS_SPLAY="+splay.String(), "N8N_GRACEFUL_SHUTDOWN_TIMEOUT=2"), nil)
	r.waitStarts(1, 30*time.Second)

	// The splay is random: a draw too short to write the revert within
	// it is tried again with another change.
	var delay time.Duration
	for attempt := 0; ; attempt++ {
		n, scheduled := len(r.starts()), len(r.logEvents("CHANGE_SCHEDULED"))
		ve.v.PutKV("secret/n8n/db", map[string]any{"password": ve.canary("b")})
		r.waitFor("CHANGE_SCHEDULED", 30*time.Second, func() bool { return len(r.logEvents("CHANGE_SCHEDULED")) > scheduled })
		ev := r.logEvents("CHANGE_SCHEDULED")
		delay = time.Duration(ev[len(ev)-1]["delay_ms"].(float64)) * time.Millisecond
		if delay >= 3*time.Second || attempt == 5 {
			break
		}
		r.waitFor("the short splay's restart", 30*time.Second, func() bool { return len(r.starts()) > n })
		ve.v.PutKV("secret/n8n/db", map[string]any{"password": ve.db})
		r.waitFor("the restart back", 30*time.Second, func() bool { return len(r.starts()) > n+1 })
	}
	startsBefore := len(r.starts())
	ve.v.PutKV("secret/n8n/db", map[string]any{"password": ve.db}) // vault kv rollback
	r.waitFor("RESTART_CANCELED", 30*time.Second, func() bool { return r.logged("RESTART_CANCELED") })
	if ev := r.logEvents("RESTART_CANCELED"); ev[len(ev)-1]["why"] != "revert" {
		t.Errorf("RESTART_CANCELED %v, want why=revert", ev)
	}
	time.Sleep(delay + time.Second)
	starts := r.starts()
	if len(starts) != startsBefore {
		t.Fatalf("the reverted value was rolled out (%d starts, want %d)", len(starts), startsBefore)
	}
	if childEnv(starts[len(starts)-1])["DB_POSTGRESDB_PASSWORD"] != ve.db {
		t.Error("the child does not run with the value the store holds")
	}
	// Later changes still converge.
	c := ve.canary("c")
	ve.v.PutKV("secret/n8n/db", map[string]any{"password": c})
	starts = r.waitStarts(startsBefore+1, splay+30*time.Second)
	if childEnv(starts[len(starts)-1])["DB_POSTGRESDB_PASSWORD"] != c {
		t.Error("a change after the revert did not reach the child")
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
}

// TestConvergeSignalPolicySignalsRevert: with signal:NAME, a return to
// the old value is a change like any other, for Vault and file:
// references alike.
func TestConvergeSignalPolicySignalsRevert(t *testing.T) {
	ve := newVaultE2E(t)
	ve.v.WritePolicy("converge", convergePolicy)
	token := ve.v.Token("converge")
	ve.canaries = append(ve.canaries, token, ve.v.RootToken)
	tokenFile := ve.plant("api_token", "A\n")
	r := ve.startSupervised(superviseEnv("VAULT_ADDR="+ve.v.Addr, "VAULT_TOKEN="+token,
		"DB_POSTGRESDB_PASSWORD=vault://secret/n8n/db#password", "API_TOKEN=file:api_token",
		"N8N_SECRETS_REFRESH=200ms", "N8N_SECRETS_ON_CHANGE=signal:HUP"), nil)
	r.waitStarts(1, 30*time.Second)
	hups := func() int {
		n := 0
		for _, ev := range r.events() {
			if ev.Event == "signal" && ev.Signal == "HUP" {
				n++
			}
		}
		return n
	}
	steps := []func(){
		func() { ve.v.PutKV("secret/n8n/db", map[string]any{"password": ve.canary("b")}) },
		func() { ve.v.PutKV("secret/n8n/db", map[string]any{"password": ve.db}) },
		func() { must(t, os.WriteFile(tokenFile, []byte("B\n"), 0o600)) },
		func() { must(t, os.WriteFile(tokenFile, []byte("A\n"), 0o600)) },
	}
	for i, step := range steps {
		step()
		r.waitFor(fmt.Sprintf("HUP %d", i+1), 30*time.Second, func() bool { return hups() > i })
	}
	if n := len(r.starts()); n != 1 {
		t.Errorf("%d starts, want 1: the signal policy never restarts", n)
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestConvergeAppRoleLoginsNeverLockOut: the secret id file is read again
// at every login (one an orchestrator wrote is used); a refused secret id
// is not sent again, so that Vault's lockout (5 refusals in 15 minutes,
// against the role id, for every node) is never reached; the token in use
// keeps serving the watches meanwhile.
func TestConvergeAppRoleLoginsNeverLockOut(t *testing.T) {
	ve := newVaultE2E(t)
	ve.v.WritePolicy("converge", convergePolicy)
	roleID, s1 := ve.v.EnableAppRole("n8n", "converge")
	if _, err := ve.v.Client().Logical().Write("auth/approle/role/n8n", map[string]any{
		"token_policies": []string{"converge"}, "token_ttl": "4s", "token_max_ttl": "8s"}); err != nil {
		t.Fatal(err)
	}
	issue := func() string {
		sec, err := ve.v.Client().Logical().Write("auth/approle/role/n8n/secret-id", nil)
		if err != nil {
			t.Fatal(err)
		}
		id := sec.Data["secret_id"].(string)
		ve.canaries = append(ve.canaries, id)
		return id
	}
	ve.canaries = append(ve.canaries, roleID, s1, ve.v.RootToken)
	file := ve.plant("vault_secret_id", s1+"\n")
	px := testproxy.New(t, ve.v.Addr, 0)
	r := ve.startSupervised(superviseEnv("VAULT_ADDR="+px.URL, "VAULT_AUTH_METHOD=approle", "VAULT_ROLE_ID="+roleID,
		"VAULT_SECRET_ID_FILE="+file, "DB_POSTGRESDB_PASSWORD=vault://secret/n8n/db#password",
		"N8N_SECRETS_REFRESH=300ms", "N8N_SECRETS_TIMEOUT=3s", "N8N_GRACEFUL_SHUTDOWN_TIMEOUT=1"), nil)
	r.waitStarts(1, 30*time.Second)

	// The orchestrator replaces the secret id and destroys the old one.
	s2 := issue()
	must(t, os.WriteFile(file, []byte(s2+"\n"), 0o600))
	if _, err := ve.v.Client().Logical().Write("auth/approle/role/n8n/secret-id/destroy", map[string]any{"secret_id": s1}); err != nil {
		t.Fatal(err)
	}
	relogins := len(r.logEvents("CREDENTIAL_RELOGIN"))
	r.waitFor("a login with the new secret id", 30*time.Second, func() bool { return len(r.logEvents("CREDENTIAL_RELOGIN")) > relogins })
	if _, refused := approleLogins(px); refused != 0 {
		t.Errorf("%d logins refused: the destroyed secret id was sent again", refused)
	}

	// A secret id that Vault refuses: sent once, never again.
	must(t, os.WriteFile(file, []byte("00000000-0000-0000-0000-000000000000\n"), 0o600))
	r.waitFor("the refused login", 30*time.Second, func() bool { _, n := approleLogins(px); return n >= 1 })
	refusedAt := time.Now()
	time.Sleep(12 * time.Second)
	if all, refused := approleLogins(px); refused != 1 {
		t.Errorf("%d logins refused (%d sent) in 12 s with the same bad secret id: want 1", refused, all)
	}
	// The token from the last good login served the watches until it
	// expired.
	okAfter := 0
	for _, q := range px.Requests() {
		if strings.HasPrefix(q.Path, "/v1/secret/metadata/") && q.Status == 200 && q.Start.After(refusedAt) {
			okAfter++
		}
	}
	if okAfter == 0 {
		t.Error("no watch succeeded after the refused login: the still-valid token was dropped")
	}
	// Vault did not lock the role out: a good secret id logs in.
	c := ve.v.Client()
	c.ClearToken()
	if _, err := c.Logical().Write("auth/approle/login", map[string]any{"role_id": roleID, "secret_id": issue()}); err != nil {
		t.Errorf("a good secret id after the refused one: %v (the role is locked out)", err)
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
}

// approleLogins counts the AppRole logins a proxy saw, and those refused.
func approleLogins(px *testproxy.Proxy) (all, refused int) {
	for _, q := range px.Requests() {
		if strings.HasSuffix(q.Path, "/auth/approle/login") {
			all++
			if q.Status >= 400 {
				refused++
			}
		}
	}
	return all, refused
}

// TestConvergeRevokedTokenLogsInAgain: Vault answers 403 "permission
// denied; invalid token" once the login token is revoked: a new login,
// not a switch to reading values, and watching versions goes on.
func TestConvergeRevokedTokenLogsInAgain(t *testing.T) {
	ve := newVaultE2E(t)
	ve.v.WritePolicy("converge", convergePolicy)
	roleID, secretID := ve.v.EnableAppRole("n8n", "converge")
	ve.canaries = append(ve.canaries, roleID, secretID, ve.v.RootToken)
	px := testproxy.New(t, ve.v.Addr, 0)
	r := ve.startSupervised(superviseEnv("VAULT_ADDR="+px.URL, "VAULT_AUTH_METHOD=approle", "VAULT_ROLE_ID="+roleID,
		"VAULT_SECRET_ID="+secretID, "DB_POSTGRESDB_PASSWORD=vault://secret/n8n/db#password", "N8N_SECRETS_REFRESH=300ms"), nil)
	r.waitStarts(1, 30*time.Second)
	r.waitFor("a watch", 30*time.Second, func() bool { return requests(px, "secret/metadata/n8n/db", 2) > 0 })
	sec, err := ve.v.Client().Logical().List("auth/token/accessors")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range sec.Data["keys"].([]any) {
		if info, _ := ve.v.Client().Logical().Write("auth/token/lookup-accessor", map[string]any{"accessor": a}); info != nil && info.Data["path"] == "auth/approle/login" {
			if _, err := ve.v.Client().Logical().Write("auth/token/revoke-accessor", map[string]any{"accessor": a}); err != nil {
				t.Fatal(err)
			}
		}
	}
	reads := requests(px, "secret/data/n8n/db", 0)
	r.waitFor("a new login", 30*time.Second, func() bool { return approleLoginsOK(px) >= 2 })
	watched := requests(px, "secret/metadata/n8n/db", 2)
	r.waitFor("watching again", 30*time.Second, func() bool { return requests(px, "secret/metadata/n8n/db", 2) >= watched+5 })
	if r.logged("SECRET_WATCH_DENIED") {
		t.Error("a revoked token was taken for a denied metadata read")
	}
	if n := requests(px, "secret/data/n8n/db", 0); n != reads {
		t.Errorf("the secret was read %d times after the revocation: watching switched to reading values", n-reads)
	}
	db2 := ve.canary("db2")
	ve.v.PutKV("secret/n8n/db", map[string]any{"password": db2})
	if starts := r.waitStarts(2, 30*time.Second); childEnv(starts[1])["DB_POSTGRESDB_PASSWORD"] != db2 {
		t.Error("a new version after the new login did not reach the child")
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
}

func approleLoginsOK(px *testproxy.Proxy) int {
	all, refused := approleLogins(px)
	return all - refused
}
