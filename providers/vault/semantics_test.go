package vault_test

// What the provider reads and says in the cases operators meet (mount
// roots, wrapping, bad tokens, huge answers, deleted versions, 4xx),
// against the real Vault.

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/providers/vault"
)

// TestMountPathIsBadReference: a path that is a mount names no secret. Each
// mount holds a secret at the path the old code read instead
// (<mount>/data/<path>), so a wrong read would succeed.
func TestMountPathIsBadReference(t *testing.T) {
	v := seed(t)
	v.MountKV("team/a/kv", 2)
	v.PutKV("secret/secret", map[string]any{"k": canaryPrefix + "wrong"})
	v.PutKV("team/a/kv/team/a/kv", map[string]any{"k": canaryPrefix + "wrong"})
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken})
	for _, ref := range []string{"vault://secret#k", "vault://team/a/kv#k", "vault://kv1#k", "vault://secret?version=1#k"} {
		res, errs := resolve(t, p, ref)
		noCanary(t, errs)
		if len(errs) != 1 || res[0].Err.Code != inject.CodeBadReference || res[0].Attempts != 1 {
			t.Fatalf("%s: errs %v, want BAD_REFERENCE at once", ref, errs)
		}
		if !strings.Contains(errs[0].Error(), "is the path of the mount") || inject.HintOf(errs[0]) == "" {
			t.Errorf("%s: the error must say the path is a mount, with a hint: %v", ref, errs[0])
		}
	}
	// A secret under the nested mount still reads.
	v.PutKV("team/a/kv/n8n", map[string]any{"k": canaryPrefix + "right"})
	res, errs := resolve(t, p, "vault://team/a/kv/n8n#k")
	if len(errs) > 0 || value(res[0]) != canaryPrefix+"right" {
		t.Fatalf("nested mount: %v", errs)
	}
}

// TestWrapTTLHasNoEffect: Vault's client reads VAULT_WRAP_TTL at every
// request by itself. With it in the process environment, reads, the mount
// lookup and an AppRole login must still come back unwrapped, at the first
// attempt, and leave no wrapping token behind.
func TestWrapTTLHasNoEffect(t *testing.T) {
	v := seed(t)
	v.WritePolicy("all", `path "*" { capabilities = ["read"] }`)
	roleID, secretID := v.EnableAppRole("n8n", "all")
	t.Setenv("VAULT_WRAP_TTL", "5m")
	before := accessors(t, v)
	for name, vars := range map[string]map[string]string{
		"token":   {"VAULT_TOKEN": v.RootToken},
		"approle": {"VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID},
	} {
		vars["VAULT_ADDR"] = v.Addr
		vars["VAULT_WRAP_TTL"] = "5m"
		rec := &recorder{}
		p, err := vault.New(vault.Options{Getenv: env(vars), SecretsDir: t.TempDir(), Logger: slog.New(rec)})
		if err != nil {
			t.Fatal(err)
		}
		res, errs := resolve(t, p, "vault://secret/n8n/db", "vault://kv1/n8n/redis#password")
		if len(errs) > 0 || value(res[0]) != canaryPrefix+"db" || value(res[1]) != canaryPrefix+"redis" || res[0].Attempts != 1 {
			t.Fatalf("%s: errs %v", name, errs)
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		warned := false
		for _, l := range rec.above(slog.LevelWarn) {
			warned = warned || strings.Contains(l, vault.CodeEnvIgnored.Name()) && strings.Contains(l, "VAULT_WRAP_TTL")
		}
		if !warned {
			t.Errorf("%s: no %s warning for VAULT_WRAP_TTL", name, vault.CodeEnvIgnored)
		}
	}
	if left := newAccessors(before, accessors(t, v)); len(left) != 0 {
		t.Errorf("%d tokens left behind (wrapping tokens?)", len(left))
	}
}

// TestTokenRefusedByVault: an invalid, revoked or expired token is
// AUTH_FAILED with a hint about the token, with or without ?version=N, on
// one line, never a policy problem.
func TestTokenRefusedByVault(t *testing.T) {
	v := seed(t)
	revoked := v.Token()
	if err := v.Client().Auth().Token().RevokeTree(revoked); err != nil {
		t.Fatal(err)
	}
	short, err := v.Client().Auth().Token().Create(&api.TokenCreateRequest{TTL: "1s"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // let it expire
	for name, tok := range map[string]string{"bogus": "hvs.bogus", "revoked": revoked, "expired": short.Auth.ClientToken} {
		p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": tok})
		for _, ref := range []string{"vault://secret/n8n/core?version=2#encryption_key", "vault://secret/n8n/db", "vault://kv1/n8n/redis"} {
			res, errs := resolve(t, p, ref)
			if len(errs) != 1 || res[0].Err.Code != inject.CodeAuthFailed || res[0].Attempts != 1 {
				t.Fatalf("%s token, %s: errs %v, want AUTH_FAILED at once", name, ref, errs)
			}
			msg := errs[0].Error()
			if strings.Contains(msg, "\n") || strings.Contains(msg, "errors occurred") || !strings.Contains(msg, "token") {
				t.Errorf("%s token: want one line about the token, got %q", name, msg)
			}
			if h := inject.HintOf(errs[0]); !strings.Contains(h, "token") {
				t.Errorf("%s token: hint %q does not speak of the token", name, h)
			}
		}
	}
}

// TestLargeAnswer: an answer over 8 MiB fails once with BAD_DATA, instead
// of being retried, truncated, until the deadline.
func TestLargeAnswer(t *testing.T) {
	v := seed(t)
	// Vault takes strings of at most 1 MiB in a request: ten keys of 1000 KiB.
	huge := map[string]any{}
	for _, k := range "abcdefghij" {
		huge[string(k)] = strings.Repeat("x", 1000<<10)
	}
	v.PutKV("secret/n8n/huge", huge)
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken})
	res, errs := resolve(t, p, "vault://secret/n8n/huge#a")
	if len(errs) != 1 || res[0].Err.Code != inject.CodeBadData || res[0].Attempts != 1 {
		t.Fatalf("errs %v, want BAD_DATA at the first attempt", errs)
	}
	if !strings.Contains(errs[0].Error(), "larger than 8 MiB") {
		t.Errorf("the error must name the limit: %v", errs[0])
	}
}

// TestDeletedAndDestroyedVersions: Vault's 404 for a deleted or destroyed
// KV v2 version carries its metadata: the error says which, and when.
func TestDeletedAndDestroyedVersions(t *testing.T) {
	v := seed(t)
	c := v.Client()
	if _, err := c.Logical().Write("secret/delete/n8n/core", map[string]any{"versions": []int{1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("secret/destroy/n8n/core", map[string]any{"versions": []int{2}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Delete("secret/data/n8n/db"); err != nil { // the latest version
		t.Fatal(err)
	}
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken})
	for _, tc := range []struct{ ref, want, hint string }{
		{"vault://secret/n8n/core?version=1#encryption_key", "version 1 was deleted at 20", "undelete -versions=1"},
		{"vault://secret/n8n/core?version=2#encryption_key", "version 2 was destroyed", "cannot be restored"},
		{"vault://secret/n8n/db", "version 1 was deleted at 20", "undelete"},
		{"vault://secret/n8n/core?version=9#encryption_key", "no version 9 of this secret", ""},
	} {
		res, errs := resolve(t, p, tc.ref)
		if len(errs) != 1 || res[0].Err.Code != inject.CodeSecretNotFound {
			t.Fatalf("%s: errs %v, want SECRET_NOT_FOUND", tc.ref, errs)
		}
		if !strings.Contains(errs[0].Error(), tc.want) || !strings.Contains(inject.HintOf(errs[0]), tc.hint) {
			t.Errorf("%s: got %q (hint %q), want %q", tc.ref, errs[0], inject.HintOf(errs[0]), tc.want)
		}
	}
	// optional=true still removes the variable.
	res, errs := resolve(t, p, "vault://secret/n8n/db?optional=true")
	if len(errs) != 0 || !res[0].Removed {
		t.Errorf("an optional deleted secret must be removed: %v", errs)
	}
}

// TestNullIsMissing: a JSON null in a secret is a missing key, so that
// optional=true removes the variable, never the text "null".
func TestNullIsMissing(t *testing.T) {
	v := seed(t)
	v.PutKV("secret/n8n/nulls", map[string]any{"k": nil, "j": "x"})
	v.PutKV("secret/n8n/onlynull", map[string]any{"k": nil})
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken})
	res, errs := resolve(t, p, "vault://secret/n8n/nulls#k", "vault://secret/n8n/onlynull", "vault://secret/n8n/nulls#/k")
	if len(errs) != 3 {
		t.Fatalf("errs %v, want three KEY_NOT_FOUND", errs)
	}
	for _, r := range res {
		if r.Err == nil || r.Err.Code != inject.CodeKeyNotFound {
			t.Errorf("%s: %v, want KEY_NOT_FOUND", r.Ref, r.Err)
		}
	}
	res, errs = resolve(t, p, "vault://secret/n8n/nulls?optional=true#k")
	if len(errs) != 0 || !res[0].Removed {
		t.Errorf("optional null: %v, removed %v", errs, res[0].Removed)
	}
}

// TestRejectedRequestIsPermanent: a Vault 4xx other than 403, 404, 412 and
// 429 fails at once (here a 400 from sys/wrapping/lookup), never as an
// outage retried until the deadline.
func TestRejectedRequestIsPermanent(t *testing.T) {
	v := seed(t)
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken})
	res, errs := resolve(t, p, "vault://sys/wrapping/lookup")
	if len(errs) != 1 || res[0].Err.Code != inject.CodeBadReference || res[0].Attempts != 1 {
		t.Fatalf("errs %v, want BAD_REFERENCE at the first attempt", errs)
	}
	if !strings.Contains(errs[0].Error(), "HTTP 400") || inject.CodeBadReference.Exit() != inject.ExitData {
		t.Errorf("got %v", errs[0])
	}
}

// TestUnmountedEngine: no engine mounted at the first segment is told
// apart from a missing secret, naming the mount and what to do.
func TestUnmountedEngine(t *testing.T) {
	v := seed(t)
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken})
	res, errs := resolve(t, p, "vault://kv/n8n/db#password", "vault://secret/n8n/none#k")
	if len(errs) != 2 {
		t.Fatalf("errs %v", errs)
	}
	if msg := res[0].Err.Error(); !strings.Contains(msg, "no secrets engine is mounted at kv/") || !strings.Contains(inject.HintOf(res[0].Err), "vault secrets enable -path=kv") {
		t.Errorf("unmounted kv/: %q (hint %q)", msg, inject.HintOf(res[0].Err))
	}
	if msg := res[1].Err.Error(); strings.Contains(msg, "mounted") || !strings.Contains(msg, "no secret at this path") {
		t.Errorf("missing secret: %q", msg)
	}
}

// TestSingleUseSecretIDLost: a single-use AppRole secret id used by a login
// whose answer was lost. The retried login is refused: AUTH_FAILED, with a
// hint that says what happened.
func TestSingleUseSecretIDLost(t *testing.T) {
	v := seed(t)
	v.WritePolicy("all", `path "*" { capabilities = ["read"] }`)
	roleID, _ := v.EnableAppRole("n8n", "all")
	sec, err := v.Client().Logical().Write("auth/approle/role/n8n/secret-id", map[string]any{"num_uses": 1})
	if err != nil {
		t.Fatal(err)
	}
	secretID, _ := sec.Data["secret_id"].(string)
	target, _ := url.Parse(v.Addr)
	rp := httputil.NewSingleHostReverseProxy(target)
	var logins atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/auth/approle/login" && logins.Add(1) == 1 {
			// Forward the login (Vault uses the secret id), then lose
			// the answer: the connection closes without a reply.
			rp.ServeHTTP(httptest.NewRecorder(), r)
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	p := newProvider(t, map[string]string{"VAULT_ADDR": front.URL, "VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID})
	res, errs := resolve(t, p, "vault://secret/n8n/db")
	if len(errs) != 1 || res[0].Err.Code != inject.CodeAuthFailed || res[0].Attempts != 2 {
		t.Fatalf("errs %v (attempts %d), want AUTH_FAILED at the retry", errs, res[0].Attempts)
	}
	if h := inject.HintOf(errs[0]); !strings.Contains(h, "single-use") {
		t.Errorf("hint %q does not explain the used-up secret id", h)
	}
	// Refused at once, the same secret id gets the plain AppRole hint.
	p = newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID})
	_, errs = resolve(t, p, "vault://secret/n8n/db")
	if len(errs) != 1 || !errors.Is(errs[0], inject.ErrAuth) || strings.Contains(inject.HintOf(errs[0]), "answer was lost") {
		t.Errorf("first refusal: %v (hint %q)", errs, inject.HintOf(errs[0]))
	}
}

// TestResponseWarningsLogged: Vault's warnings on an answer are logged at
// warn level with their code. The test Vault has no read that answers with
// a warning and data, so a loopback stand-in answers as Vault does.
func TestResponseWarningsLogged(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/sys/internal/ui/mounts/secret/n8n/db":
			w.Write([]byte(`{"data":{"path":"secret/","type":"kv","options":{"version":"2"}}}`))
		case "/v1/secret/data/n8n/db":
			w.Write([]byte(`{"data":{"data":{"password":"p"},"metadata":{"version":1}},"warnings":["TTL of \"768h\" exceeded the effective max_ttl\nof \"24h\""]}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"errors":[]}`))
		}
	}))
	t.Cleanup(srv.Close)
	rec := &recorder{}
	p, err := vault.New(vault.Options{Getenv: env(map[string]string{"VAULT_ADDR": srv.URL, "VAULT_TOKEN": "t"}), Logger: slog.New(rec)})
	if err != nil {
		t.Fatal(err)
	}
	if _, errs := resolve(t, p, "vault://secret/n8n/db#password"); len(errs) > 0 {
		t.Fatal(errs)
	}
	logged := rec.above(slog.LevelWarn)
	if len(logged) != 1 || !strings.HasPrefix(logged[0], "WARN") || !strings.Contains(logged[0], vault.CodeResponseWarning.Name()) ||
		!strings.Contains(logged[0], `exceeded the effective max_ttl`) || strings.Contains(logged[0], "\n") || !strings.Contains(logged[0], "path=secret/n8n/db") {
		t.Errorf("want one warning event on one line, got %q", logged)
	}
}

// TestPathsUnderNamespace: under VAULT_NAMESPACE=parent, a path naming a
// child namespace (child/secret/x) gets its mount back from Vault with the
// namespaces between (parent/child/secret/), as Vault Enterprise answers
// (vault/logical_system.go, pathInternalUIMountRead). The test Vault has no
// namespaces, so a loopback stand-in answers as Enterprise does.
func TestPathsUnderNamespace(t *testing.T) {
	var read atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("X-Vault-Namespace") != "parent" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/v1/sys/internal/ui/mounts/child/secret/n8n/db", "/v1/sys/internal/ui/mounts/child/secret":
			w.Write([]byte(`{"data":{"path":"parent/child/secret/","type":"kv","options":{"version":"2"}}}`))
		case "/v1/child/secret/data/n8n/db":
			read.Store(r.URL.Path)
			w.Write([]byte(`{"data":{"data":{"password":"p"},"metadata":{"version":4}}}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"errors":[]}`))
		}
	}))
	t.Cleanup(srv.Close)
	p := newProvider(t, map[string]string{"VAULT_ADDR": srv.URL, "VAULT_TOKEN": "t", "VAULT_NAMESPACE": "parent"})
	res, errs := resolve(t, p, "vault://child/secret/n8n/db#password", "vault://child/secret#password")
	if res[0].Err != nil || value(res[0]) != "p" || res[0].Version != "4" || read.Load() != "/v1/child/secret/data/n8n/db" {
		t.Fatalf("errs %v: want the KV v2 read of child/secret/data/n8n/db", errs)
	}
	if res[1].Err == nil || res[1].Err.Code != inject.CodeBadReference {
		t.Errorf("the mount itself, under a namespace: %v, want BAD_REFERENCE", res[1].Err)
	}
}
