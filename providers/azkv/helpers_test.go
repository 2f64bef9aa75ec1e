package azkv

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/azkvfake"
)

// isolateEnv clears every variable the provider and the Azure SDK read, and
// PATH (so that the chain's developer credentials, az, azd and pwsh, are
// not found), so that only what a test sets counts.
func isolateEnv(t *testing.T) {
	t.Helper()
	for _, v := range Variables {
		t.Setenv(v.Name, "")
		os.Unsetenv(v.Name)
	}
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"} {
		t.Setenv(k, "")
	}
	t.Setenv("PATH", t.TempDir())
	t.Setenv("HOME", t.TempDir())
}

// fixture is a fake Key Vault with one vault, reached by a provider that
// authenticates with the fake's default client secret.
type fixture struct {
	srv *azkvfake.Server
	p   *Provider
}

const testVault = "n8n-kv"

// newFixture starts the fake, grants the default app Key Vault Secrets
// User on testVault, sets the environment credential, and builds a
// provider on the fake's transport.
func newFixture(t *testing.T, env ...string) *fixture {
	t.Helper()
	isolateEnv(t)
	srv := azkvfake.New(t)
	srv.AddVault(testVault, azkvfake.DefaultTenant)
	srv.GrantSecretsUser(azkvfake.DefaultClientID, testVault)
	t.Setenv("AZURE_TENANT_ID", azkvfake.DefaultTenant)
	t.Setenv("AZURE_CLIENT_ID", azkvfake.DefaultClientID)
	t.Setenv("AZURE_CLIENT_SECRET", azkvfake.DefaultClientSecret)
	for i := 0; i+1 < len(env); i += 2 {
		t.Setenv(env[i], env[i+1])
	}
	return &fixture{srv: srv, p: newProvider(t, srv)}
}

func newProvider(t *testing.T, srv *azkvfake.Server) *Provider {
	t.Helper()
	p, err := New(Config{Getenv: os.Getenv, BaseTransport: srv.Transport()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustRef(t *testing.T, path string, opts map[string]string) Ref {
	t.Helper()
	r, err := ParseRef(path, opts)
	if err != nil {
		t.Fatalf("ParseRef: %v", err)
	}
	return r
}

// testStores are the core's stores with this one alone.
var testStores = inject.Stores{Store}
