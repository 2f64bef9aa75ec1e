package azkv

import (
	"errors"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/azkvfake"
)

func TestFetchLatestAndPinned(t *testing.T) {
	f := newFixture(t)
	v1 := f.srv.SetSecret(testVault, "db-password", "first")
	v2 := f.srv.SetSecret(testVault, "db-password", `{"user":"n8n","password":"second"}`)

	pl, err := f.p.FetchRef(ctxT(t), mustRef(t, testVault+"/db-password", nil))
	if err != nil {
		t.Fatalf("latest: %v", err)
	}
	if got := string(pl.Value.Reveal()); got != `{"user":"n8n","password":"second"}` || pl.Version != v2 || pl.Object {
		t.Fatalf("latest: value %q version %q object %v, want the second version (%s) whole", got, pl.Version, pl.Object, v2)
	}
	pl, err = f.p.FetchRef(ctxT(t), mustRef(t, testVault+"/db-password", map[string]string{"version": v1}))
	if err != nil {
		t.Fatalf("pinned: %v", err)
	}
	if got := string(pl.Value.Reveal()); got != "first" || pl.Version != v1 {
		t.Fatalf("pinned: value %q version %q, want the first version (%s)", got, pl.Version, v1)
	}
	// The challenge was answered once, the token fetched once.
	if n := f.srv.CountOp("Token"); n != 1 {
		t.Errorf("token requests: %d, want 1", n)
	}
	for _, c := range f.srv.Calls() {
		if c.Op == "GetSecret" && c.APIVersion == "" {
			t.Errorf("a Key Vault request without api-version: %+v", c)
		}
	}
}

func TestFetchFailures(t *testing.T) {
	f := newFixture(t)
	v1 := f.srv.SetSecret(testVault, "present", "x")
	f.srv.SetSecret(testVault, "disabled", "x")
	f.srv.SetEnabled(testVault, "disabled", "", false)
	f.srv.AddVault("other-vault", azkvfake.DefaultTenant)
	f.srv.SetSecret("other-vault", "denied", "x")
	f.srv.Grant(azkvfake.DefaultClientID, "other-vault", "readable", azkvfake.ActionGetSecret)

	for _, tc := range []struct {
		name, path, version string
		want                error
		code                inject.Code
	}{
		{"missing secret", testVault + "/absent", "", inject.ErrNotFound, inject.CodeSecretNotFound},
		{"missing version", testVault + "/present", "0123456789abcdef0123456789abcdef", inject.ErrNotFound, inject.CodeSecretNotFound},
		{"disabled latest version", testVault + "/disabled", "", inject.ErrNotFound, inject.CodeSecretNotFound},
		{"no role on the secret", "other-vault/denied", "", inject.ErrPermission, inject.CodePermissionDenied},
		{"a vault that does not exist", "no-such-vault/x", "", nil, inject.CodeProviderError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := map[string]string{}
			if tc.version != "" {
				opts["version"] = tc.version
			}
			_, err := f.p.FetchRef(ctxT(t), mustRef(t, tc.path, opts))
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %q does not wrap %v", err, tc.want)
			}
			if got := inject.CodeOf(err); got != tc.code {
				t.Errorf("code %s, want %s (%v)", got, tc.code, err)
			}
			t.Log(err)
		})
	}
	_ = v1
}
