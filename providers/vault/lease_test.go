package vault_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/providers/vault"
)

// TestLeasedSecretKeepsLoginToken: a dynamic secret (here database
// credentials) is bound to the token that read it; revoking that token
// would revoke the credentials before n8n starts. The test server answers
// as Vault does for a database mount (the test Vault has no database
// engine: it would need a database plugin and a database to manage).
func TestLeasedSecretKeepsLoginToken(t *testing.T) {
	var revoked atomic.Int32
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("/v1/auth/approle/login", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"auth": map[string]any{"client_token": "hvs.login", "lease_duration": 3600, "renewable": true}})
	})
	mux.HandleFunc("/v1/sys/internal/ui/mounts/", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"data": map[string]any{"path": "database/", "type": "database", "options": nil}})
	})
	mux.HandleFunc("/v1/database/creds/n8n", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"lease_id": "database/creds/n8n/abc", "lease_duration": 3600, "renewable": true,
			"data": map[string]any{"username": "v-n8n-x", "password": canaryPrefix + "dyn"}})
	})
	mux.HandleFunc("/v1/auth/token/revoke-self", func(w http.ResponseWriter, r *http.Request) {
		revoked.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	p, err := vault.New(vault.Options{Getenv: env(map[string]string{"VAULT_ADDR": srv.URL, "VAULT_ROLE_ID": "r", "VAULT_SECRET_ID": "s"}), SecretsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	res, errs := resolve(t, p, "vault://database/creds/n8n#password", "vault://database/creds/n8n#username")
	if len(errs) > 0 || value(res[0]) != canaryPrefix+"dyn" {
		t.Fatalf("errs %v", errs)
	}
	if res[0].Lease == nil || res[0].Lease.ID != "database/creds/n8n/abc" || res[0].Lease.Duration != 3600 || !res[0].Lease.Renewable {
		t.Fatalf("lease not kept: %+v", res[0].Lease)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if revoked.Load() != 0 {
		t.Error("the login token was revoked although leased secrets were read with it")
	}
}
