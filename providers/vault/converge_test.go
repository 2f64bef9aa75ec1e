package vault_test

// What supervise mode asks of the provider over a long life, against the
// real Vault of the tests: logins that read their credential files again,
// never resend credentials Vault refused (its user lockout), keep a valid
// token after a failed login, and log in again when Vault no longer
// accepts the token; a token whose uses are limited is not spent on
// speculative reads; a response-wrapped secret id is checked and
// unwrapped; a path with a space is read; a revocation is reported as it
// went.

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/testproxy"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/vaulttest"
	"github.com/n8n-secrets/n8n-secrets/providers/vault"
)

// newSecretID issues a secret id of role, with the given settings.
func newSecretID(t *testing.T, v *vaulttest.Server, role string, data map[string]any) string {
	t.Helper()
	sec, err := v.Client().Logical().Write("auth/approle/role/"+role+"/secret-id", data)
	if err != nil || sec == nil {
		t.Fatalf("secret-id: %v", err)
	}
	return sec.Data["secret_id"].(string)
}

// logins counts the AppRole logins a proxy saw, and how many Vault refused.
func logins(px *testproxy.Proxy) (all, refused int) {
	for _, r := range px.Requests() {
		if strings.HasSuffix(r.Path, "/auth/approle/login") {
			all++
			if r.Status >= 400 {
				refused++
			}
		}
	}
	return all, refused
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestReloginReadsTheSecretIDFileAgain: the secret id is read from its
// file at every login, so that one an orchestrator wrote meanwhile is
// used; credentials Vault refused are not sent again (Vault's user lockout
// counts 5 refusals in 15 minutes against the role id, for every node),
// new ones are tried at once, and the token in use stays in use while
// logins fail.
func TestReloginReadsTheSecretIDFileAgain(t *testing.T) {
	v := seed(t)
	v.WritePolicy("read", `path "secret/data/n8n/*" { capabilities = ["read"] }`)
	roleID, first := v.EnableAppRole("n8n", "read")
	px := testproxy.New(t, v.Addr, 0)
	file := filepath.Join(t.TempDir(), "secret_id")
	writeFile(t, file, first)
	p := newProvider(t, map[string]string{"VAULT_ADDR": px.URL, "VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID_FILE": file})
	ctx := context.Background()
	if _, errs := resolve(t, p, "vault://secret/n8n/db#password"); len(errs) > 0 {
		t.Fatal(errs)
	}

	// The orchestrator replaces the secret id: the first one is destroyed.
	second := newSecretID(t, v, "n8n", nil)
	if _, err := v.Client().Logical().Write("auth/approle/role/n8n/secret-id/destroy", map[string]any{"secret_id": first}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, file, second)
	if _, err := p.RenewCredential(ctx, true); err != nil {
		t.Fatalf("a new login with the secret id written since: %v", err)
	}

	// A bad secret id: refused once, and not sent again, however often
	// a login is asked for; the token in use keeps working meanwhile.
	writeFile(t, file, "00000000-0000-0000-0000-000000000000")
	px.Reset()
	for range 10 {
		if _, err := p.RenewCredential(ctx, true); !errors.Is(err, inject.ErrAuth) {
			t.Fatalf("login with a bad secret id: %v, want ErrAuth", err)
		}
	}
	if all, refused := logins(px); all != 1 || refused != 1 {
		t.Errorf("%d logins sent (%d refused) for 10 attempts with the same bad secret id: want one", all, refused)
	}
	if res, errs := resolve(t, p, "vault://secret/n8n/db#password"); len(errs) > 0 || value(res[0]) != canaryPrefix+"db" {
		t.Errorf("after failed logins, the valid token no longer reads: %v", errs)
	}
	if _, err := p.RenewCredential(ctx, false); err != nil {
		t.Errorf("after failed logins, the valid token is no longer renewed: %v", err)
	}

	// Vault did not lock the role out: a good secret id logs in at once.
	third := newSecretID(t, v, "n8n", nil)
	writeFile(t, file, third)
	if _, err := p.RenewCredential(ctx, true); err != nil {
		t.Errorf("a new good secret id after a refused one: %v (the role locked out?)", err)
	}
	if all, _ := logins(px); all != 2 {
		t.Errorf("%d logins in all, want 2", all)
	}
}

// TestLockoutReachedWithoutTheGuard shows what the pacing prevents, and
// that this Vault has it (else the tests of the pacing prove nothing):
// five refused logins of a role id lock it out, and a valid secret id is
// then refused too, for every node.
func TestLockoutReachedWithoutTheGuard(t *testing.T) {
	v := seed(t)
	roleID, _ := v.EnableAppRole("n8n")
	c := v.Client()
	c.ClearToken()
	for range 5 {
		_, _ = c.Logical().Write("auth/approle/login", map[string]any{"role_id": roleID, "secret_id": "00000000-0000-0000-0000-000000000000"})
	}
	good := newSecretID(t, v, "n8n", nil)
	if _, err := c.Logical().Write("auth/approle/login", map[string]any{"role_id": roleID, "secret_id": good}); err == nil {
		t.Error("this Vault does not lock AppRole out after 5 refused logins: the lockout tests prove nothing")
	}
}

// TestRevokedTokenLogsInAgain: a token Vault no longer accepts (revoked,
// expired) is AUTH_FAILED on a watch, not a denied metadata read, and the
// next request logs in again.
func TestRevokedTokenLogsInAgain(t *testing.T) {
	v := seed(t)
	v.WritePolicy("read", `path "secret/data/n8n/*" { capabilities = ["read"] }
path "secret/metadata/n8n/*" { capabilities = ["read"] }`)
	roleID, secretID := v.EnableAppRole("n8n", "read")
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID})
	ctx := context.Background()
	keys := refs(t, "vault://secret/n8n/db")
	if w := p.Watch(ctx, keys); w[0].Err != nil {
		t.Fatal(w[0].Err)
	}
	for a := range accessors(t, v) {
		if info, _ := v.Client().Logical().Write("auth/token/lookup-accessor", map[string]any{"accessor": a}); info != nil && info.Data["path"] == "auth/approle/login" {
			if _, err := v.Client().Logical().Write("auth/token/revoke-accessor", map[string]any{"accessor": a}); err != nil {
				t.Fatal(err)
			}
		}
	}
	w := p.Watch(ctx, keys)
	if !errors.Is(w[0].Err, inject.ErrAuth) || errors.Is(w[0].Err, inject.ErrPermission) {
		t.Fatalf("watch with a revoked token: %v, want ErrAuth", w[0].Err)
	}
	if w = p.Watch(ctx, keys); w[0].Err != nil || w[0].Stamp != "1" {
		t.Errorf("the next watch: %q %v, want a new login and the version", w[0].Stamp, w[0].Err)
	}
}

// TestLimitedUseTokens: a token whose uses are limited is never spent on
// a speculative read: a one-use token reads a KV v1 secret, and an
// AppRole token with token_num_uses=N reads N KV v1 secrets.
func TestLimitedUseTokens(t *testing.T) {
	v := seed(t)
	v.PutKV("kv1/n8n/a", map[string]any{"v": canaryPrefix + "a"})
	v.PutKV("kv1/n8n/b", map[string]any{"v": canaryPrefix + "b"})
	v.WritePolicy("read", `path "kv1/n8n/*" { capabilities = ["read"] }
path "secret/data/n8n/*" { capabilities = ["read"] }`)
	sec, err := v.Client().Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"read"}, NumUses: 1, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": sec.Auth.ClientToken})
	if res, errs := resolve(t, p, "vault://kv1/n8n/redis#password"); len(errs) > 0 || value(res[0]) != canaryPrefix+"redis" {
		t.Errorf("a one-use token on KV v1: %v", errs)
	}

	roleID, secretID := v.EnableAppRole("n8n", "read")
	if _, err := v.Client().Logical().Write("auth/approle/role/n8n", map[string]any{"token_policies": []string{"read"}, "token_num_uses": 3}); err != nil {
		t.Fatal(err)
	}
	p = newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID})
	res, errs := resolve(t, p, "vault://kv1/n8n/a#v", "vault://kv1/n8n/b#v", "vault://kv1/n8n/redis#password")
	if len(errs) > 0 || value(res[0]) != canaryPrefix+"a" || value(res[2]) != canaryPrefix+"redis" {
		t.Errorf("three KV v1 secrets with a three-use login token: %v", errs)
	}
	// Its uses spent, Vault revoked it: Close finds nothing to revoke.
	if err := p.Close(context.Background()); err != nil {
		t.Errorf("close after the uses ran out: %v", err)
	}
}

// TestRequestsAreTheSameEveryRun: the speculative read is sent, or not,
// whatever the scheduling: a run's requests are the same every time.
func TestRequestsAreTheSameEveryRun(t *testing.T) {
	v := seed(t)
	v.WritePolicy("all", `path "*" { capabilities = ["read"] }`)
	roleID, secretID := v.EnableAppRole("n8n", "all")
	for _, vars := range []map[string]string{
		{"VAULT_TOKEN": v.RootToken},
		{"VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID},
	} {
		vars["VAULT_ADDR"] = v.Addr
		counts := map[int64]int{}
		for range 15 {
			p := newProvider(t, vars)
			if _, errs := resolve(t, p, "vault://kv1/n8n/redis#password", "vault://secret/n8n/db#password"); len(errs) > 0 {
				t.Fatal(errs)
			}
			counts[p.Requests()]++
		}
		if len(counts) != 1 {
			t.Errorf("%v: request counts over 15 runs: %v, want one count", vars["VAULT_ROLE_ID"] != "", counts)
		}
	}
}

// TestWrappedSecretID: a response-wrapped secret id (the trusted
// orchestrator's) is checked against the path that must have created it,
// then unwrapped; one created elsewhere is refused without unwrapping it;
// without the setting, a refused login says the secret id may be wrapped.
func TestWrappedSecretID(t *testing.T) {
	v := seed(t)
	v.WritePolicy("read", `path "secret/data/n8n/*" { capabilities = ["read"] }`)
	roleID, _ := v.EnableAppRole("n8n", "read")
	wrapped := func() string {
		c := v.Client()
		c.SetWrappingLookupFunc(func(string, string) string { return "5m" })
		sec, err := c.Logical().Write("auth/approle/role/n8n/secret-id", nil)
		if err != nil || sec == nil || sec.WrapInfo == nil {
			t.Fatalf("wrapped secret-id: %v", err)
		}
		return sec.WrapInfo.Token
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "secret_id")
	vars := func(path string) map[string]string {
		m := map[string]string{"VAULT_ADDR": v.Addr, "VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID_FILE": file}
		if path != "" {
			m[vault.WrapPathVar] = path
		}
		return m
	}
	wt := wrapped()
	writeFile(t, file, wt)
	rec := &recorder{}
	p, err := vault.New(vault.Options{Getenv: env(vars("auth/approle/role/n8n/secret-id")), Logger: slog.New(rec)})
	if err != nil {
		t.Fatal(err)
	}
	if res, errs := resolve(t, p, "vault://secret/n8n/db#password"); len(errs) > 0 || value(res[0]) != canaryPrefix+"db" {
		t.Fatalf("wrapped secret id: %v", errs)
	}
	// Logging in again with the same file: the unwrapped id is reused
	// (a wrapping token unwraps once).
	if _, err := p.RenewCredential(context.Background(), true); err != nil {
		t.Errorf("second login with the same wrapped secret id: %v", err)
	}
	for _, l := range rec.above(slog.LevelDebug) {
		if strings.Contains(l, wt) {
			t.Error("the wrapping token was logged")
		}
	}

	// Created elsewhere than the setting says: refused, not unwrapped.
	wt = wrapped()
	writeFile(t, file, wt)
	p = newProvider(t, vars("auth/approle/role/other/secret-id"))
	_, errs := resolve(t, p, "vault://secret/n8n/db#password")
	if len(errs) != 1 || !errors.Is(errs[0], inject.ErrAuth) || !strings.Contains(errs[0].Error(), "auth/approle/role/n8n/secret-id") {
		t.Errorf("wrong creation path: %v, want ErrAuth naming the path found", errs)
	}
	if _, err := v.Client().Logical().Write("sys/wrapping/lookup", map[string]any{"token": wt}); err != nil {
		t.Errorf("the wrapping token was unwrapped (or is gone) after a refused check: %v", err)
	}

	// Without the setting: the wrapping token is refused as a secret id,
	// and the hint says what it may be.
	p = newProvider(t, vars(""))
	_, errs = resolve(t, p, "vault://secret/n8n/db#password")
	if len(errs) != 1 || !strings.Contains(inject.HintOf(errs[0]), vault.WrapPathVar) {
		t.Errorf("wrapped secret id without the setting: %v (hint %q)", errs, inject.HintOf(errs[0]))
	}
}

// TestPathWithASpace: `vault kv put "secret/my app/db"` is read with a
// space, or %20, in the reference.
func TestPathWithASpace(t *testing.T) {
	v := seed(t)
	v.PutKV("secret/my app/db", map[string]any{"password": canaryPrefix + "space"})
	v.PutKV("secret/a#b?c%d", map[string]any{"password": canaryPrefix + "reserved"})
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken})
	res, errs := resolve(t, p, "vault://secret/my app/db#password", "vault://secret/my%20app/db#password", "vault://secret/a%23b%3Fc%25d#password")
	if len(errs) > 0 || value(res[0]) != canaryPrefix+"space" || value(res[1]) != canaryPrefix+"space" || value(res[2]) != canaryPrefix+"reserved" {
		t.Fatalf("paths with a space and reserved characters: %v", errs)
	}
	if w := p.Watch(context.Background(), refs(t, "vault://secret/my app/db")); w[0].Err != nil || w[0].Stamp != "1" {
		t.Errorf("watching it: %q %v", w[0].Stamp, w[0].Err)
	}
}

// TestNamespaceOnOpenSourceVault: VAULT_NAMESPACE against a Vault that is
// not Enterprise (which ignores it and serves the root namespace) is
// warned about.
func TestNamespaceOnOpenSourceVault(t *testing.T) {
	v := seed(t)
	rec := &recorder{}
	p, err := vault.New(vault.Options{Getenv: env(map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken, "VAULT_NAMESPACE": "team-a"}),
		Logger: slog.New(rec)})
	if err != nil {
		t.Fatal(err)
	}
	if _, errs := resolve(t, p, "vault://secret/n8n/db#password"); len(errs) > 0 {
		t.Fatal(errs)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(strings.Join(rec.above(slog.LevelDebug), "\n"), vault.CodeNamespaceIgnored.Name()) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s warning: %q", vault.CodeNamespaceIgnored, rec.above(slog.LevelDebug))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRevokeReportsWhatHappened: Revoke returns nil only when Vault
// accepted; a denied revocation of a lease read with the provider's own
// login token is ErrRevokeDeferred, not a success.
func TestRevokeReportsWhatHappened(t *testing.T) {
	v := seed(t)
	v.MountLeasedKV("leased", "1h")
	v.Write("leased/n8n/db", map[string]any{"password": canaryPrefix + "leased", "ttl": "1h"})
	v.WritePolicy("leased", `path "leased/n8n/*" { capabilities = ["read"] }`)
	roleID, secretID := v.EnableAppRole("n8n", "leased")
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID})
	res, errs := resolve(t, p, "vault://leased/n8n/db#password")
	if len(errs) > 0 || res[0].Lease == nil {
		t.Fatalf("leased read: %v %+v", errs, res[0].Lease)
	}
	ctx := context.Background()
	if err := p.Revoke(ctx, *res[0].Lease); !errors.Is(err, inject.ErrRevokeDeferred) {
		t.Errorf("denied revocation with the own login token: %v, want ErrRevokeDeferred", err)
	}
	root := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken})
	if err := root.Revoke(ctx, *res[0].Lease); err != nil {
		t.Errorf("revocation: %v", err)
	}
	// Vault answers a lease it no longer holds as it does a revoked one.
	if err := root.Revoke(ctx, *res[0].Lease); err != nil {
		t.Errorf("revoking it again: %v", err)
	}
}

// TestSoftDeletedVersionIsRecoverable: a KV v2 version deleted (not
// destroyed) can be undeleted: the error says so (ErrSoftDeleted), and
// supervise mode's resolver keeps an optional variable's value rather
// than remove it; a start removes it, as a missing secret.
func TestSoftDeletedVersionIsRecoverable(t *testing.T) {
	v := seed(t)
	v.PutKV("secret/n8n/opt", map[string]any{"v": canaryPrefix + "opt"})
	if _, err := v.Client().Logical().Delete("secret/data/n8n/opt"); err != nil {
		t.Fatal(err)
	}
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken})
	ref, _ := inject.Stores{vault.Store}.Parse("vault://secret/n8n/opt?optional=true#v")
	reqs := []inject.Request{{Var: "OPT", Ref: ref}}
	ctx := context.Background()
	providers := map[string]inject.Provider{"vault": p}
	res, errs := (&inject.Resolver{Providers: providers}).Resolve(ctx, reqs)
	if len(errs) > 0 || !res[0].Removed {
		t.Errorf("at start: %v, removed %v: want the optional variable removed", errs, res[0].Removed)
	}
	res, _ = (&inject.Resolver{Providers: providers, KeepSoftDeleted: true}).Resolve(ctx, reqs)
	if res[0].Removed || res[0].Err == nil || !errors.Is(res[0].Err, inject.ErrSoftDeleted) {
		t.Errorf("supervise mode: removed %v, err %v: want ErrSoftDeleted, the value kept", res[0].Removed, res[0].Err)
	}
	// Destroyed: gone for good.
	if _, err := v.Client().Logical().Write("secret/destroy/n8n/opt", map[string]any{"versions": []int{1}}); err != nil {
		t.Fatal(err)
	}
	res, _ = (&inject.Resolver{Providers: providers, KeepSoftDeleted: true}).Resolve(ctx, reqs)
	if !res[0].Removed {
		t.Errorf("a destroyed version: %v, want the optional variable removed", res[0].Err)
	}
}
