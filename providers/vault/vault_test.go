package vault_test

// Integration tests against a real Vault server (internal/testenv/vaulttest). The
// end-to-end tests through the binary are in the repository root.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/testproxy"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/vaulttest"
	"github.com/n8n-secrets/n8n-secrets/providers/vault"
)

const canaryPrefix = "CANARY-vault-"

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// seed starts Vault with KV v2 at secret/ and KV v1 at kv1/ and a few
// secrets, three versions of one.
func seed(t *testing.T) *vaulttest.Server {
	t.Helper()
	v := vaulttest.Start(t)
	v.MountKV("secret", 2)
	v.MountKV("kv1", 1)
	v.PutKV("secret/n8n/core", map[string]any{"encryption_key": canaryPrefix + "key-v1", "jwt_secret": canaryPrefix + "jwt"})
	v.PutKV("secret/n8n/core", map[string]any{"encryption_key": canaryPrefix + "key-v2", "jwt_secret": canaryPrefix + "jwt"})
	v.PutKV("secret/n8n/core", map[string]any{"encryption_key": canaryPrefix + "key-v3", "jwt_secret": canaryPrefix + "jwt"})
	v.PutKV("secret/n8n/db", map[string]any{"password": canaryPrefix + "db"})
	v.PutKV("secret/n8n/nested", map[string]any{"cfg": map[string]any{"a": []any{"x", canaryPrefix + "deep"}}, "port": 5432})
	v.PutKV("kv1/n8n/redis", map[string]any{"password": canaryPrefix + "redis"})
	return v
}

func newProvider(t *testing.T, vars map[string]string) *vault.Provider {
	t.Helper()
	p, err := vault.New(vault.Options{Getenv: env(vars), SecretsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func resolve(t *testing.T, p inject.Provider, refs ...string) ([]inject.Result, []error) {
	t.Helper()
	var reqs []inject.Request
	for i, s := range refs {
		r, err := inject.Stores{vault.Store}.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, inject.Request{Var: fmt.Sprintf("V%d", i), Ref: r})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := &inject.Resolver{Providers: map[string]inject.Provider{"vault": p}, Backoff: inject.Backoff{Initial: 50 * time.Millisecond, Max: 200 * time.Millisecond}}
	return r.Resolve(ctx, reqs)
}

func value(r inject.Result) string { return string(r.Value.Reveal()) }

// noCanary fails if err's text holds a secret value.
func noCanary(t *testing.T, errs []error) {
	t.Helper()
	for _, err := range errs {
		if strings.Contains(err.Error(), canaryPrefix) {
			t.Errorf("an error message holds a secret value (error #%d)", len(errs))
		}
	}
}

func TestReadKV(t *testing.T) {
	v := seed(t)
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken})
	res, errs := resolve(t, p,
		"vault://secret/n8n/core#encryption_key",
		"vault://secret/n8n/core?version=1#encryption_key",
		"vault://secret/n8n/core?version=2#encryption_key",
		"vault://secret/data/n8n/core#encryption_key",
		"vault://secret/n8n/db",
		"vault://secret/n8n/nested#/cfg/a/1",
		"vault://secret/n8n/nested#port",
		"vault://secret/n8n/nested#cfg",
		"vault://kv1/n8n/redis",
		"vault://kv1/n8n/redis#password",
	)
	noCanary(t, errs)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := []string{"key-v3", "key-v1", "key-v2", "key-v3", "db", "deep", "", "", "redis", "redis"}
	for i, w := range want {
		if w != "" && value(res[i]) != canaryPrefix+w {
			t.Errorf("%s: wrong value (%d bytes)", res[i].Ref, res[i].Value.Len())
		}
	}
	if value(res[6]) != "5432" || value(res[7]) != `{"a":["x","`+canaryPrefix+`deep"]}` {
		t.Errorf("non-string values must come back as JSON text")
	}
	if res[0].Version != "3" || res[1].Version != "1" {
		t.Errorf("versions reported %q, %q", res[0].Version, res[1].Version)
	}
}

func TestReadErrors(t *testing.T) {
	v := seed(t)
	v.WritePolicy("only-db", `path "secret/data/n8n/db" { capabilities = ["read"] }`)
	limited := v.Token("only-db")
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken})
	pl := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": limited})
	tests := []struct {
		name string
		p    *vault.Provider
		ref  string
		code inject.Code
	}{
		{"missing path", p, "vault://secret/n8n/none#k", inject.CodeSecretNotFound},
		{"missing version", p, "vault://secret/n8n/core?version=9#encryption_key", inject.CodeSecretNotFound},
		{"missing key", p, "vault://secret/n8n/core#nope", inject.CodeKeyNotFound},
		{"several keys without selector", p, "vault://secret/n8n/core", inject.CodeKeyNotFound},
		{"missing kv1 path", p, "vault://kv1/none", inject.CodeSecretNotFound},
		{"no mount", p, "vault://nomount/x", inject.CodeSecretNotFound},
		{"no mount, limited token", pl, "vault://nomount/x", inject.CodePermissionDenied},
		{"version on kv1", p, "vault://kv1/n8n/redis?version=2", inject.CodeBadReference},
		{"permission denied", pl, "vault://secret/n8n/core#encryption_key", inject.CodePermissionDenied},
		{"bad token", newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": "hvs.bogus"}), "vault://secret/n8n/db", inject.CodeAuthFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, errs := resolve(t, tt.p, tt.ref)
			noCanary(t, errs)
			if len(errs) != 1 || res[0].Err.Code != tt.code {
				t.Fatalf("errs = %v, want code %s", errs, tt.code)
			}
		})
	}
	// The limited token reads the one path its policy allows.
	res, errs := resolve(t, pl, "vault://secret/n8n/db")
	if len(errs) > 0 || value(res[0]) != canaryPrefix+"db" {
		t.Fatalf("limited token: %v", errs)
	}
	// The several-keys error names the keys, not the values.
	_, errs = resolve(t, p, "vault://secret/n8n/core")
	if !strings.Contains(errs[0].Error(), "encryption_key, jwt_secret") {
		t.Errorf("error must name the keys: %v", errs[0])
	}
}

func TestRoundTrips(t *testing.T) {
	v := seed(t)
	var refs []string
	for i := range 50 {
		v.PutKV(fmt.Sprintf("secret/many/s%d", i), map[string]any{"a": fmt.Sprint(i), "b": "x"})
		refs = append(refs, fmt.Sprintf("vault://secret/many/s%d#a", i), fmt.Sprintf("vault://secret/many/s%d#b", i))
	}
	refs = append(refs, "vault://kv1/n8n/redis#password")
	px := testproxy.New(t, v.Addr, 0)
	v.WritePolicy("all", `path "*" { capabilities = ["read"] }`)
	roleID, secretID := v.EnableAppRole("n8n", "all")
	p := newProvider(t, map[string]string{"VAULT_ADDR": px.URL, "VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID})
	res, errs := resolve(t, p, refs...)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for i := range 50 {
		if value(res[2*i]) != fmt.Sprint(i) {
			t.Fatalf("s%d wrong", i)
		}
	}
	// 1 login + 2 mount lookups (secret/, kv1/) + 51 reads, and for the
	// KV v1 path the speculative KV v2 read sent with the lookup.
	if n := px.Count(); n != 1+2+51+1 {
		t.Errorf("%d requests, want 55: one login, one lookup per mount, one read per path, one guess dropped on KV v1", n)
	}
	if n := p.Requests(); n != px.Count() {
		t.Errorf("the provider counts %d requests, the proxy saw %d", n, px.Count())
	}
	if p.Method() != "approle" {
		t.Errorf("method %s, want approle detected from VAULT_ROLE_ID", p.Method())
	}
}

func TestAuthMethods(t *testing.T) {
	v := seed(t)
	v.WritePolicy("n8n", `path "secret/data/n8n/*" { capabilities = ["read"] }
path "sys/internal/ui/mounts/*" { capabilities = ["read"] }`)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	roleID, secretID := v.EnableAppRole("n8n", "n8n")
	sign := v.EnableJWT("jwt", "n8n", "n8n")
	k8s := v.EnableKubernetes("kubernetes", "n8n", "n8n", "automation", "n8n")
	tests := []struct {
		name   string
		vars   map[string]string
		files  map[string]string // secrets dir files
		method string
		revoke bool
	}{
		{"token", map[string]string{"VAULT_TOKEN": v.Token("n8n")}, nil, "token", false},
		{"token file", map[string]string{"VAULT_TOKEN_FILE": write("tok", v.Token("n8n")+"\n")}, nil, "token", false},
		{"token default file", nil, map[string]string{"vault_token": v.Token("n8n") + "\n"}, "token", false},
		{"approle vars", map[string]string{"VAULT_AUTH_METHOD": "approle", "VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID}, nil, "approle", true},
		{"approle files", map[string]string{"VAULT_ROLE_ID_FILE": write("rid", roleID), "VAULT_SECRET_ID_FILE": write("sid", secretID)}, nil, "approle", true},
		{"approle default files", nil, map[string]string{"vault_role_id": roleID + "\n", "vault_secret_id": secretID + "\n"}, "approle", true},
		{"jwt", map[string]string{"VAULT_AUTH_METHOD": "jwt", "VAULT_AUTH_ROLE": "n8n", "VAULT_JWT_FILE": write("jwt", sign("n8n-main"))}, nil, "jwt", true},
		{"kubernetes", map[string]string{"VAULT_AUTH_METHOD": "kubernetes", "VAULT_AUTH_ROLE": "n8n", "VAULT_JWT_FILE": write("sa", k8s)}, nil, "kubernetes", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sdir := t.TempDir()
			for n, c := range tt.files {
				if err := os.WriteFile(filepath.Join(sdir, n), []byte(c), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			vars := map[string]string{"VAULT_ADDR": v.Addr}
			for k, val := range tt.vars {
				vars[k] = val
			}
			p, err := vault.New(vault.Options{Getenv: env(vars), SecretsDir: sdir})
			if err != nil {
				t.Fatal(err)
			}
			if p.Method() != tt.method {
				t.Fatalf("method %s, want %s", p.Method(), tt.method)
			}
			before := accessors(t, v)
			res, errs := resolve(t, p, "vault://secret/n8n/core#encryption_key", "vault://secret/n8n/db")
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if value(res[0]) != canaryPrefix+"key-v3" {
				t.Fatal("wrong value")
			}
			created := newAccessors(before, accessors(t, v))
			if tt.revoke != (len(created) == 1) {
				t.Fatalf("%d tokens created by the fetch, want a login token: %v", len(created), tt.revoke)
			}
			if err := p.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if left := newAccessors(before, accessors(t, v)); len(left) != 0 {
				t.Errorf("the login token was not revoked by Close")
			}
		})
	}
	// Refused credentials: AUTH_FAILED, one login attempt, no retry.
	for name, vars := range map[string]map[string]string{
		"approle wrong secret":  {"VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": "00000000-0000-0000-0000-000000000000"},
		"jwt wrong role":        {"VAULT_AUTH_METHOD": "jwt", "VAULT_AUTH_ROLE": "other", "VAULT_JWT_FILE": write("jwt2", sign("x"))},
		"kubernetes wrong role": {"VAULT_AUTH_METHOD": "kubernetes", "VAULT_AUTH_ROLE": "other", "VAULT_JWT_FILE": write("sa2", k8s)},
	} {
		t.Run(name, func(t *testing.T) {
			vars["VAULT_ADDR"] = v.Addr
			p := newProvider(t, vars)
			res, errs := resolve(t, p, "vault://secret/n8n/db", "vault://secret/n8n/core#encryption_key")
			if len(errs) != 2 || res[0].Err.Code != inject.CodeAuthFailed || res[0].Attempts != 1 {
				t.Fatalf("errs = %v, want AUTH_FAILED at the first attempt", errs)
			}
		})
	}
}

// accessors lists the accessors of every token that exists.
func accessors(t *testing.T, v *vaulttest.Server) map[string]bool {
	t.Helper()
	sec, err := v.Client().Logical().List("auth/token/accessors")
	if err != nil || sec == nil {
		t.Fatalf("listing token accessors: %v", err)
	}
	m := map[string]bool{}
	keys, _ := sec.Data["keys"].([]any)
	for _, k := range keys {
		m[fmt.Sprint(k)] = true
	}
	return m
}

func newAccessors(before, after map[string]bool) []string {
	var out []string
	for a := range after {
		if !before[a] {
			out = append(out, a)
		}
	}
	return out
}

func TestSealedThenUnsealed(t *testing.T) {
	v := seed(t)
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken})
	v.Seal()
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(time.Second)
		v.Unseal()
	}()
	res, errs := resolve(t, p, "vault://secret/n8n/db")
	<-done
	if len(errs) > 0 {
		t.Fatalf("a Vault unsealed within the deadline must be waited for: %v", errs)
	}
	if res[0].Attempts < 2 || value(res[0]) != canaryPrefix+"db" {
		t.Errorf("attempts %d: want retries while sealed, then the value", res[0].Attempts)
	}
}

func TestSealedPastDeadline(t *testing.T) {
	v := seed(t)
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken})
	v.Seal()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r, _ := inject.Stores{vault.Store}.Parse("vault://secret/n8n/db")
	_, err := (&inject.Resolver{Providers: map[string]inject.Provider{"vault": p}}).Resolve(ctx, []inject.Request{{Var: "DB", Ref: r}})
	if len(err) != 1 || inject.CodeOf(err[0]) != inject.CodeProviderUnavailable || !strings.Contains(err[0].Error(), "sealed") {
		t.Fatalf("errs = %v, want PROVIDER_UNAVAILABLE naming the seal", err)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"no addr", map[string]string{"VAULT_TOKEN": "x"}, "VAULT_ADDR is not set"},
		{"bad addr", map[string]string{"VAULT_ADDR": "vault:8200", "VAULT_TOKEN": "x"}, "VAULT_ADDR must be"},
		{"http off loopback", map[string]string{"VAULT_ADDR": "http://vault.internal:8200", "VAULT_TOKEN": "x"}, "N8N_SECRETS_ALLOW_HTTP"},
		{"no credentials", map[string]string{"VAULT_ADDR": "https://vault:8200"}, "no credentials"},
		{"token method without token", map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_AUTH_METHOD": "token"}, "no token"},
		{"approle without role id", map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_AUTH_METHOD": "approle"}, "VAULT_ROLE_ID"},
		{"kubernetes without role", map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_AUTH_METHOD": "kubernetes"}, "VAULT_AUTH_ROLE"},
		{"jwt file missing", map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_AUTH_METHOD": "jwt", "VAULT_JWT_FILE": filepath.Join(dir, "none")}, "VAULT_JWT"},
		{"unknown method", map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_AUTH_METHOD": "ldap"}, "VAULT_AUTH_METHOD"},
		{"bad CA file", map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_TOKEN": "x", "VAULT_CACERT": filepath.Join(dir, "none.pem")}, "VAULT_CACERT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := vault.New(vault.Options{Getenv: env(tt.vars), SecretsDir: dir})
			if err == nil || !errors.Is(err, inject.ErrNotConfigured) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrNotConfigured mentioning %q", err, tt.want)
			}
		})
	}
	for _, addr := range []string{"http://127.0.0.1:8200", "http://localhost:8200", "http://[::1]:8200"} {
		if _, err := vault.New(vault.Options{Getenv: env(map[string]string{"VAULT_ADDR": addr, "VAULT_TOKEN": "x"})}); err != nil {
			t.Errorf("%s: plain http to loopback must be accepted: %v", addr, err)
		}
	}
	if _, err := vault.New(vault.Options{Getenv: env(map[string]string{"VAULT_ADDR": "http://vault:8200", "VAULT_TOKEN": "x"}), AllowHTTP: true}); err != nil {
		t.Errorf("AllowHTTP must accept http: %v", err)
	}
}
