package vault_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/providers/vault"
)

// review resolves refs with a provider on token, then reviews its access,
// as `check` does.
func review(t *testing.T, addr, token string, refs ...string) []inject.AccessFinding {
	t.Helper()
	p := newProvider(t, map[string]string{"VAULT_ADDR": addr, "VAULT_TOKEN": token})
	res, errs := resolve(t, p, refs...)
	noCanary(t, errs)
	if len(errs) > 0 {
		t.Fatalf("resolving: %v", errs)
	}
	var used []inject.Reference
	for _, r := range res {
		used = append(used, r.Ref)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := p.ReviewAccess(ctx, used)
	if err != nil {
		t.Fatalf("ReviewAccess: %v", err)
	}
	for _, f := range out {
		if strings.Contains(f.Message+f.Hint+f.Path, canaryPrefix) {
			t.Errorf("finding %s holds a secret value", f.Code)
		}
	}
	return out
}

func codes(fs []inject.AccessFinding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code.Name())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestReviewAccess runs the access review against the real Vault with a
// root token, a read-only policy (nothing to report) and policies too wide
// in each way it reports.
func TestReviewAccess(t *testing.T) {
	v := seed(t)
	refs := []string{"vault://secret/n8n/core#encryption_key", "vault://secret/n8n/db#password", "vault://kv1/n8n/redis#password"}

	t.Run("root token", func(t *testing.T) {
		got := codes(review(t, v.Addr, v.RootToken, refs...))
		if !slices.Equal(got, []string{vault.CodeTokenNoExpiry.Name(), vault.CodeTokenRoot.Name()}) {
			t.Errorf("codes %v, want the root policy and no expiry", got)
		}
	})

	t.Run("read only", func(t *testing.T) {
		v.WritePolicy("n8n-read", `
path "secret/data/n8n/*" { capabilities = ["read"] }
path "kv1/n8n/*"         { capabilities = ["read"] }
`)
		if got := review(t, v.Addr, v.Token("n8n-read"), refs...); len(got) != 0 {
			t.Errorf("a read-only token: %v, want no finding", got)
		}
	})

	t.Run("too wide", func(t *testing.T) {
		v.WritePolicy("n8n-wide", `
path "secret/data/n8n/*"     { capabilities = ["read", "update", "delete"] }
path "secret/destroy/n8n/*"  { capabilities = ["update"] }
path "secret/metadata/*"     { capabilities = ["list"] }
path "kv1/*"                 { capabilities = ["read", "list"] }
path "sys/policies/acl/*"    { capabilities = ["create", "update", "read"] }
`)
		found := review(t, v.Addr, v.Token("n8n-wide"), refs...)
		got := codes(found)
		want := []string{vault.CodeTokenCanAdmin.Name(), vault.CodeTokenCanList.Name(), vault.CodeTokenCanWrite.Name(), vault.CodeTokenReadsBeyond.Name()}
		if !slices.Equal(got, want) {
			t.Fatalf("codes %v, want %v", got, want)
		}
		has := func(code, path, in string) {
			t.Helper()
			for _, f := range found {
				if f.Code.Name() == code && f.Path == path && strings.Contains(f.Message, in) {
					return
				}
			}
			t.Errorf("no %s for %s mentioning %q in %v", code, path, in, found)
		}
		has(vault.CodeTokenCanWrite.Name(), "secret/n8n/core", "secret/data/n8n/core (delete, update)")
		has(vault.CodeTokenCanWrite.Name(), "secret/n8n/db", "secret/destroy/n8n/db (update)")
		has(vault.CodeTokenCanList.Name(), "secret/", "secret/metadata/ (list)")
		has(vault.CodeTokenCanList.Name(), "kv1/n8n/", "kv1/n8n/ (list)")
		has(vault.CodeTokenReadsBeyond.Name(), "kv1/", "kv1/"+vault.ProbeName+" (read)")
		has(vault.CodeTokenCanAdmin.Name(), "sys/policies/acl/*", "(create, update)")
		for _, f := range found {
			if f.Path == "secret/n8n/redis" || (f.Code == vault.CodeTokenCanWrite && f.Path == "kv1/n8n/redis") {
				t.Errorf("unexpected finding %v", f)
			}
		}
	})

	t.Run("capabilities refused", func(t *testing.T) {
		// A token without the default policy may not call
		// sys/capabilities-self: the review fails with a permission error
		// instead of reporting nothing.
		v.WritePolicy("n8n-only", `path "secret/data/n8n/*" { capabilities = ["read"] }`)
		tok := noDefaultToken(t, v.Client(), "n8n-only")
		p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": tok})
		res, errs := resolve(t, p, refs[0])
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		_, err := p.ReviewAccess(context.Background(), []inject.Reference{res[0].Ref})
		if inject.CodeOf(err) != inject.CodePermissionDenied {
			t.Errorf("ReviewAccess: %v, want PERMISSION_DENIED", err)
		}
	})
}

// noDefaultToken creates a token with the given policies and without the
// default policy (which allows sys/capabilities-self and lookup-self).
func noDefaultToken(t *testing.T, c *api.Client, policies ...string) string {
	t.Helper()
	sec, err := c.Auth().Token().Create(&api.TokenCreateRequest{Policies: policies, NoDefaultPolicy: true, TTL: "1h"})
	if err != nil || sec == nil || sec.Auth == nil {
		t.Fatalf("creating a token without the default policy: %v", err)
	}
	return sec.Auth.ClientToken
}
