package vault_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/providers/vault"
)

// TestNamespaceHeader: Vault Enterprise namespaces (VAULT_NAMESPACE) travel
// in the X-Vault-Namespace header of every request, login included. The
// test Vault is the open-source core, which has no namespaces, so a
// loopback server records the headers instead.
func TestNamespaceHeader(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Get("X-Vault-Namespace")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/auth/approle/login":
			w.Write([]byte(`{"auth":{"client_token":"hvs.x","lease_duration":60}}`))
		case "/v1/sys/internal/ui/mounts/secret/n8n/db":
			w.Write([]byte(`{"data":{"path":"secret/","type":"kv","options":{"version":"2"}}}`))
		case "/v1/secret/data/n8n/db":
			w.Write([]byte(`{"data":{"data":{"password":"p"},"metadata":{"version":1}}}`))
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(srv.Close)
	p, err := vault.New(vault.Options{Getenv: env(map[string]string{"VAULT_ADDR": srv.URL, "VAULT_NAMESPACE": "team-a/n8n",
		"VAULT_ROLE_ID": "r", "VAULT_SECRET_ID": "s"}), SecretsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, errs := resolve(t, p, "vault://secret/n8n/db#password"); len(errs) > 0 {
		t.Fatal(errs)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, path := range []string{"/v1/auth/approle/login", "/v1/sys/internal/ui/mounts/secret/n8n/db", "/v1/secret/data/n8n/db"} {
		if got := seen[path]; got != "team-a/n8n" {
			t.Errorf("%s: X-Vault-Namespace %q, want team-a/n8n", path, got)
		}
	}
}
