// Package vaulttest starts a real Vault server for the product's integration
// tests and offers helpers to prepare it (KV mounts, policies, tokens,
// AppRole, JWT and Kubernetes auth, sealing).
//
// The server is the vaultdev program (tools/vaultdev, a separate Go module
// built with `make vaultdev` into bin/vaultdev): Vault's own core, plugins
// and HTTP API over in-memory storage, listening on a loopback port. Each
// call to Start runs a fresh, independent server process that is stopped
// when the test ends.
//
// The binary is looked up in $VAULTDEV_BIN, else in <repo root>/bin/vaultdev.
// If it is missing the test is skipped, except when CI=true, where it fails:
// a Vault test must never be skipped silently in CI.
//
// All helpers report failures with t.Fatalf on the testing.TB given to Start,
// so, like t.Fatal, they must be called from the goroutine running the test.
package vaulttest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/syncbuf"
)

// rootModule is the module path of the product's go.mod, used to find the
// repository root (tools/vaultdev has its own go.mod that must be skipped).
const rootModule = "github.com/n8n-secrets/n8n-secrets"

// startTimeout bounds how long Start waits for vaultdev to become ready.
// Startup normally takes well under a second; the margin is for slow CI.
const startTimeout = 60 * time.Second

// JWT claims used by EnableJWT roles and the tokens it signs.
const (
	// JWTIssuer is the "iss" claim of tokens signed by EnableJWT's signer
	// and the bound_issuer configured on the mount.
	JWTIssuer = "https://vaulttest.invalid"
	// JWTAudience is the "aud" claim of those tokens and the role's
	// bound_audiences.
	JWTAudience = "n8n-secrets-test"
)

// Server is a running vaultdev process.
type Server struct {
	// Addr is the base URL of the Vault API, e.g. "http://127.0.0.1:41234".
	Addr string
	// RootToken is a root token, valid until the server stops.
	RootToken string

	t         testing.TB
	unsealKey string
	cmd       *exec.Cmd
	exited    chan struct{} // closed when cmd has been waited for
	waitErr   error         // cmd.Wait result, valid after exited is closed
	stderr    *syncbuf.Buffer
	stopOnce  sync.Once

	mu      sync.Mutex
	jwtKeys map[string]*rsa.PrivateKey // per JWT auth mount
}

// info mirrors the JSON document vaultdev writes with -info.
type info struct {
	Addr      string `json:"addr"`
	RootToken string `json:"root_token"`
	UnsealKey string `json:"unseal_key"`
}

// Start runs a fresh vaultdev server and returns once it is initialized,
// unsealed and serving. The server is stopped by t.Cleanup.
//
// Set VAULTDEV_LOG_LEVEL (e.g. "debug") to get Vault's log in the test
// output when the server stops.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := findBinary(t)

	// TempDir first, so that its removal (a cleanup) runs after Stop.
	infoPath := filepath.Join(t.TempDir(), "vault.json")
	logLevel := os.Getenv("VAULTDEV_LOG_LEVEL")
	if logLevel == "" {
		logLevel = "warn"
	}

	s := &Server{
		t:       t,
		exited:  make(chan struct{}),
		stderr:  &syncbuf.Buffer{},
		jwtKeys: map[string]*rsa.PrivateKey{},
	}
	s.cmd = exec.Command(bin, "-info", infoPath, "-log-level", logLevel)
	s.cmd.Stdout = s.stderr
	s.cmd.Stderr = s.stderr
	setProcAttr(s.cmd)
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("vaulttest: starting %s: %v", bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(s.Stop)

	deadline := time.Now().Add(startTimeout)
	for {
		data, err := os.ReadFile(infoPath)
		if err == nil {
			var inf info
			if err := json.Unmarshal(data, &inf); err != nil {
				t.Fatalf("vaulttest: bad info file %s: %v\n%s", infoPath, err, data)
			}
			s.Addr, s.RootToken, s.unsealKey = inf.Addr, inf.RootToken, inf.UnsealKey
			break
		}
		select {
		case <-s.exited:
			t.Fatalf("vaulttest: vaultdev exited before becoming ready (%v); output:\n%s", s.waitErr, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("vaulttest: vaultdev not ready after %v; output:\n%s", startTimeout, s.stderr.String())
		}
	}
	return s
}

// findBinary returns the vaultdev binary path, or skips/fails the test if
// it does not exist.
func findBinary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("VAULTDEV_BIN")
	if bin == "" {
		root, err := repoRoot()
		if err != nil {
			t.Fatalf("vaulttest: %v", err)
		}
		bin = filepath.Join(root, "bin", "vaultdev")
	}
	if _, err := os.Stat(bin); err != nil {
		msg := fmt.Sprintf("vaulttest: vaultdev binary not available (%v); run `make vaultdev` or set VAULTDEV_BIN", err)
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("%s (CI is set: Vault tests must not be skipped)", msg)
		}
		t.Skip(msg)
	}
	return bin
}

// repoRoot walks up from the working directory (the package directory under
// `go test`) to the directory whose go.mod declares the product module.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(data) == rootModule {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod for module %s above the working directory", rootModule)
		}
		dir = parent
	}
}

// modulePath returns the path on the module line of a go.mod file.
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		line, _, _ = strings.Cut(line, "//")
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

// Stop terminates the server with SIGTERM and waits for it to exit. It fails
// the test if vaultdev does not exit cleanly. Stop is registered with
// t.Cleanup by Start and is safe to call more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		select {
		case <-s.exited:
			// Died on its own: that is a failure unless the test
			// already failed for it.
			if !s.t.Failed() {
				s.t.Errorf("vaulttest: vaultdev exited unexpectedly (%v); output:\n%s", s.waitErr, s.stderr.String())
			}
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
			if s.waitErr != nil {
				s.t.Errorf("vaulttest: vaultdev did not exit cleanly on SIGTERM: %v; output:\n%s", s.waitErr, s.stderr.String())
			}
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			s.t.Errorf("vaulttest: vaultdev ignored SIGTERM for 15s and was killed; output:\n%s", s.stderr.String())
		}
		if out := s.stderr.String(); out != "" && os.Getenv("VAULTDEV_LOG_LEVEL") != "" {
			s.t.Logf("vaultdev output:\n%s", out)
		}
	})
}

// Client returns a new API client for the server, authenticated with the
// root token. Each call returns an independent client, so callers may change
// its token or settings freely.
func (s *Server) Client() *api.Client {
	s.t.Helper()
	return s.clientWithToken(s.RootToken)
}

func (s *Server) clientWithToken(token string) *api.Client {
	s.t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = s.Addr
	cfg.MaxRetries = 0
	cfg.Timeout = 30 * time.Second
	c, err := api.NewClient(cfg)
	if err != nil {
		s.t.Fatalf("vaulttest: api client: %v", err)
	}
	// NewClient reads VAULT_TOKEN and friends from the environment; a
	// test must never talk to some other Vault's settings by accident.
	c.ClearNamespace()
	c.SetToken(token)
	return c
}

// MountKV enables a KV secrets engine of the given version (1 or 2) at path
// and, for version 2, waits until it has finished its initial setup and
// accepts requests.
func (s *Server) MountKV(path string, version int) {
	s.t.Helper()
	if version != 1 && version != 2 {
		s.t.Fatalf("vaulttest: MountKV(%q): version must be 1 or 2, not %d", path, version)
	}
	path = strings.Trim(path, "/")
	c := s.Client()
	err := c.Sys().Mount(path, &api.MountInput{
		Type:    "kv",
		Options: map[string]string{"version": strconv.Itoa(version)},
	})
	if err != nil {
		s.t.Fatalf("vaulttest: mounting kv v%d at %q: %v", version, path, err)
	}
	if version == 2 {
		// A new KV v2 mount runs an asynchronous "upgrade" and answers
		// requests with an error until it is done.
		s.eventually("kv v2 mount "+path+" ready", func() error {
			_, err := c.Logical().Read(path + "/config")
			return err
		})
	}
}

// PutKV writes data at path, e.g. "secret/app/db". The KV version is taken
// from the mount that holds path: for KV v2 it writes a new version through
// <mount>/data/<rest>, for KV v1 it writes path directly.
func (s *Server) PutKV(path string, data map[string]any) {
	s.t.Helper()
	path = strings.Trim(path, "/")
	c := s.Client()
	mount, version := s.kvMount(c, path)
	mount = strings.TrimSuffix(mount, "/")
	rest := strings.TrimPrefix(strings.TrimPrefix(path, mount), "/")
	var err error
	if version == 2 {
		_, err = c.KVv2(mount).Put(context.Background(), rest, data)
	} else {
		_, err = c.Logical().Write(path, data)
	}
	if err != nil {
		s.t.Fatalf("vaulttest: writing kv v%d secret %q: %v", version, path, err)
	}
}

// kvMount returns the mount path (with trailing slash) holding path and
// its KV version, using the same endpoint the Vault CLI uses.
func (s *Server) kvMount(c *api.Client, path string) (mount string, version int) {
	s.t.Helper()
	sec, err := c.Logical().Read("sys/internal/ui/mounts/" + path)
	if err != nil || sec == nil {
		s.t.Fatalf("vaulttest: finding the mount of %q: %v", path, err)
	}
	mount, _ = sec.Data["path"].(string)
	if typ, _ := sec.Data["type"].(string); typ != "kv" {
		s.t.Fatalf("vaulttest: %q is on a %q mount, not kv", path, typ)
	}
	version = 1
	if opts, ok := sec.Data["options"].(map[string]any); ok && opts["version"] == "2" {
		version = 2
	}
	return mount, version
}

// WritePolicy creates or replaces the ACL policy name with the given HCL.
func (s *Server) WritePolicy(name, hcl string) {
	s.t.Helper()
	if err := s.Client().Sys().PutPolicy(name, hcl); err != nil {
		s.t.Fatalf("vaulttest: writing policy %q: %v", name, err)
	}
}

// Token creates a child token of the root token with the given policies
// (plus "default", which allows lookup-self, renew-self and revoke-self)
// and returns it.
func (s *Server) Token(policies ...string) string {
	s.t.Helper()
	sec, err := s.Client().Auth().Token().Create(&api.TokenCreateRequest{
		Policies: policies,
		TTL:      "1h",
	})
	if err != nil {
		s.t.Fatalf("vaulttest: creating token with policies %v: %v", policies, err)
	}
	if sec == nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
		s.t.Fatalf("vaulttest: token create returned no token: %+v", sec)
	}
	return sec.Auth.ClientToken
}

// TokenValid reports whether token is still accepted by Vault, by calling
// auth/token/lookup-self with it. A 403 means invalid; any other error
// (server down, sealed) fails the test rather than being taken as an answer.
func (s *Server) TokenValid(token string) bool {
	s.t.Helper()
	_, err := s.clientWithToken(token).Auth().Token().LookupSelf()
	if err == nil {
		return true
	}
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusForbidden {
		return false
	}
	s.t.Fatalf("vaulttest: token lookup-self: %v", err)
	return false
}

// enableAuth enables an auth method of type typ at mount unless a method of
// that type is already mounted there.
func (s *Server) enableAuth(c *api.Client, mount, typ string) {
	s.t.Helper()
	auths, err := c.Sys().ListAuth()
	if err != nil {
		s.t.Fatalf("vaulttest: listing auth methods: %v", err)
	}
	if a, ok := auths[mount+"/"]; ok {
		if a.Type != typ {
			s.t.Fatalf("vaulttest: auth mount %q already has type %q, not %q", mount, a.Type, typ)
		}
		return
	}
	if err := c.Sys().EnableAuthWithOptions(mount, &api.EnableAuthOptions{Type: typ}); err != nil {
		s.t.Fatalf("vaulttest: enabling %s auth at %q: %v", typ, mount, err)
	}
}

// write is Logical().Write that fails the test on error.
func (s *Server) write(c *api.Client, path string, data map[string]any) *api.Secret {
	s.t.Helper()
	sec, err := c.Logical().Write(path, data)
	if err != nil {
		s.t.Fatalf("vaulttest: writing %s: %v", path, err)
	}
	return sec
}

// EnableAppRole enables AppRole auth at "approle" (if not yet enabled),
// creates role with the given token policies and returns its role_id and a
// freshly generated secret_id. Log in with
// auth/approle/login {"role_id": ..., "secret_id": ...}.
func (s *Server) EnableAppRole(role string, policies ...string) (roleID, secretID string) {
	s.t.Helper()
	c := s.Client()
	s.enableAuth(c, "approle", "approle")
	s.write(c, "auth/approle/role/"+role, map[string]any{
		"token_policies": policies,
		"token_ttl":      "1h",
	})
	sec, err := c.Logical().Read("auth/approle/role/" + role + "/role-id")
	if err != nil || sec == nil {
		s.t.Fatalf("vaulttest: reading approle role-id of %q: %v", role, err)
	}
	roleID, _ = sec.Data["role_id"].(string)
	sec = s.write(c, "auth/approle/role/"+role+"/secret-id", nil)
	if sec != nil {
		secretID, _ = sec.Data["secret_id"].(string)
	}
	if roleID == "" || secretID == "" {
		s.t.Fatalf("vaulttest: approle role %q: empty role_id or secret_id", role)
	}
	return roleID, secretID
}

// EnableJWT enables JWT auth at mount (if not yet enabled), trusting an RSA
// key generated in-process, and creates role (type "jwt", user_claim "sub",
// bound_audiences JWTAudience) with the given token policies. It returns a
// function that signs a valid RS256 JWT for the subject sub, expiring in 10
// minutes. Log in with auth/<mount>/login {"role": role, "jwt": ...}.
//
// Several roles may be created on the same mount; they share its key.
func (s *Server) EnableJWT(mount, role string, policies ...string) func(sub string) string {
	s.t.Helper()
	mount = strings.Trim(mount, "/")
	c := s.Client()
	s.enableAuth(c, mount, "jwt")

	s.mu.Lock()
	key := s.jwtKeys[mount]
	s.mu.Unlock()
	if key == nil {
		var err error
		key, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			s.t.Fatalf("vaulttest: generating RSA key: %v", err)
		}
		der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			s.t.Fatalf("vaulttest: encoding RSA public key: %v", err)
		}
		pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		s.write(c, "auth/"+mount+"/config", map[string]any{
			"jwt_validation_pubkeys": []string{string(pubPEM)},
			"bound_issuer":           JWTIssuer,
		})
		s.mu.Lock()
		s.jwtKeys[mount] = key
		s.mu.Unlock()
	}

	s.write(c, "auth/"+mount+"/role/"+role, map[string]any{
		"role_type":       "jwt",
		"user_claim":      "sub",
		"bound_audiences": []string{JWTAudience},
		"token_policies":  policies,
		"token_ttl":       "1h",
	})

	return func(sub string) string {
		now := time.Now()
		tok, err := SignJWT(key, map[string]any{
			"iss": JWTIssuer,
			"sub": sub,
			"aud": JWTAudience,
			"iat": now.Unix(),
			"nbf": now.Add(-time.Minute).Unix(),
			"exp": now.Add(10 * time.Minute).Unix(),
		})
		if err != nil {
			// Only marshalling can fail, and these claims always
			// marshal; panic rather than call t.Fatal from what may
			// be another goroutine.
			panic(err)
		}
		return tok
	}
}

// SignJWT returns a compact RS256-signed JWT with the given claims.
func SignJWT(key *rsa.PrivateKey, claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signingInput := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return signingInput + "." + enc.EncodeToString(sig), nil
}

// EnableKubernetes enables Kubernetes auth at mount (if not yet enabled) and
// creates role bound to serviceAccount in namespace with the given token
// policies. It returns a service account JWT that Vault will accept for that
// role; log in with auth/<mount>/login {"role": role, "jwt": ...}.
//
// Vault's Kubernetes auth verifies a login JWT by calling the Kubernetes
// TokenReview API. EnableKubernetes runs a loopback stand-in for that API
// (stopped by t.Cleanup) which approves exactly the returned token and
// rejects any other, and points the mount's kubernetes_host at it. Calling
// it again for the same mount re-points the mount at a new stand-in, so
// only the latest token of that mount stays valid.
func (s *Server) EnableKubernetes(mount, role, serviceAccount, namespace string, policies ...string) (jwt string) {
	s.t.Helper()
	mount = strings.Trim(mount, "/")
	c := s.Client()
	s.enableAuth(c, mount, "kubernetes")

	// A service account token as a kubelet would mount it (legacy
	// secret-based claims). Vault does not verify its signature (no
	// pem_keys configured); it reads the claims and then asks TokenReview.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		s.t.Fatalf("vaulttest: generating RSA key: %v", err)
	}
	uid := randomUID()
	jwt, err = SignJWT(key, map[string]any{
		"iss":                                    "kubernetes/serviceaccount",
		"sub":                                    "system:serviceaccount:" + namespace + ":" + serviceAccount,
		"kubernetes.io/serviceaccount/namespace": namespace,
		"kubernetes.io/serviceaccount/service-account.name": serviceAccount,
		"kubernetes.io/serviceaccount/service-account.uid":  uid,
		"kubernetes.io/serviceaccount/secret.name":          serviceAccount + "-token",
	})
	if err != nil {
		s.t.Fatalf("vaulttest: signing service account token: %v", err)
	}

	k8s := httptest.NewServer(tokenReviewHandler(jwt, "system:serviceaccount:"+namespace+":"+serviceAccount, uid))
	s.t.Cleanup(k8s.Close)

	s.write(c, "auth/"+mount+"/config", map[string]any{
		"kubernetes_host":      k8s.URL,
		"disable_local_ca_jwt": true,
	})
	s.write(c, "auth/"+mount+"/role/"+role, map[string]any{
		"bound_service_account_names":      []string{serviceAccount},
		"bound_service_account_namespaces": []string{namespace},
		"token_policies":                   policies,
		"token_ttl":                        "1h",
	})
	return jwt
}

// tokenReviewHandler is a minimal Kubernetes API serving only
// POST /apis/authentication.k8s.io/v1/tokenreviews. It authenticates
// exactly validJWT as the given service account user.
func tokenReviewHandler(validJWT, username, uid string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /apis/authentication.k8s.io/v1/tokenreviews", func(w http.ResponseWriter, r *http.Request) {
		var review struct {
			Spec struct {
				Token     string   `json:"token"`
				Audiences []string `json:"audiences"`
			} `json:"spec"`
		}
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// A real API server requires the caller to authenticate; Vault
		// (with no token_reviewer_jwt) uses the login JWT itself.
		if r.Header.Get("Authorization") != "Bearer "+validJWT {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`))
			return
		}
		status := map[string]any{"authenticated": false, "error": "invalid bearer token"}
		if review.Spec.Token == validJWT {
			status = map[string]any{
				"authenticated": true,
				"user": map[string]any{
					"username": username,
					"uid":      uid,
					"groups":   []string{"system:serviceaccounts", "system:authenticated"},
				},
				"audiences": review.Spec.Audiences,
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"kind":       "TokenReview",
			"apiVersion": "authentication.k8s.io/v1",
			"spec":       review.Spec,
			"status":     status,
		})
	})
	return mux
}

// randomUID returns a random UUID-formatted string.
func randomUID() string {
	var b [16]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Seal seals the server (sys/seal with the root token). Every request other
// than sys/seal-status, sys/health, sys/unseal and the like then fails with
// 503 until Unseal.
func (s *Server) Seal() {
	s.t.Helper()
	if err := s.Client().Sys().Seal(); err != nil {
		s.t.Fatalf("vaulttest: sealing: %v", err)
	}
}

// Unseal unseals the server with its unseal key and waits until it is
// active again. Tokens and data survive a seal/unseal cycle.
func (s *Server) Unseal() {
	s.t.Helper()
	c := s.Client()
	st, err := c.Sys().Unseal(s.unsealKey)
	if err != nil {
		s.t.Fatalf("vaulttest: unsealing: %v", err)
	}
	if st.Sealed {
		s.t.Fatalf("vaulttest: still sealed after providing the unseal key: %+v", st)
	}
	s.eventually("vault active after unseal", func() error {
		h, err := c.Sys().Health()
		if err != nil {
			return err
		}
		if h.Sealed || h.Standby {
			return fmt.Errorf("sealed=%v standby=%v", h.Sealed, h.Standby)
		}
		return nil
	})
}

// eventually retries f every 20ms for up to 30s until it returns nil, and
// fails the test with its last error otherwise.
func (s *Server) eventually(what string, f func() error) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("vaulttest: waiting for %s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// EnableDatabase mounts Vault's database secrets engine at "database",
// connected with the PostgreSQL plugin to the server at host:port as user
// (which must log in over TCP without a password, as pgtest's superuser
// does), with a role "n8n" whose users are created with a password and a
// VALID UNTIL at their lease's end, and live defaultTTL, at most maxTTL
// ("4s", "1m"). It writes the policy "n8n-db", which reads their
// credentials and may revoke leases.
func (s *Server) EnableDatabase(host string, port int, user, defaultTTL, maxTTL string) {
	s.t.Helper()
	c := s.Client()
	if err := c.Sys().Mount("database", &api.MountInput{Type: "database"}); err != nil {
		s.t.Fatalf("vaulttest: mounting the database engine: %v", err)
	}
	s.write(c, "database/config/pg", map[string]any{
		"plugin_name":    "postgresql-database-plugin",
		"connection_url": fmt.Sprintf("postgresql://{{username}}:{{password}}@%s:%d/postgres?sslmode=disable", host, port),
		"username":       user,
		"password":       "unused-trusted-on-loopback",
		"allowed_roles":  "n8n",
	})
	s.write(c, "database/roles/n8n", map[string]any{
		"db_name":             "pg",
		"creation_statements": []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`},
		"default_ttl":         defaultTTL,
		"max_ttl":             maxTTL,
	})
	s.WritePolicy("n8n-db", `path "database/creds/n8n" { capabilities = ["read"] }
path "sys/leases/revoke" { capabilities = ["update"] }`)
}

// MountLeasedKV mounts Vault's leased key-value backend (the one "vault
// server -dev -dev-leased-kv" mounts) at path: every read of a secret
// returns a lease, renewable when the secret holds a "ttl" key (its
// duration, such as "4s"), extended at most to maxTTL from its creation
// (the mount's max_lease_ttl, such as "12s"). Revoking a lease removes
// nothing: the data stays. Dynamic-secret leases without a database.
func (s *Server) MountLeasedKV(path, maxTTL string) {
	s.t.Helper()
	path = strings.Trim(path, "/")
	c := s.Client()
	if err := c.Sys().Mount(path, &api.MountInput{Type: "leased-kv", Config: api.MountConfigInput{MaxLeaseTTL: maxTTL}}); err != nil {
		s.t.Fatalf("vaulttest: mounting leased-kv at %q (a vaultdev built before it had the leased backend?): %v", path, err)
	}
}

// Write writes data at path with the root token, for a backend without a
// helper of its own (the leased key-value one).
func (s *Server) Write(path string, data map[string]any) {
	s.t.Helper()
	s.write(s.Client(), path, data)
}
