package vaulttest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/testproxy"
)

// call sends a raw HTTP request to the Vault API and returns the status and
// the body both decoded and raw. Logins use it on purpose: it is the wire
// format the product's provider speaks.
func call(t *testing.T, s *Server, method, path, token string, body any) (int, map[string]any, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, s.Addr+"/v1/"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: non-JSON body %q", method, path, raw)
		}
	}
	return resp.StatusCode, out, strings.TrimSpace(string(raw))
}

// login POSTs to auth/<mount>/login and returns the client token, failing
// the test unless Vault answers 200 with a token carrying wantPolicy.
func login(t *testing.T, s *Server, mount string, body map[string]any, wantPolicy string) string {
	t.Helper()
	status, out, raw := call(t, s, "POST", "auth/"+mount+"/login", "", body)
	if status != http.StatusOK {
		t.Fatalf("login at %s: status %d: %s", mount, status, raw)
	}
	auth, _ := out["auth"].(map[string]any)
	tok, _ := auth["client_token"].(string)
	if tok == "" {
		t.Fatalf("login at %s: no client_token in %s", mount, raw)
	}
	pols := fmt.Sprint(auth["token_policies"])
	if !strings.Contains(pols, wantPolicy) {
		t.Errorf("login at %s: token_policies %s lack %q", mount, pols, wantPolicy)
	}
	return tok
}

// readSecretAs reads the KV v2 secret secret/app/db with token and returns
// its password field.
func readPasswordAs(t *testing.T, s *Server, token string) string {
	t.Helper()
	status, out, raw := call(t, s, "GET", "secret/data/app/db", token, nil)
	if status != http.StatusOK {
		t.Fatalf("reading secret/data/app/db: status %d: %s", status, raw)
	}
	data, _ := out["data"].(map[string]any)
	inner, _ := data["data"].(map[string]any)
	pw, _ := inner["password"].(string)
	return pw
}

func TestServer(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.Addr, "http://127.0.0.1:") || s.RootToken == "" {
		t.Fatalf("Addr %q RootToken %q", s.Addr, s.RootToken)
	}
	c := s.Client()
	ctx := context.Background()

	health, err := c.Sys().Health()
	if err != nil {
		t.Fatal(err)
	}
	if !health.Initialized || health.Sealed || health.Standby {
		t.Fatalf("health %+v", health)
	}

	// KV v1 and v2.
	s.MountKV("kv1", 1)
	s.MountKV("secret", 2)
	s.PutKV("kv1/app/db", map[string]any{"password": "v1-pass"})
	s.PutKV("secret/app/db", map[string]any{"password": "first"})
	s.PutKV("secret/app/db", map[string]any{"password": "second"})

	v1, err := c.KVv1("kv1").Get(ctx, "app/db")
	if err != nil {
		t.Fatal(err)
	}
	if v1.Data["password"] != "v1-pass" {
		t.Errorf("kv v1 data %v", v1.Data)
	}
	latest, err := c.KVv2("secret").Get(ctx, "app/db")
	if err != nil {
		t.Fatal(err)
	}
	if latest.Data["password"] != "second" || latest.VersionMetadata.Version != 2 {
		t.Errorf("kv v2 latest: data %v version %d", latest.Data, latest.VersionMetadata.Version)
	}
	first, err := c.KVv2("secret").GetVersion(ctx, "app/db", 1)
	if err != nil {
		t.Fatal(err)
	}
	if first.Data["password"] != "first" {
		t.Errorf("kv v2 version 1: %v", first.Data)
	}
	// A version that does not exist: 404 over HTTP.
	status, _, raw := call(t, s, "GET", "secret/data/app/db?version=7", s.RootToken, nil)
	t.Logf("kv v2 missing version: %d %s", status, raw)
	if status != http.StatusNotFound {
		t.Errorf("missing kv v2 version: status %d, want 404", status)
	}
	// A soft-deleted version: 404, but the body still carries its metadata.
	s.PutKV("secret/app/gone", map[string]any{"k": "v"})
	status, _, raw = call(t, s, "DELETE", "secret/data/app/gone", s.RootToken, nil)
	if status != http.StatusNoContent {
		t.Errorf("kv v2 delete: %d %s", status, raw)
	}
	status, out, raw := call(t, s, "GET", "secret/data/app/gone", s.RootToken, nil)
	t.Logf("kv v2 deleted version: %d %s", status, raw)
	data, _ := out["data"].(map[string]any)
	meta, _ := data["metadata"].(map[string]any)
	if status != http.StatusNotFound || data["data"] != nil || meta["deletion_time"] == "" || meta["deletion_time"] == nil {
		t.Errorf("kv v2 deleted version: %d %s", status, raw)
	}
	// A KV v1 path that does not exist: 404 with an empty errors list.
	status, _, raw = call(t, s, "GET", "kv1/nope", s.RootToken, nil)
	t.Logf("kv v1 missing secret: %d %s", status, raw)
	if status != http.StatusNotFound {
		t.Errorf("missing kv v1 secret: status %d, want 404", status)
	}

	// The mount lookup the Vault CLI uses to tell v1 from v2.
	for path, want := range map[string]string{"secret/app/db": "2", "kv1/app/db": "1"} {
		status, out, raw := call(t, s, "GET", "sys/internal/ui/mounts/"+path, s.RootToken, nil)
		t.Logf("sys/internal/ui/mounts/%s: %d %s", path, status, raw)
		data, _ := out["data"].(map[string]any)
		opts, _ := data["options"].(map[string]any)
		mount := strings.SplitN(path, "/", 2)[0] + "/"
		if status != http.StatusOK || data["type"] != "kv" || data["path"] != mount || opts["version"] != want {
			t.Errorf("ui mounts %s: status %d data %v", path, status, data)
		}
	}

	// Policies and child tokens: read on secret/data/app/*, nothing else.
	s.WritePolicy("read-app", `path "secret/data/app/*" { capabilities = ["read"] }`)
	appTok := s.Token("read-app")
	if pw := readPasswordAs(t, s, appTok); pw != "second" {
		t.Errorf("policy token read password %q", pw)
	}
	status, _, raw = call(t, s, "GET", "kv1/app/db", appTok, nil)
	t.Logf("403 sample: %d %s", status, raw)
	if status != http.StatusForbidden || !strings.Contains(raw, "permission denied") {
		t.Errorf("read outside policy: %d %s, want 403 permission denied", status, raw)
	}
	// The same through the api package: a *api.ResponseError with 403.
	_, err = s.clientWithToken(appTok).Logical().Read("kv1/app/db")
	var re *api.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
		t.Errorf("api read outside policy: %v", err)
	}
	// A policy-less token may read sys/internal/ui/mounts only for paths it
	// has some capability on.
	status, _, raw = call(t, s, "GET", "sys/internal/ui/mounts/secret/app/db", appTok, nil)
	t.Logf("ui mounts with read-app token: %d %s", status, raw)
	if status != http.StatusOK {
		t.Errorf("ui mounts with policy token: %d", status)
	}
	status, _, raw = call(t, s, "GET", "sys/internal/ui/mounts/kv1/app/db", appTok, nil)
	t.Logf("ui mounts outside policy: %d %s", status, raw)
	if status != http.StatusForbidden {
		t.Errorf("ui mounts outside policy: %d, want 403", status)
	}

	// AppRole.
	roleID, secretID := s.EnableAppRole("n8n", "read-app")
	tok := login(t, s, "approle", map[string]any{"role_id": roleID, "secret_id": secretID}, "read-app")
	if pw := readPasswordAs(t, s, tok); pw != "second" {
		t.Errorf("approle token read password %q", pw)
	}
	status, _, raw = call(t, s, "POST", "auth/approle/login", "", map[string]any{"role_id": roleID, "secret_id": "wrong"})
	t.Logf("approle bad secret_id: %d %s", status, raw)
	if status != http.StatusBadRequest && status != http.StatusForbidden {
		t.Errorf("approle login with wrong secret_id: %d %s", status, raw)
	}

	// JWT.
	sign := s.EnableJWT("jwt", "n8n", "read-app")
	jwt := sign("workflow-runner")
	tok = login(t, s, "jwt", map[string]any{"role": "n8n", "jwt": jwt}, "read-app")
	if pw := readPasswordAs(t, s, tok); pw != "second" {
		t.Errorf("jwt token read password %q", pw)
	}
	// Tampered signature is refused.
	tampered := jwt[:len(jwt)-4] + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, jwt[len(jwt)-4:])
	status, _, raw = call(t, s, "POST", "auth/jwt/login", "", map[string]any{"role": "n8n", "jwt": tampered})
	t.Logf("jwt bad signature: %d %s", status, raw)
	if status == http.StatusOK {
		t.Errorf("login with tampered JWT succeeded")
	}
	// A second role on the same mount shares the key.
	sign2 := s.EnableJWT("jwt", "other", "default")
	login(t, s, "jwt", map[string]any{"role": "other", "jwt": sign2("x")}, "default")

	// Kubernetes.
	saJWT := s.EnableKubernetes("kubernetes", "n8n", "n8n", "automation", "read-app")
	tok = login(t, s, "kubernetes", map[string]any{"role": "n8n", "jwt": saJWT}, "read-app")
	if pw := readPasswordAs(t, s, tok); pw != "second" {
		t.Errorf("kubernetes token read password %q", pw)
	}
	// A token with the right claims that the (stand-in) Kubernetes API
	// does not vouch for is refused.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := SignJWT(key, map[string]any{
		"iss":                                    "kubernetes/serviceaccount",
		"sub":                                    "system:serviceaccount:automation:n8n",
		"kubernetes.io/serviceaccount/namespace": "automation",
		"kubernetes.io/serviceaccount/service-account.name": "n8n",
		"kubernetes.io/serviceaccount/service-account.uid":  "00000000-0000-0000-0000-000000000000",
	})
	if err != nil {
		t.Fatal(err)
	}
	status, _, raw = call(t, s, "POST", "auth/kubernetes/login", "", map[string]any{"role": "n8n", "jwt": forged})
	t.Logf("kubernetes unknown JWT: %d %s", status, raw)
	if status != http.StatusForbidden {
		t.Errorf("kubernetes login with a JWT the TokenReview stand-in does not know: %d %s, want 403", status, raw)
	}

	// Revocation.
	short := s.Token("read-app")
	if !s.TokenValid(short) {
		t.Fatal("fresh token not valid")
	}
	status, _, raw = call(t, s, "POST", "auth/token/revoke-self", short, nil)
	if status != http.StatusNoContent {
		t.Errorf("revoke-self: %d %s", status, raw)
	}
	if s.TokenValid(short) {
		t.Error("revoked token still valid")
	}
	status, _, raw = call(t, s, "GET", "secret/data/app/db", short, nil)
	t.Logf("revoked token: %d %s", status, raw)
	if status != http.StatusForbidden {
		t.Errorf("read with revoked token: %d, want 403", status)
	}

	// Seal and unseal: data and tokens survive.
	s.Seal()
	status, _, raw = call(t, s, "GET", "secret/data/app/db", appTok, nil)
	t.Logf("sealed read: %d %s", status, raw)
	if status != http.StatusServiceUnavailable || !strings.Contains(raw, "Vault is sealed") {
		t.Errorf("read while sealed: %d %s, want 503 Vault is sealed", status, raw)
	}
	status, _, raw = call(t, s, "GET", "sys/seal-status", "", nil)
	t.Logf("sealed seal-status: %d %s", status, raw)
	if st, err := c.Sys().SealStatus(); err != nil || !st.Sealed {
		t.Errorf("seal status after Seal: %+v %v", st, err)
	}
	s.Unseal()
	if pw := readPasswordAs(t, s, appTok); pw != "second" {
		t.Errorf("after unseal, password %q", pw)
	}
	if !s.TokenValid(appTok) {
		t.Error("token lost across seal/unseal")
	}

	// Stop now (Cleanup would too) and check the process exited cleanly:
	// Stop reports an unclean exit as a test error.
	s.Stop()
	if _, err := http.Get(s.Addr + "/v1/sys/health"); err == nil {
		t.Error("server still answering after Stop")
	}
}

// TestServersAreIndependent checks two servers run side by side with
// separate state.
func TestServersAreIndependent(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Addr == b.Addr {
		t.Fatalf("same address %s", a.Addr)
	}
	a.MountKV("secret", 1)
	a.PutKV("secret/x", map[string]any{"k": "v"})
	if sec, err := a.Client().Logical().Read("secret/x"); err != nil || sec == nil || sec.Data["k"] != "v" {
		t.Errorf("secret/x on the first server: %v %v", sec, err)
	}
	// On the second server there is no such mount: 404, which the api
	// package reports as (nil, nil).
	if sec, err := b.Client().Logical().Read("secret/x"); sec != nil {
		t.Errorf("secret/x visible on the second server: %v %v", sec.Data, err)
	}
	if a.TokenValid(b.RootToken) {
		t.Error("root token of one server valid on the other")
	}
}

// TestBehindDelayingProxy runs the benchmark setup: a Vault client pointed
// at a testproxy in front of the server, every request delayed and counted.
func TestBehindDelayingProxy(t *testing.T) {
	s := Start(t)
	s.MountKV("secret", 2)
	for i := range 5 {
		s.PutKV(fmt.Sprintf("secret/s%d", i), map[string]any{"v": i})
	}
	const delay = 10 * time.Millisecond
	p := testproxy.New(t, s.Addr, delay)
	c := s.Client()
	if err := c.SetAddress(p.URL); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 5 {
		sec, err := c.KVv2("secret").Get(context.Background(), fmt.Sprintf("s%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(sec.Data["v"]) != fmt.Sprint(i) {
			t.Errorf("s%d = %v", i, sec.Data["v"])
		}
	}
	if elapsed := time.Since(start); elapsed < 5*delay {
		t.Errorf("5 sequential reads took %v, want >= %v", elapsed, 5*delay)
	}
	if n := p.Count(); n != 5 {
		t.Errorf("proxy counted %d requests, want 5", n)
	}
}

func TestRepoRoot(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || modulePath(data) != rootModule {
		t.Fatalf("repoRoot %s: go.mod module %q, %v", root, modulePath(data), err)
	}
	if got := modulePath([]byte("// module x\nmodule \"example.com/x\" // y\n")); got != "example.com/x" {
		t.Errorf("modulePath quoted: %q", got)
	}
}

// recordingTB captures Fatalf/Skip instead of ending the test.
type recordingTB struct {
	testing.TB
	fatal, skip string
}

type stopped struct{}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	panic(stopped{})
}
func (r *recordingTB) Skip(args ...any) {
	r.skip = fmt.Sprint(args...)
	panic(stopped{})
}

func runFindBinary(t *testing.T) *recordingTB {
	r := &recordingTB{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil {
				if _, ok := p.(stopped); !ok {
					panic(p)
				}
			}
		}()
		findBinary(r)
	}()
	return r
}

func TestMissingBinary(t *testing.T) {
	t.Setenv("VAULTDEV_BIN", filepath.Join(t.TempDir(), "no-such-vaultdev"))

	t.Setenv("CI", "")
	r := runFindBinary(t)
	if r.fatal != "" || !strings.Contains(r.skip, "make vaultdev") {
		t.Errorf("outside CI: fatal %q skip %q, want a skip mentioning make vaultdev", r.fatal, r.skip)
	}

	t.Setenv("CI", "true")
	r = runFindBinary(t)
	if r.skip != "" || !strings.Contains(r.fatal, "make vaultdev") {
		t.Errorf("in CI: fatal %q skip %q, want a fatal error", r.fatal, r.skip)
	}
}
