package azkv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/azkvfake"
)

const goneTenant = "99999999-2222-3333-4444-555555555555"

func TestAuthFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want string // part of the message
	}{
		{"wrong client secret", []string{"AZURE_CLIENT_SECRET", "not-the-secret-0123456789"}, "invalid_client AADSTS7000215"},
		{"unknown app", []string{"AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555"}, "unauthorized_client AADSTS700016"},
		{"unknown tenant", []string{"AZURE_TENANT_ID", goneTenant}, "invalid_tenant AADSTS90002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.env...)
			vault := testVault
			if os.Getenv("AZURE_TENANT_ID") == goneTenant {
				// The vault's tenant, which Entra no longer knows.
				vault = "gone-kv"
				f.srv.AddVault(vault, goneTenant)
				f.srv.GrantSecretsUser(azkvfake.DefaultClientID, vault)
				f.srv.RemoveTenant(goneTenant)
			}
			f.srv.SetSecret(vault, "key", "k")
			_, err := f.p.FetchRef(ctxT(t), mustRef(t, vault+"/key", nil))
			if !errors.Is(err, inject.ErrAuth) || inject.CodeOf(err).Exit() != 77 {
				t.Fatalf("error %v, want ErrAuth (77)", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "EnvironmentCredential") {
				t.Errorf("error %q does not name the step and %q", err, tc.want)
			}
			if strings.Contains(err.Error(), os.Getenv("AZURE_CLIENT_SECRET")) {
				t.Fatal("the client secret is in the error")
			}
		})
	}
	t.Run("the vault's tenant is not the credential's", func(t *testing.T) {
		f := newFixture(t)
		f.srv.AddVault("foreign-kv", "33333333-2222-3333-4444-555555555555")
		f.srv.SetSecret("foreign-kv", "key", "k")
		f.srv.GrantSecretsUser(azkvfake.DefaultClientID, "foreign-kv")
		_, err := f.p.FetchRef(ctxT(t), mustRef(t, "foreign-kv/key", nil))
		if !errors.Is(err, inject.ErrAuth) || !strings.Contains(err.Error(), "belongs to the tenant 33333333-2222-3333-4444-555555555555") {
			t.Fatalf("error %v, want ErrAuth naming the vault's tenant", err)
		}
	})
	t.Run("no credential anywhere in the chain", func(t *testing.T) {
		f := newFixture(t, "AZURE_TENANT_ID", "", "AZURE_CLIENT_ID", "", "AZURE_CLIENT_SECRET", "")
		f.p = newProvider(t, f.srv)
		f.srv.SetSecret(testVault, "key", "k")
		_, err := f.p.FetchRef(ctxT(t), mustRef(t, testVault+"/key", nil))
		if !errors.Is(err, inject.ErrAuth) || !strings.Contains(err.Error(), "no credential") {
			t.Fatalf("error %v, want ErrAuth naming the chain", err)
		}
		t.Log(err)
	})
	t.Run("Key Vault refuses an expired token", func(t *testing.T) {
		f := newFixture(t)
		f.srv.SetSecret(testVault, "key", "k")
		if _, err := f.p.FetchRef(ctxT(t), mustRef(t, testVault+"/key", nil)); err != nil {
			t.Fatal(err)
		}
		f.srv.ExpireTokens()
		f.srv.RemoveClientSecrets(azkvfake.DefaultClientID)
		_, err := f.p.FetchRef(ctxT(t), mustRef(t, testVault+"/key", nil))
		if !errors.Is(err, inject.ErrAuth) {
			t.Fatalf("error %v, want ErrAuth", err)
		}
		t.Log(err)
	})
}

// TestWorkloadIdentity: AKS workload identity, as its webhook sets it up
// (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, no
// secret): the chain's WorkloadIdentityCredential sends the projected
// service-account token as a client assertion.
func TestWorkloadIdentity(t *testing.T) {
	const subject = "system:serviceaccount:n8n:n8n"
	for _, tc := range []struct {
		name, subject, audience string
		ok                      bool
	}{
		{"federated credential matches", subject, azkvfake.FederatedAudience, true},
		{"another service account", "system:serviceaccount:n8n:other", azkvfake.FederatedAudience, false},
		{"wrong audience", subject, "https://kubernetes.default.svc", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, "AZURE_CLIENT_SECRET", "")
			const app = "6d3b1f2a-0000-4000-8000-00000000a1a1"
			f.srv.AddFederatedCredential(azkvfake.DefaultTenant, app, subject)
			f.srv.GrantSecretsUser(app, testVault)
			sa := f.srv.ServiceAccountToken(tc.subject, tc.audience, time.Hour)
			file := filepath.Join(t.TempDir(), "azure-identity-token")
			if err := os.WriteFile(file, []byte(sa), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("AZURE_CLIENT_ID", app)
			t.Setenv("AZURE_FEDERATED_TOKEN_FILE", file)
			f.p = newProvider(t, f.srv)
			f.srv.SetSecret(testVault, "key", "from-workload-identity")
			pl, err := f.p.FetchRef(ctxT(t), mustRef(t, testVault+"/key", nil))
			if tc.ok {
				if err != nil || string(pl.Value.Reveal()) != "from-workload-identity" {
					t.Fatalf("value ok %v, error %v", string(pl.Value.Reveal()) == "from-workload-identity", err)
				}
				return
			}
			if !errors.Is(err, inject.ErrAuth) || !strings.Contains(err.Error(), "workload identity") {
				t.Fatalf("error %v, want ErrAuth naming workload identity", err)
			}
			if strings.Contains(err.Error(), sa[len(sa)-20:]) {
				t.Fatal("the service-account token is in the error")
			}
			t.Log(err)
		})
	}
}

// TestClouds: the sovereign and private clouds through the settings, each
// token asked of the cloud's authority for the cloud's resource.
func TestClouds(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       []string
		cloud     azkvfake.Cloud
		discovery bool // MSAL asks instance discovery
	}{
		{"public (default)", nil, azkvfake.PublicCloud, false},
		{"China by its DNS suffix", []string{"AZURE_KEYVAULT_DNS_SUFFIX", "vault.azure.cn"}, azkvfake.ChinaCloud, false},
		{"US Government by its authority", []string{"AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"}, azkvfake.USGovCloud, false},
		{"a private cloud", []string{"AZURE_KEYVAULT_DNS_SUFFIX", ".vault.azkvfake.test", "AZURE_AUTHORITY_HOST", "https://login.azkvfake.test"}, azkvfake.PrivateCloud, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.env...)
			f.srv.SetSecret(testVault, "key", "k")
			if _, err := f.p.FetchRef(ctxT(t), mustRef(t, testVault+"/key", nil)); err != nil {
				t.Fatal(err)
			}
			for _, c := range f.srv.Calls() {
				switch {
				case c.Op == "InstanceDiscovery" && !tc.discovery:
					t.Errorf("instance discovery asked: %+v", c)
				case c.Op == "Token" && c.Host != tc.cloud.AuthorityHost:
					t.Errorf("token asked of %s, want %s", c.Host, tc.cloud.AuthorityHost)
				case c.Op == "GetSecret" && c.Host != testVault+"."+tc.cloud.VaultSuffix:
					t.Errorf("vault reached at %s", c.Host)
				}
			}
		})
	}
}

// TestUnknownAuthorityNotSentSecret: with Azure's public vaults but an
// authority host outside Azure's clouds (a typo, a squatted name), MSAL
// asks Entra's instance discovery, Entra refuses the host, and the client
// secret is never sent to it.
func TestUnknownAuthorityNotSentSecret(t *testing.T) {
	f := newFixture(t, "AZURE_AUTHORITY_HOST", "https://login.azkvfake.test/")
	f.srv.SetSecret(testVault, "key", "k")
	_, err := f.p.FetchRef(ctxT(t), mustRef(t, testVault+"/key", nil))
	if !errors.Is(err, inject.ErrAuth) {
		t.Fatalf("error %v, want ErrAuth", err)
	}
	if f.srv.CountOp("InstanceDiscovery") == 0 {
		t.Error("instance discovery was not asked")
	}
	if n := f.srv.CountOp("Token"); n != 0 {
		t.Errorf("%d token requests reached the unknown authority", n)
	}
	t.Log(err)
}
