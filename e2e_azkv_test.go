package main

// End-to-end tests of azkv:// references: the real binary against
// internal/testenv/azkvfake, which answers for Azure's real host names
// (<vault>.vault.azure.net, login.microsoftonline.com) with a certificate
// of a test CA, and checks what Key Vault and Entra ID check (the
// challenge, the token's audience, tenant and expiry, RBAC per secret,
// api-version). The binary reaches it as a pod behind an egress proxy
// would: HTTPS_PROXY names a CONNECT proxy of this test on loopback, which
// dials the fake for Azure's names, and SSL_CERT_FILE trusts the test CA.
// The client secret, the tokens and the values are canaries.

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/azkvfake"
)

const e2eVault = "n8n-kv"

// connectProxy starts an HTTP CONNECT proxy on loopback that dials
// through dial (the fake's routing of Azure's host names), and returns
// its URL.
func connectProxy(t *testing.T, dial func(ctx context.Context, network, addr string) (net.Conn, error)) string {
	t.Helper()
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := dial(r.Context(), "tcp", r.Host)
		if err != nil {
			http.Error(w, "dial failed", http.StatusBadGateway)
			return
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			up.Close()
			http.Error(w, "no hijack", http.StatusInternalServerError)
			return
		}
		down, buf, err := hj.Hijack()
		if err != nil {
			up.Close()
			return
		}
		_, _ = down.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, _ = io.Copy(up, buf)
			up.Close()
		}()
		go func() {
			defer wg.Done()
			_, _ = io.Copy(down, up)
			down.Close()
		}()
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	})
	return srv.URL
}

// azEnv starts the fake with e2eVault, granted to the default app, and
// returns the settings that point the binary at it through the proxy,
// with the app's client secret (a canary).
func (e *e2e) azEnv(t *testing.T) (*azkvfake.Server, []string) {
	s := azkvfake.New(t)
	s.AddVault(e2eVault, azkvfake.DefaultTenant)
	s.GrantSecretsUser(azkvfake.DefaultClientID, e2eVault)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, s.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	e.canaries = append(e.canaries, azkvfake.DefaultClientSecret)
	return s, []string{
		"AZURE_TENANT_ID=" + azkvfake.DefaultTenant,
		"AZURE_CLIENT_ID=" + azkvfake.DefaultClientID,
		"AZURE_CLIENT_SECRET=" + azkvfake.DefaultClientSecret,
		"HTTPS_PROXY=" + connectProxy(t, s.Transport().DialContext),
		"SSL_CERT_FILE=" + ca,
		"N8N_SECRETS_N8N=off",
		"N8N_SECRETS_LOG_LEVEL=debug",
		"E2E_CHILD_EXIT=0",
	}
}

// azTokensNotShown fails the test if an access token the fake issued is in
// out.
func azTokensNotShown(t *testing.T, s *azkvfake.Server, out string) {
	t.Helper()
	for i, tok := range s.IssuedTokens() {
		if tok != "" && strings.Contains(out, tok) {
			t.Errorf("output holds access token #%d", i)
		}
	}
}

func TestAzureKeyVaultValuesReachChild(t *testing.T) {
	e := newE2E(t)
	s, env := e.azEnv(t)
	key, pw, old := e.canary("azkey"), e.canary("azpw"), e.canary("azold")
	s.SetSecret(e2eVault, "n8n-key", key)
	v1 := s.SetSecret(e2eVault, "n8n-db", old)
	s.AdvanceClock(time.Minute)
	s.SetSecret(e2eVault, "n8n-db", `{"password":"`+pw+`"}`)
	env = append(env,
		"N8N_ENCRYPTION_KEY=azkv://"+e2eVault+"/n8n-key",
		"DB_POSTGRESDB_PASSWORD=azkv://"+e2eVault+"/n8n-db#password",
		"OLD=azkv://"+e2eVault+"/n8n-db?version="+v1,
		"OPTIONAL=azkv://"+e2eVault+"/n8n-none?optional=true")
	r := e.run(env, "--", self(t))
	if r.code != 0 || r.child == nil {
		t.Fatalf("exit %d, child ran: %v\nstderr: %s", r.code, r.child != nil, r.stderr)
	}
	got := envOf(r.child)
	for k, v := range map[string]string{"N8N_ENCRYPTION_KEY": key, "DB_POSTGRESDB_PASSWORD": pw, "OLD": old} {
		if got[k] != v {
			t.Errorf("child %s differs from the expected value (%d vs %d bytes)", k, len(got[k]), len(v))
		}
	}
	for _, k := range []string{"AZURE_CLIENT_SECRET", "OPTIONAL"} {
		if _, ok := got[k]; ok {
			t.Errorf("child has %s", k)
		}
	}
	if got["AZURE_CLIENT_ID"] != azkvfake.DefaultClientID {
		t.Error("the child lost AZURE_CLIENT_ID, an identifier that is no credential")
	}
	azTokensNotShown(t, s, r.stdout+r.stderr)
	r = e.run(env, "check")
	if r.code != 0 || !strings.Contains(r.stdout, e2eVault+"/n8n-db") || !strings.Contains(r.stdout, "azkv") {
		t.Errorf("check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	azTokensNotShown(t, s, r.stdout+r.stderr)
}

func TestAzureKeyVaultFailures(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *e2e, s *azkvfake.Server) []string
		code  int
		log   string
	}{
		{"not found", func(e *e2e, s *azkvfake.Server) []string { return []string{"K=azkv://" + e2eVault + "/n8n-none"} }, 65, "SECRET_NOT_FOUND"},
		{"denied", func(e *e2e, s *azkvfake.Server) []string {
			s.AddVault("other-kv", azkvfake.DefaultTenant)
			s.SetSecret("other-kv", "n8n-key", e.canary("other"))
			return []string{"K=azkv://other-kv/n8n-key"}
		}, 77, "PERMISSION_DENIED"},
		{"bad client secret", func(e *e2e, s *azkvfake.Server) []string {
			s.SetSecret(e2eVault, "n8n-ok", e.canary("ok"))
			return []string{"K=azkv://" + e2eVault + "/n8n-ok", "AZURE_CLIENT_SECRET=" + e.canary("wrongsecret")}
		}, 77, "AUTH_FAILED"},
		{"down past the deadline", func(e *e2e, s *azkvfake.Server) []string {
			s.SetSecret(e2eVault, "n8n-ok", e.canary("ok"))
			s.FailNext(azkvfake.TargetVault, 1000, http.StatusServiceUnavailable)
			return []string{"K=azkv://" + e2eVault + "/n8n-ok", "N8N_SECRETS_TIMEOUT=1s"}
		}, 69, "PROVIDER_UNAVAILABLE"},
		{"plain http authority", func(e *e2e, s *azkvfake.Server) []string {
			return []string{"K=azkv://" + e2eVault + "/n8n-ok", "AZURE_AUTHORITY_HOST=http://login.example.com/"}
		}, 64, "PROVIDER_NOT_CONFIGURED"},
		{"bad reference", func(e *e2e, s *azkvfake.Server) []string {
			return []string{"K=azkv://" + e2eVault + "/n8n-ok?version=zz"}
		}, 65, "BAD_REFERENCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newE2E(t)
			s, env := e.azEnv(t)
			env = append(env, tt.setup(e, s)...)
			r := e.run(env, "--", self(t))
			r.assertRefused(t, tt.code, tt.log)
			azTokensNotShown(t, s, r.stdout+r.stderr)
		})
	}
}

// TestSuperviseAzureKeyVaultRollsOutNewVersions: a new version is seen
// through Get Secret Versions (metadata, no value) and rolled out by a
// restart.
func TestSuperviseAzureKeyVaultRollsOutNewVersions(t *testing.T) {
	e := newE2E(t)
	s, env := e.azEnv(t)
	key, pw := e.canary("key"), e.canary("pw")
	s.SetSecret(e2eVault, "n8n-key", key)
	s.SetSecret(e2eVault, "n8n-db", pw)
	env = append(env, superviseEnv("N8N_ENCRYPTION_KEY=azkv://"+e2eVault+"/n8n-key",
		"DB_POSTGRESDB_PASSWORD=azkv://"+e2eVault+"/n8n-db", "N8N_SECRETS_REFRESH=300ms")...)
	r := e.startSupervised(env, nil)
	r.waitStarts(1, 30*time.Second)
	gets := s.CountOp("GetSecret")
	r.waitFor("idle refreshes", 10*time.Second, func() bool { return s.CountOp("GetSecretVersions") >= 6 })
	if n := s.CountOp("GetSecret") - gets; n != 0 {
		t.Errorf("idle refreshes read %d values: the versions must be enough", n)
	}
	s.AdvanceClock(time.Minute)
	pw2 := e.canary("pw2")
	s.SetSecret(e2eVault, "n8n-db", pw2)
	starts := r.waitStarts(2, 30*time.Second)
	if got := childEnv(starts[1]); got["DB_POSTGRESDB_PASSWORD"] != pw2 || got["N8N_ENCRYPTION_KEY"] != key {
		t.Error("the restarted child did not get the new version")
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
	azTokensNotShown(t, s, r.stdout.String()+r.stderr.String())
}
