package vault_test

// Watch, Renew, Revoke and RenewCredential against the real Vault, with
// its database secrets engine over a real PostgreSQL for the leases.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/vaulttest"
	"github.com/n8n-secrets/n8n-secrets/providers/vault"
)

func refs(t *testing.T, ss ...string) []inject.Reference {
	t.Helper()
	var out []inject.Reference
	for _, s := range ss {
		r, err := inject.Stores{vault.Store}.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.FetchKey())
	}
	return out
}

func TestWatchKV2Metadata(t *testing.T) {
	v := seed(t)
	v.WritePolicy("read", `path "secret/data/n8n/*" { capabilities = ["read"] }`)
	v.WritePolicy("meta", `path "secret/metadata/n8n/*" { capabilities = ["read"] }`)
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.Token("read", "meta")})
	res, errs := resolve(t, p, "vault://secret/n8n/core#encryption_key")
	if len(errs) > 0 || res[0].Version != "3" {
		t.Fatalf("resolve: %v, version %q", errs, res[0].Version)
	}
	ctx := context.Background()
	keys := refs(t, "vault://secret/n8n/core", "vault://secret/data/n8n/db", "vault://kv1/n8n/redis",
		"vault://secret/n8n/core?version=1", "vault://secret/n8n/none")
	w := p.Watch(ctx, keys)
	if w[0].Err != nil || w[0].Stamp != res[0].Version {
		t.Errorf("core: %q %v, want the fetched version %q", w[0].Stamp, w[0].Err, res[0].Version)
	}
	if w[1].Err != nil || w[1].Stamp != "1" {
		t.Errorf("a path naming data/: %q %v", w[1].Stamp, w[1].Err)
	}
	if w[2].Err != nil || w[2].Stamp != "" {
		t.Errorf("KV v1: %q %v, want no stamp", w[2].Stamp, w[2].Err)
	}
	if w[3].Err != nil || w[3].Stamp != "" {
		t.Errorf("pinned version: %q %v, want no stamp", w[3].Stamp, w[3].Err)
	}
	if !errors.Is(w[4].Err, inject.ErrNotFound) {
		t.Errorf("missing secret: %v, want ErrNotFound", w[4].Err)
	}
	missing := w[4].Err
	v.PutKV("secret/n8n/core", map[string]any{"encryption_key": canaryPrefix + "key-v4"})
	if w := p.Watch(ctx, keys[:1]); w[0].Stamp != "4" {
		t.Errorf("after a write: %q %v, want 4", w[0].Stamp, w[0].Err)
	}

	// Without read on the metadata: ErrPermission naming the path.
	p = newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.Token("read")})
	w = p.Watch(ctx, keys[:1])
	if !errors.Is(w[0].Err, inject.ErrPermission) || !strings.Contains(w[0].Err.Error(), "secret/metadata/n8n/core") {
		t.Errorf("denied metadata: %v", w[0].Err)
	}
	noCanary(t, []error{w[0].Err, missing})
}

func TestRenewAndRevokeDatabaseLease(t *testing.T) {
	pg := pgtest.Start(t)
	pg.RequirePasswords()
	v := vaulttest.Start(t)
	v.EnableDatabase(pg.Host, pg.Port, pgtest.Superuser, "6s", "9s")
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.Token("n8n-db")})
	res, errs := resolve(t, p, "vault://database/creds/n8n#username", "vault://database/creds/n8n#password")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	l := *res[0].Lease
	if l.ID == "" || l.Duration != 6 || !l.Renewable {
		t.Fatalf("lease %+v", l)
	}
	user, pw := value(res[0]), value(res[1])
	ctx := context.Background()
	r, err := p.Renew(ctx, l)
	if err != nil || r.Duration != 6 || !r.Renewable {
		t.Errorf("first renewal: %+v %v, want 6 s, renewable", r, err)
	}
	time.Sleep(4 * time.Second)
	// 5 s of the 9 s maximum left: extended less than asked, and final.
	r, err = p.Renew(ctx, l)
	if err != nil || r.Duration >= 6 || r.Renewable {
		t.Errorf("renewal near the maximum TTL: %+v %v, want less than 6 s and not renewable", r, err)
	}
	if err := pg.Login("postgres", user, pw); err != nil {
		t.Fatalf("the renewed user cannot log in: %v", err)
	}
	if err := p.Revoke(ctx, l); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if err := pg.Login("postgres", user, pw); err == nil {
		t.Error("the user logs in after its lease was revoked")
	}
	if err := p.Revoke(ctx, l); err != nil {
		t.Errorf("revoking a lease that is gone: %v, want nil", err)
	}
	if _, err := p.Renew(ctx, l); !errors.Is(err, inject.ErrNotFound) {
		t.Errorf("renewing a revoked lease: %v, want ErrNotFound", err)
	}
}

func TestRenewCredential(t *testing.T) {
	v := vaulttest.Start(t)
	ctx := context.Background()

	// A root token does not expire.
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken})
	if l, err := p.RenewCredential(ctx, false); err != nil || l != nil {
		t.Errorf("root token: %+v %v, want no lease", l, err)
	}
	// A token given by the user is renewed, and cannot be replaced.
	p = newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.Token()})
	if l, err := p.RenewCredential(ctx, false); err != nil || l == nil || l.Duration < 3500 || !l.Renewable {
		t.Errorf("user token: %+v %v, want about an hour, renewable", l, err)
	}
	if _, err := p.RenewCredential(ctx, true); !errors.Is(err, inject.ErrNotRenewable) {
		t.Errorf("replacing a user token: %v, want ErrNotRenewable", err)
	}

	// A login token is renewed until its maximum TTL, then replaced.
	roleID, secretID := v.EnableAppRole("n8n")
	if _, err := v.Client().Logical().Write("auth/approle/role/n8n", map[string]any{"token_ttl": "6s", "token_max_ttl": "8s"}); err != nil {
		t.Fatal(err)
	}
	p = newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID})
	first, err := p.RenewCredential(ctx, false)
	if err != nil || first == nil || first.Duration != 6 || !first.Renewable {
		t.Fatalf("login token: %+v %v, want 6 s, renewable", first, err)
	}
	time.Sleep(3 * time.Second)
	capped, err := p.RenewCredential(ctx, false)
	if err != nil || capped == nil || capped.Duration >= 6 || capped.Renewable {
		t.Errorf("near its maximum TTL: %+v %v, want less than 6 s, final", capped, err)
	}
	before := len(accessors(t, v))
	fresh, err := p.RenewCredential(ctx, true)
	if err != nil || fresh == nil || fresh.Duration < 4 || fresh.Duration > 6 || !fresh.Renewable {
		t.Errorf("new login: %+v %v", fresh, err)
	}
	if after := len(accessors(t, v)); after != before+1 {
		t.Errorf("%d tokens before the new login, %d after: want one more", before, after)
	}
	if err := p.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
}
