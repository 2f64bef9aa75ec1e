// Package vault is the provider for vault:// references, on HashiCorp
// Vault's Go client (github.com/hashicorp/vault/api).
//
// A reference's path is the logical path as `vault kv get` takes it
// (secret/n8n/core). The provider asks Vault once per mount what is mounted
// there (sys/internal/ui/mounts/<path>): on a KV v2 mount it reads
// <mount>/data/<rest> (a path already naming …/data/… is read as it is),
// with ?version=N; on KV v1 and every other engine (dynamic database
// credentials, …) it does a plain logical read and keeps the lease.
//
// It logs in at most once, lazily on the first fetch, so that a sealed or
// unreachable Vault is retried by the resolver under the deadline: with a
// token (VAULT_TOKEN, VAULT_TOKEN_FILE, or <secrets dir>/vault_token),
// AppRole, JWT or Kubernetes auth. A token it obtained by logging in is
// revoked by Close, before the child is exec'd, unless a secret read with it
// carries a lease (dynamic database credentials): Vault revokes a token's
// leases with it, so that token is left to expire with its TTL instead.
//
// Status codes map to the core's sentinels: 403 to ErrPermission, 404 to
// ErrNotFound, 429, 5xx (a sealed or standby Vault answers 503) and
// connection errors to ErrUnavailable, a failed login to ErrAuth. Errors
// carry Vault's own error strings, which never hold secret values.
package vault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/vault/api"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// CredentialVars are the variables this provider reads; the injector removes
// them from the child unless passed through.
var CredentialVars = []string{"VAULT_*"}

// Codes of this provider's log events.
const (
	// CodeLogin: logged in (AppRole, JWT, Kubernetes); ttl_s is the token's TTL.
	CodeLogin = "VAULT_LOGIN"
	// CodeTokenRevoked: the login token was revoked before exec.
	CodeTokenRevoked = "VAULT_TOKEN_REVOKED"
	// CodeTokenKept: the login token was not revoked, because leased
	// (dynamic) secrets were read with it; it expires with its TTL.
	CodeTokenKept = "VAULT_TOKEN_KEPT"
	// CodeMount: what is mounted at a path (debug).
	CodeMount = "VAULT_MOUNT"
)

// DefaultJWTFile is where Kubernetes mounts a pod's service-account token.
const DefaultJWTFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// Options configure a Provider.
type Options struct {
	// Getenv reads the environment (VAULT_* variables); nil means os.Getenv.
	Getenv func(string) string
	// SecretsDir holds the default credential files vault_token,
	// vault_role_id and vault_secret_id.
	SecretsDir string
	// AllowHTTP permits plain http:// to a Vault that is not on loopback.
	AllowHTTP bool
	// Logger receives debug events (login, mount detection, revocation).
	Logger *slog.Logger
}

// Provider reads secrets from Vault. It is safe for concurrent use.
type Provider struct {
	client *api.Client
	auth   auth
	log    *slog.Logger

	loginMu  sync.Mutex
	loggedIn bool  // a token is set on the client
	revoke   bool  // the token came from a login: revoke it in Close
	loginErr error // a permanent login failure, returned to every fetch

	leases atomic.Int64 // secrets read with a lease: they die with the token

	mountMu  sync.Mutex
	mounts   map[string]mount       // by mount path ("secret/")
	inflight map[string]*mountProbe // by first path segment
}

var (
	_ inject.Provider = (*Provider)(nil)
	_ inject.Closer   = (*Provider)(nil)
)

// mount is what Vault reports about the mount holding a path.
type mount struct {
	path    string // with trailing slash
	typ     string
	version string // KV version, "1" or "2", for kv mounts
}

type mountProbe struct {
	done chan struct{}
	m    mount
	err  error
}

// New returns a provider configured from the environment. It does no
// network I/O. Errors wrap inject.ErrNotConfigured and name the variable.
func New(opts Options) (*Provider, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	addr := getenv("VAULT_ADDR")
	if addr == "" {
		return nil, fmt.Errorf("vault: %w: VAULT_ADDR is not set", inject.ErrNotConfigured)
	}
	if err := inject.CheckEndpoint(addr, opts.AllowHTTP, "VAULT_ADDR"); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		return nil, fmt.Errorf("vault: %w: %v", inject.ErrNotConfigured, cfg.Error)
	}
	cfg.Address = addr
	cfg.MaxRetries = 0 // the resolver retries, under its deadline
	tls := &api.TLSConfig{
		CACert:        getenv("VAULT_CACERT"),
		CAPath:        getenv("VAULT_CAPATH"),
		ClientCert:    getenv("VAULT_CLIENT_CERT"),
		ClientKey:     getenv("VAULT_CLIENT_KEY"),
		TLSServerName: getenv("VAULT_TLS_SERVER_NAME"),
		Insecure:      isTrue(getenv("VAULT_SKIP_VERIFY")),
	}
	if err := cfg.ConfigureTLS(tls); err != nil {
		return nil, fmt.Errorf("vault: %w: TLS settings (VAULT_CACERT, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY): %v", inject.ErrNotConfigured, err)
	}
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault: %w: %v", inject.ErrNotConfigured, err)
	}
	client.ClearToken()
	if ns := getenv("VAULT_NAMESPACE"); ns != "" {
		client.SetNamespace(ns)
	} else {
		client.ClearNamespace()
	}
	a, err := authFromEnv(getenv, opts.SecretsDir)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Provider{client: client, auth: a, log: log, mounts: map[string]mount{}, inflight: map[string]*mountProbe{}}, nil
}

func isTrue(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// Method returns the auth method in use: token, approle, jwt or kubernetes.
func (p *Provider) Method() string { return p.auth.method }

// Fetch reads the secret that ref names.
func (p *Provider) Fetch(ctx context.Context, ref inject.Reference) (inject.Payload, error) {
	if err := p.login(ctx); err != nil {
		return inject.Payload{}, err
	}
	m, err := p.mountOf(ctx, ref.Path)
	if err != nil {
		return inject.Payload{}, err
	}
	readPath := ref.Path
	var params url.Values
	kv2 := m.typ == "kv" && m.version == "2"
	if kv2 {
		rest := strings.TrimPrefix(ref.Path, m.path)
		if !strings.HasPrefix(rest, "data/") {
			readPath = m.path + "data/" + rest
		}
		if ref.Version != "" {
			params = url.Values{"version": {ref.Version}}
		}
	} else if ref.Version != "" {
		return inject.Payload{}, fmt.Errorf("vault: read %s: %w: version=%s needs a KV v2 mount, and %s is %s",
			ref.Path, inject.ErrBadReference, ref.Version, m.path, m.describe())
	}
	resp, err := p.client.Logical().ReadRawWithDataWithContext(ctx, readPath, params)
	if resp != nil {
		defer resp.Body.Close()
	}
	if resp != nil && resp.StatusCode == 404 {
		what := "no secret at this path"
		if ref.Version != "" {
			what = "no version " + ref.Version + " (or it was deleted or destroyed)"
		}
		return inject.Payload{}, fmt.Errorf("vault: read %s: %w: %s", ref.Path, inject.ErrNotFound, what)
	}
	if err != nil {
		return inject.Payload{}, classify("read "+ref.Path, err)
	}
	if resp.StatusCode == 204 {
		return inject.Payload{}, fmt.Errorf("vault: read %s: %w: empty response", ref.Path, inject.ErrNotFound)
	}
	sec, err := api.ParseSecret(io.LimitReader(resp.Body, 8<<20))
	if err != nil || sec == nil {
		return inject.Payload{}, fmt.Errorf("vault: read %s: %w: response is not a Vault secret", ref.Path, inject.ErrUnavailable)
	}
	data := sec.Data
	var version string
	if kv2 {
		inner, ok := data["data"].(map[string]any)
		if !ok {
			return inject.Payload{}, fmt.Errorf("vault: read %s: %w: the version holds no data (deleted or destroyed)", ref.Path, inject.ErrNotFound)
		}
		if md, ok := data["metadata"].(map[string]any); ok {
			version = fmt.Sprint(md["version"])
		}
		data = inner
	}
	b, err := json.Marshal(data)
	if err != nil {
		return inject.Payload{}, fmt.Errorf("vault: read %s: %w: cannot encode the secret's data", ref.Path, inject.ErrBadData)
	}
	pl := inject.Payload{Value: inject.NewSecret(b), Object: true, Version: version}
	if sec.LeaseID != "" {
		pl.Lease = &inject.Lease{ID: sec.LeaseID, Duration: sec.LeaseDuration, Renewable: sec.Renewable}
		p.leases.Add(1)
	}
	return pl, nil
}

func (m mount) describe() string {
	if m.typ == "kv" {
		return "KV v" + m.version
	}
	return "a " + m.typ + " mount"
}

// mountOf returns the mount holding path, asking Vault once per mount.
// Lookups for paths sharing a first segment wait for one another, so that
// fifty paths under secret/ cost one lookup, not fifty.
func (p *Provider) mountOf(ctx context.Context, path string) (mount, error) {
	seg, _, _ := strings.Cut(path, "/")
	for {
		p.mountMu.Lock()
		if m, ok := p.cached(path); ok {
			p.mountMu.Unlock()
			return m, nil
		}
		probe := p.inflight[seg]
		if probe == nil {
			probe = &mountProbe{done: make(chan struct{})}
			p.inflight[seg] = probe
			p.mountMu.Unlock()
			probe.m, probe.err = p.lookupMount(ctx, path)
			p.mountMu.Lock()
			if probe.err == nil && probe.m.path != "" {
				p.mounts[probe.m.path] = probe.m
			}
			delete(p.inflight, seg)
			p.mountMu.Unlock()
			close(probe.done)
			return probe.m, probe.err
		}
		p.mountMu.Unlock()
		select {
		case <-probe.done:
		case <-ctx.Done():
			return mount{}, fmt.Errorf("vault: mount lookup for %s: %w", path, ctx.Err())
		}
		if probe.err != nil && !errors.Is(probe.err, inject.ErrUnavailable) {
			return mount{}, probe.err
		}
		// Either the other lookup found a mount (cached, unless it is not
		// ours: nested mounts) or it failed transiently: look again.
		p.mountMu.Lock()
		m, ok := p.cached(path)
		p.mountMu.Unlock()
		if ok {
			return m, nil
		}
		if probe.err != nil {
			return mount{}, probe.err
		}
	}
}

// cached returns the longest known mount that is a prefix of path. The
// caller holds mountMu.
func (p *Provider) cached(path string) (mount, bool) {
	var best mount
	for mp, m := range p.mounts {
		if strings.HasPrefix(path+"/", mp) && len(mp) > len(best.path) {
			best = m
		}
	}
	return best, best.path != ""
}

func (p *Provider) lookupMount(ctx context.Context, path string) (mount, error) {
	resp, err := p.client.Logical().ReadRawWithContext(ctx, "sys/internal/ui/mounts/"+path)
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		var re *api.ResponseError
		if errors.As(err, &re) && (re.StatusCode == 400 || re.StatusCode == 404) {
			return mount{}, fmt.Errorf("vault: read %s: %w: no secrets engine is mounted at this path", path, inject.ErrNotFound)
		}
		if errors.As(err, &re) && re.StatusCode == 403 {
			// Vault answers 403 both when nothing is mounted there and
			// when the token may read nothing under the mount. A plain
			// read tells the two apart (404 or 403), so fall back to one.
			return mount{typ: "unknown"}, nil
		}
		return mount{}, classify("mount lookup for "+path, err)
	}
	sec, err := api.ParseSecret(resp.Body)
	if err != nil || sec == nil || sec.Data == nil {
		return mount{}, fmt.Errorf("vault: mount lookup for %s: %w: unexpected response", path, inject.ErrUnavailable)
	}
	m := mount{}
	m.path, _ = sec.Data["path"].(string)
	m.typ, _ = sec.Data["type"].(string)
	if opts, ok := sec.Data["options"].(map[string]any); ok {
		m.version, _ = opts["version"].(string)
	}
	if m.typ == "generic" {
		m.typ = "kv"
	}
	if m.typ == "kv" && m.version == "" {
		m.version = "1"
	}
	if m.path == "" || !strings.HasPrefix(path+"/", m.path) {
		return mount{}, fmt.Errorf("vault: read %s: %w: no secrets engine is mounted at this path", path, inject.ErrNotFound)
	}
	p.log.Debug("vault mount", "code", CodeMount, "mount", m.path, "type", m.typ, "version", m.version)
	return m, nil
}

// classify maps an error of the Vault client to the core's sentinels. The
// message keeps Vault's error strings (never values) and the status code.
func classify(op string, err error) error {
	var re *api.ResponseError
	if errors.As(err, &re) {
		msg := fmt.Sprintf("HTTP %d", re.StatusCode)
		if !re.RawError && len(re.Errors) > 0 {
			msg += ": " + trunc(strings.Join(re.Errors, "; "), 200)
		}
		switch {
		case re.StatusCode == 403:
			return fmt.Errorf("vault: %s: %w (%s)", op, inject.ErrPermission, msg)
		case re.StatusCode == 404:
			return fmt.Errorf("vault: %s: %w (%s)", op, inject.ErrNotFound, msg)
		case re.StatusCode == 429 || re.StatusCode == 412 || re.StatusCode >= 500:
			return fmt.Errorf("vault: %s: %w (%s)", op, inject.ErrUnavailable, msg)
		default:
			return fmt.Errorf("vault: %s: %s", op, msg)
		}
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("vault: %s: %w", op, err)
	}
	// An untrusted certificate will not fix itself: a settings error.
	var cve *tls.CertificateVerificationError
	var hne x509.HostnameError
	var uae x509.UnknownAuthorityError
	if errors.As(err, &cve) || errors.As(err, &hne) || errors.As(err, &uae) {
		return fmt.Errorf("vault: %s: %w: TLS: the server's certificate is not trusted (set VAULT_CACERT, or VAULT_TLS_SERVER_NAME): %v",
			op, inject.ErrNotConfigured, err)
	}
	// Connection refused, reset, timeouts, DNS: worth another attempt.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("vault: %s: %w: %v", op, inject.ErrUnavailable, err)
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// readCredential returns the value of variable name, else the contents of
// the file named by name+"_FILE", else of defaultFile (when it exists),
// trimmed of surrounding white space. source says where it came from.
func readCredential(getenv func(string) string, name, defaultFile string) (value, source string, err error) {
	if v := getenv(name); v != "" {
		return v, name, nil
	}
	file := getenv(name + "_FILE")
	if file == "" {
		if defaultFile == "" {
			return "", "", nil
		}
		if _, err := os.Stat(defaultFile); err != nil {
			return "", "", nil
		}
		file = defaultFile
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", "", fmt.Errorf("vault: %w: read %s for %s: %v", inject.ErrNotConfigured, file, name, errors.Unwrap(err))
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", "", fmt.Errorf("vault: %w: %s (for %s) is empty", inject.ErrNotConfigured, file, name)
	}
	return v, file, nil
}

func inDir(dir, name string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, name)
}
