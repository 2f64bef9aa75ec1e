package main

// End-to-end tests of the binary against a real Vault server
// (internal/testenv/vaulttest): every auth method, errors and exit codes, a sealed
// Vault, an unreachable one, revocation of the login token, VAULT_* kept
// from the child, and the canary check on every run.

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/vaulttest"
)

// vaultE2E seeds a Vault with the n8n secrets as canaries and a policy
// that reads only them.
type vaultE2E struct {
	*e2e
	v       *vaulttest.Server
	key, db string
	redis   string
}

func newVaultE2E(t *testing.T) *vaultE2E {
	t.Helper()
	e := newE2E(t)
	v := vaulttest.Start(t)
	v.MountKV("secret", 2)
	v.MountKV("kv1", 1)
	ve := &vaultE2E{e2e: e, v: v, key: e.canary("vault-key"), db: e.canary("vault-db"), redis: e.canary("vault-redis")}
	v.PutKV("secret/n8n/core", map[string]any{"encryption_key": ve.key, "other": e.canary("other")})
	v.PutKV("secret/n8n/db", map[string]any{"password": ve.db})
	v.PutKV("kv1/n8n/redis", map[string]any{"password": ve.redis})
	v.WritePolicy("n8n-read", `path "secret/data/n8n/*" { capabilities = ["read"] }
path "kv1/n8n/*" { capabilities = ["read"] }`)
	return ve
}

func (ve *vaultE2E) refs() []string {
	return []string{
		"N8N_ENCRYPTION_KEY=vault://secret/n8n/core#encryption_key",
		"DB_POSTGRESDB_PASSWORD=vault://secret/n8n/db",
		"QUEUE_BULL_REDIS_PASSWORD=vault://kv1/n8n/redis#password",
		"N8N_SECRETS_N8N=off",
		"VAULT_ADDR=" + ve.v.Addr,
		// Debug level: the canary check then covers every event.
		"N8N_SECRETS_LOG_LEVEL=debug",
	}
}

// accessors lists the accessors of the tokens that exist.
func (ve *vaultE2E) accessors() map[string]bool {
	sec, err := ve.v.Client().Logical().List("auth/token/accessors")
	if err != nil || sec == nil {
		ve.t.Fatalf("listing accessors: %v", err)
	}
	m := map[string]bool{}
	keys, _ := sec.Data["keys"].([]any)
	for _, k := range keys {
		m[fmt.Sprint(k)] = true
	}
	return m
}

func (ve *vaultE2E) assertChild(r result) {
	ve.t.Helper()
	if r.code != 0 || r.child == nil {
		ve.t.Fatalf("exit %d, child ran %v\n%s", r.code, r.child != nil, r.stderr)
	}
	env := envOf(r.child)
	if env["N8N_ENCRYPTION_KEY"] != ve.key || env["DB_POSTGRESDB_PASSWORD"] != ve.db || env["QUEUE_BULL_REDIS_PASSWORD"] != ve.redis {
		ve.t.Error("the child did not get the values stored in Vault")
	}
	for k := range env {
		if strings.HasPrefix(k, "VAULT_") || strings.HasPrefix(k, "N8N_SECRETS_") {
			ve.t.Errorf("%s reached the child", k)
		}
	}
}

func TestVaultAuthMethodsEndToEnd(t *testing.T) {
	ve := newVaultE2E(t)
	roleID, secretID := ve.v.EnableAppRole("n8n", "n8n-read")
	sign := ve.v.EnableJWT("jwt", "n8n", "n8n-read")
	k8sJWT := ve.v.EnableKubernetes("kubernetes", "n8n", "n8n", "automation", "n8n-read")
	ve.canaries = append(ve.canaries, roleID, secretID, ve.v.RootToken)
	tests := []struct {
		name   string
		env    []string
		files  map[string]string
		revoke bool
	}{
		{"token", []string{"VAULT_TOKEN=" + ve.v.Token("n8n-read")}, nil, false},
		{"token file in secrets dir", nil, map[string]string{"vault_token": ve.v.Token("n8n-read") + "\n"}, false},
		{"approle files in secrets dir", nil, map[string]string{"vault_role_id": roleID + "\n", "vault_secret_id": secretID + "\n"}, true},
		{"approle variables", []string{"VAULT_AUTH_METHOD=approle", "VAULT_ROLE_ID=" + roleID, "VAULT_SECRET_ID=" + secretID}, nil, true},
		{"jwt", []string{"VAULT_AUTH_METHOD=jwt", "VAULT_AUTH_ROLE=n8n", "VAULT_JWT_FILE=@jwt"}, map[string]string{"jwt": sign("n8n-worker")}, true},
		{"kubernetes", []string{"VAULT_AUTH_METHOD=kubernetes", "VAULT_AUTH_ROLE=n8n", "VAULT_JWT_FILE=@sa"}, map[string]string{"sa": k8sJWT}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []string{"vault_token", "vault_role_id", "vault_secret_id"} {
				os.Remove(filepath.Join(ve.dir, f))
			}
			for n, c := range tt.files {
				ve.canaries = append(ve.canaries, strings.TrimSpace(c))
				ve.plant(n, c)
			}
			env := ve.refs()
			for _, kv := range tt.env {
				if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(v, "@") {
					kv = k + "=" + filepath.Join(ve.dir, v[1:])
				} else if k == "VAULT_TOKEN" {
					ve.canaries = append(ve.canaries, v)
				}
				env = append(env, kv)
			}
			before := ve.accessors()
			r := ve.run(env, "--", self(t))
			ve.assertChild(r)
			created := 0
			for a := range ve.accessors() {
				if !before[a] {
					created++
				}
			}
			if created != 0 {
				t.Errorf("%d tokens left behind: the login token must be revoked before exec", created)
			}
			if tt.revoke && !strings.Contains(r.stderr, `"msg":"exec"`) {
				t.Errorf("no exec summary:\n%s", r.stderr)
			}
		})
	}
}

// TestVaultLoginTokenRevoked proves the token the injector logged in with no
// longer exists once the child runs: Vault's list of token accessors holds
// no token that was not there before the run.
func TestVaultLoginTokenRevoked(t *testing.T) {
	ve := newVaultE2E(t)
	roleID, secretID := ve.v.EnableAppRole("n8n", "n8n-read")
	ve.plant("vault_role_id", roleID)
	ve.plant("vault_secret_id", secretID)
	before := ve.accessors()
	r := ve.run(ve.refs(), "--", self(t))
	ve.assertChild(r)
	if !strings.Contains(r.stderr, `"code":"VAULT_TOKEN_REVOKED"`) || !strings.Contains(r.stderr, `"code":"VAULT_LOGIN"`) {
		t.Errorf("want a login and a revocation event:\n%s", r.stderr)
	}
	for a := range ve.accessors() {
		if !before[a] {
			t.Errorf("token %s created by the login still exists", a)
		}
	}
}

func TestVaultErrorsEndToEnd(t *testing.T) {
	ve := newVaultE2E(t)
	tok := ve.v.Token("n8n-read")
	ve.canaries = append(ve.canaries, tok)
	tests := []struct {
		name    string
		env     []string
		code    int
		errCode string
	}{
		{"missing path", []string{"K=vault://secret/n8n/none#k"}, 65, "SECRET_NOT_FOUND"},
		{"missing version", []string{"K=vault://secret/n8n/core?version=7#encryption_key"}, 65, "SECRET_NOT_FOUND"},
		{"missing key", []string{"K=vault://secret/n8n/core#nope"}, 65, "KEY_NOT_FOUND"},
		{"two keys, no selector", []string{"K=vault://secret/n8n/core"}, 65, "KEY_NOT_FOUND"},
		{"permission denied", []string{"K=vault://secret/other/x#k"}, 77, "PERMISSION_DENIED"},
		{"bad token", []string{"K=vault://secret/n8n/db", "VAULT_TOKEN=hvs.nope"}, 77, "AUTH_FAILED"},
		{"approle refused", []string{"K=vault://secret/n8n/db", "VAULT_TOKEN=", "VAULT_AUTH_METHOD=approle", "VAULT_ROLE_ID=nope", "VAULT_SECRET_ID=nope"}, 77, "AUTH_FAILED"},
		{"http off loopback", []string{"K=vault://secret/n8n/db", "VAULT_ADDR=http://vault.example:8200"}, 64, "PROVIDER_NOT_CONFIGURED"},
		{"optional missing is fine", []string{"K=vault://secret/n8n/none?optional=true"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{"N8N_SECRETS_N8N=off", "VAULT_ADDR=" + ve.v.Addr, "VAULT_TOKEN=" + tok, "N8N_SECRETS_TIMEOUT=10s"}, tt.env...)
			env = dedupeEnv(env)
			r := ve.run(env, "--", self(t))
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.code, r.stderr)
			}
			if (r.child != nil) != (tt.code == 0) {
				t.Errorf("child started: %v", r.child != nil)
			}
			if tt.errCode != "" && (!strings.Contains(r.stderr, `"code":"`+tt.errCode+`"`) || !strings.Contains(r.stderr, `"var":"K"`)) {
				t.Errorf("log lacks code %s for K:\n%s", tt.errCode, r.stderr)
			}
		})
	}
}

// dedupeEnv keeps the last entry of each name, so a case can override.
func dedupeEnv(env []string) []string {
	last := map[string]int{}
	for i, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		last[k] = i
	}
	var out []string
	for i, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if last[k] == i {
			out = append(out, kv)
		}
	}
	return out
}

func TestVaultSealedAtStart(t *testing.T) {
	ve := newVaultE2E(t)
	tok := ve.v.Token("n8n-read")
	ve.canaries = append(ve.canaries, tok)
	ve.v.Seal()
	go func() {
		time.Sleep(time.Second)
		ve.v.Unseal()
	}()
	r := ve.run(append(ve.refs(), "VAULT_TOKEN="+tok), "--", self(t))
	ve.assertChild(r)
	if !strings.Contains(r.stderr, `"msg":"retrying"`) || !strings.Contains(r.stderr, "sealed") {
		t.Errorf("want retries naming the seal:\n%s", r.stderr)
	}
}

func TestVaultDownPastDeadline(t *testing.T) {
	e := newE2E(t)
	addr := "http://127.0.0.1:" + freePort(t)
	const timeout = 2 * time.Second
	start := time.Now()
	r := e.run([]string{"K=vault://secret/n8n/db", "VAULT_ADDR=" + addr, "VAULT_TOKEN=" + e.canary("tok"),
		"N8N_SECRETS_N8N=off", "N8N_SECRETS_TIMEOUT=" + timeout.String()}, "--", self(t))
	elapsed := time.Since(start)
	if r.code != 69 || r.child != nil || !strings.Contains(r.stderr, "PROVIDER_UNAVAILABLE") {
		t.Fatalf("exit %d, want 69 without exec\n%s", r.code, r.stderr)
	}
	// Not a performance check: it must not give up early, and it must
	// not hang past its deadline.
	if elapsed < timeout*9/10 || elapsed > timeout+8*time.Second {
		t.Errorf("gave up after %v with a deadline of %v", elapsed, timeout)
	}
	if !strings.Contains(r.stderr, "gave up at the deadline") {
		t.Errorf("message does not say it gave up at the deadline:\n%s", r.stderr)
	}
}

// freePort returns a loopback port with nothing listening on it.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}
