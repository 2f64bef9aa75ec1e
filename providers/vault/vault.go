// Package vault is the provider for vault:// references, on HashiCorp
// Vault's Go client (github.com/hashicorp/vault/api).
//
// A reference's path is the logical path as `vault kv get` takes it
// (secret/n8n/core). The provider asks Vault once per mount what is mounted
// there (sys/internal/ui/mounts/<path>): on a KV v2 mount it reads
// <mount>/data/<rest> (a path already naming …/data/… is read as it is),
// with ?version=N; on KV v1 and every other engine (dynamic database
// credentials, …) it does a plain logical read and keeps the lease. A path
// that names a mount itself (vault://secret) is a bad reference.
//
// Round trips: while a mount is not yet known, the read of
// <first segment>/data/<rest> (where the secret is when the mount is KV v2
// at the first segment, the common case) is sent together with the mount
// lookup. When the lookup confirms that path, its answer is the read's, so
// that a token user's KV v2 secret costs one round trip deep; otherwise the
// guess is dropped unread, whatever it said (a 403 or 404 there is no
// failure: nothing is logged or retried), and the right path is read.
//
// It logs in at most once, lazily on the first fetch, so that a sealed or
// unreachable Vault is retried by the resolver under the deadline: with a
// token (VAULT_TOKEN, VAULT_TOKEN_FILE, or <secrets dir>/vault_token),
// AppRole, JWT or Kubernetes auth. A token it obtained by logging in is
// revoked by Close, before the child is exec'd, unless a secret read with it
// carries a lease (dynamic database credentials): Vault revokes a token's
// leases with it, so that token is left to expire with its TTL instead.
//
// The client is configured from what New validated, never from the
// library's own reading of the environment ([LibraryVariables] says what
// becomes of each variable it reads); every request's URL, and the proxy it
// goes through, pass inject.CheckEndpoint's plain-http rule, redirects
// included. Response wrapping is off.
//
// Errors wrap the core's sentinels: only network faults, 5xx, 412, 429 and a
// sealed or standby Vault are transient (ErrUnavailable); 403 is
// ErrPermission, or ErrAuth when Vault says the token is invalid; 404 is
// ErrNotFound (naming a deleted or destroyed version, or a missing mount);
// any other 4xx is ErrBadReference; a refused login is ErrAuth; TLS and
// address mistakes are ErrNotConfigured. Messages carry Vault's own error
// strings on one line, which never hold secret values.
package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/hashicorp/vault/api"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// CredentialVars are the variables this provider reads; the injector removes
// them from the child unless passed through.
var CredentialVars = []string{"VAULT_*"}

// DefaultJWTFile is where Kubernetes mounts a pod's service-account token.
const DefaultJWTFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// maxAnswer bounds the size of one answer from Vault.
const maxAnswer = 8 << 20

// Options configure a Provider.
type Options struct {
	// Getenv reads the environment (VAULT_* variables, and the standard
	// proxy variables); nil means os.Getenv.
	Getenv func(string) string
	// SecretsDir holds the default credential files vault_token,
	// vault_role_id and vault_secret_id.
	SecretsDir string
	// AllowHTTP permits plain http:// to a Vault that is not on loopback.
	AllowHTTP bool
	// Logger receives the provider's events (login, mount detection,
	// revocation, Vault's warnings, ignored settings).
	Logger *slog.Logger
}

// Provider reads secrets from Vault. It is safe for concurrent use.
type Provider struct {
	client    *api.Client
	transport *transport
	auth      auth
	log       *slog.Logger

	namespace string // VAULT_NAMESPACE, checked against the server once

	loginMu   sync.Mutex
	tok       tokenState
	lastLogin loginAttempt
	refused   map[string]refusal // by digest of the credentials Vault refused
	loginLost bool               // a login attempt failed after it may have reached Vault
	logins    int
	wrapped   struct{ token, secretID string } // the last wrapping token unwrapped
	usesTold  bool                             // a limited token was reported in supervise mode

	leases atomic.Int64 // secrets read with a lease: they die with the token

	mountMu  sync.Mutex
	mounts   map[string]mount       // by mount path ("secret/")
	inflight map[string]*mountProbe // by first path segment
}

var (
	_ inject.Provider       = (*Provider)(nil)
	_ inject.Closer         = (*Provider)(nil)
	_ inject.RequestCounter = (*Provider)(nil)
)

// mount is what Vault reports about the mount holding a path.
type mount struct {
	path    string // with trailing slash, relative to VAULT_NAMESPACE; "" when unknown
	typ     string // "kv", "database", …, or "unknown" when Vault would not say
	version string // KV version, "1" or "2", for kv mounts
}

func (m mount) isKV2() bool { return m.typ == "kv" && m.version == "2" }

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
	cc, err := readClientConfig(getenv, opts.AllowHTTP)
	if err != nil {
		return nil, settingsHint(fmt.Errorf("vault: %w", err))
	}
	client, tr, err := newClient(cc)
	if err != nil {
		return nil, settingsHint(fmt.Errorf("vault: %w", err))
	}
	a, err := authFromEnv(getenv, opts.SecretsDir)
	if err != nil {
		return nil, settingsHint(err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, name := range cc.ignored {
		log.Warn("vault setting ignored", "code", CodeEnvIgnored, "var", name,
			"hint", "n8n-secrets configures Vault's client itself; see the README's list of VAULT_* variables")
	}
	if cc.skipVerify {
		log.Warn("vault server certificate not verified", "code", CodeTLSVerifyOff, "var", "VAULT_SKIP_VERIFY")
	}
	return &Provider{client: client, transport: tr, auth: a, log: log, namespace: cc.namespace, refused: map[string]refusal{},
		mounts: map[string]mount{}, inflight: map[string]*mountProbe{}}, nil
}

// Method returns the auth method in use: token, approle, jwt or kubernetes.
func (p *Provider) Method() string { return p.auth.method }

// Requests returns the number of requests sent to Vault so far: logins,
// mount lookups, reads (speculative ones included) and revocations.
func (p *Provider) Requests() int64 { return p.transport.sent.Load() }

// Fetch reads the secret that ref names.
func (p *Provider) Fetch(ctx context.Context, ref inject.Reference) (inject.Payload, error) {
	pl, err := p.fetch(ctx, ref)
	return pl, settingsHint(err)
}

// settingsHint gives a settings error without a hint of its own one about
// Vault's settings (rather than the core's, which speaks of every store).
func settingsHint(err error) error {
	if errors.Is(err, inject.ErrNotConfigured) && inject.HintOf(err) == "" {
		return inject.WithHint(err, "check Vault's settings: VAULT_ADDR (or VAULT_AGENT_ADDR), the credentials (VAULT_TOKEN, "+
			"VAULT_TOKEN_FILE, AppRole ids or a JWT), TLS (VAULT_CACERT, VAULT_TLS_SERVER_NAME), proxies; see the README's Vault section")
	}
	return err
}

func (p *Provider) fetch(ctx context.Context, ref inject.Reference) (inject.Payload, error) {
	gen, err := p.login(ctx)
	if err != nil {
		return inject.Payload{}, err
	}
	pl, err := p.read(ctx, ref)
	p.noteRefused(gen, err)
	return pl, err
}

func (p *Provider) read(ctx context.Context, ref inject.Reference) (inject.Payload, error) {
	m, known := p.knownMount(ref.Path())
	var g *guess
	if !known && p.speculate() {
		g = p.startGuess(ctx, ref)
	}
	if !known {
		var err error
		if m, err = p.mountOf(ctx, ref.Path()); err != nil {
			g.discard()
			return inject.Payload{}, err
		}
	}
	path, params, err := readPath(m, ref)
	if err != nil {
		g.discard()
		return inject.Payload{}, err
	}
	var resp *api.Response
	if g.matches(path, params) {
		resp, err = g.wait(ctx)
	} else {
		g.discard()
		resp, err = p.client.Logical().ReadRawWithDataWithContext(ctx, path, params)
	}
	return p.payload(ref, m, resp, err)
}

// speculate reports whether a read may be sent before the mount is known:
// only with a token whose uses are known not to be limited (a login token
// whose answer said num_uses 0), as a request Vault refuses still spends a
// use. A token given by the user may be limited, and there is no way to
// know it without spending a use (lookup-self is a request like any
// other): its secrets cost one round trip more, the mount lookup first,
// as with Vault's own CLI.
func (p *Provider) speculate() bool {
	p.loginMu.Lock()
	defer p.loginMu.Unlock()
	return p.tok.unlimited
}

// readPath returns the path and query to read for ref on mount m: on KV v2
// <mount>/data/<rest> (a path already naming …/data/… as it is) with
// ?version=N, else the path itself. A path that is the mount itself names
// no secret, and version=N needs KV v2: both are bad references.
func readPath(m mount, ref inject.Reference) (string, url.Values, error) {
	if m.path != "" && ref.Path()+"/" == m.path {
		return "", nil, inject.WithHint(
			fmt.Errorf("vault: read %s: %w: this is the path of the mount %s itself, not of a secret in it", ref.Path(), inject.ErrBadReference, m.path),
			"name a secret under the mount, as vault kv get does: vault://"+m.path+"<name>")
	}
	var params url.Values
	if ref.Version() != "" {
		params = url.Values{"version": {ref.Version()}}
	}
	switch {
	case m.isKV2():
		rest := strings.TrimPrefix(ref.Path(), m.path)
		if strings.HasPrefix(rest, "data/") {
			return ref.Path(), params, nil
		}
		return m.path + "data/" + rest, params, nil
	case ref.Version() != "" && m.typ != "unknown":
		return "", nil, fmt.Errorf("vault: read %s: %w: version=%s needs a KV v2 mount, and %s is %s",
			ref.Path(), inject.ErrBadReference, ref.Version(), m.path, m.describe())
	default:
		return ref.Path(), params, nil
	}
}

func (m mount) describe() string {
	if m.typ == "kv" {
		return "KV v" + m.version
	}
	return "a " + m.typ + " mount"
}

// guessPath returns where ref's secret is if its mount is KV v2 at the
// path's first segment (secret/n8n/core: secret/data/n8n/core), and false
// when the path has a single segment.
func guessPath(ref inject.Reference) (string, url.Values, bool) {
	seg, rest, _ := strings.Cut(ref.Path(), "/")
	if rest == "" {
		return "", nil, false
	}
	path, params, err := readPath(mount{path: seg + "/", typ: "kv", version: "2"}, ref)
	return path, params, err == nil
}

// guess is a read sent before the mount is known, at guessPath.
type guess struct {
	path    string
	params  url.Values
	done    chan struct{} // closed when resp and err are set, or the guess was never sent
	resp    *api.Response
	err     error
	dropped chan struct{} // closed by discard
	once    sync.Once
}

// startGuess sends the read at guessPath in the background, or returns nil.
// Over https it waits for the first connection to Vault to be up (see
// transport.connected), unless it is dropped first.
func (p *Provider) startGuess(ctx context.Context, ref inject.Reference) *guess {
	path, params, ok := guessPath(ref)
	if !ok {
		return nil
	}
	g := &guess{path: path, params: params, done: make(chan struct{}), dropped: make(chan struct{})}
	go func() {
		defer close(g.done)
		// Once a connection is up, the guess is sent whatever happened
		// meanwhile: the mount lookup's answer comes over a connection, so
		// a guess that loses the race to its own goroutine's start is sent
		// all the same, and a run's requests do not vary with scheduling.
		select {
		case <-p.transport.connected:
		default:
			select {
			case <-p.transport.connected:
			case <-g.dropped:
				return
			case <-ctx.Done():
				g.err = ctx.Err()
				return
			}
		}
		g.resp, g.err = p.client.Logical().ReadRawWithDataWithContext(ctx, path, params)
	}()
	return g
}

// matches reports whether the guess is the very read that path and params
// ask for: then its answer is the read's.
func (g *guess) matches(path string, params url.Values) bool {
	return g != nil && g.path == path && maps.EqualFunc(g.params, params, slices.Equal)
}

// wait returns the guess's answer.
func (g *guess) wait(ctx context.Context) (*api.Response, error) {
	select {
	case <-g.done:
		return g.resp, g.err
	case <-ctx.Done():
		g.discard()
		return nil, ctx.Err()
	}
}

// discard drops the guess, unsent if it still waits, or its answer unread
// once it arrives, whatever it says: it is not the secret's path, so a 403
// or 404 there means nothing.
func (g *guess) discard() {
	if g == nil {
		return
	}
	g.once.Do(func() {
		close(g.dropped)
		go func() {
			<-g.done
			if g.resp != nil {
				// Drained, so that the connection can serve another request.
				_, _ = io.Copy(io.Discard, io.LimitReader(g.resp.Body, 64<<10))
				g.resp.Body.Close()
			}
		}()
	})
}

// payload turns Vault's answer to the read for ref (on mount m) into the
// secret's data, or the error that says what went wrong.
func (p *Provider) payload(ref inject.Reference, m mount, resp *api.Response, err error) (inject.Payload, error) {
	if resp != nil {
		defer resp.Body.Close()
	}
	op := "read " + ref.Path()
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		return inject.Payload{}, p.notFound(ref, m, re, resp)
	}
	if err != nil {
		return inject.Payload{}, classify(op, err)
	}
	if resp.StatusCode == http.StatusNoContent {
		return inject.Payload{}, fmt.Errorf("vault: %s: %w: empty response", op, inject.ErrNotFound)
	}
	sec, err := parseAnswer(op, resp)
	if err != nil {
		return inject.Payload{}, err
	}
	p.warn(ref, sec.Warnings)
	data := sec.Data
	var version string
	if m.isKV2() {
		inner, ok := data["data"].(map[string]any)
		if !ok {
			return inject.Payload{}, fmt.Errorf("vault: %s: %w: the version holds no data (deleted or destroyed)", op, inject.ErrNotFound)
		}
		if md, ok := data["metadata"].(map[string]any); ok {
			version = fmt.Sprint(md["version"])
		}
		data = inner
	}
	b, err := json.Marshal(data)
	if err != nil {
		return inject.Payload{}, fmt.Errorf("vault: %s: %w: cannot encode the secret's data", op, inject.ErrBadData)
	}
	pl := inject.Payload{Value: inject.NewSecret(b), Object: true, Version: version}
	if sec.LeaseID != "" {
		pl.Lease = &inject.Lease{ID: sec.LeaseID, Duration: sec.LeaseDuration, Renewable: sec.Renewable}
		p.leases.Add(1)
	}
	return pl, nil
}

// notFound says why Vault answered 404 to the read for ref: no engine
// mounted there, a KV v2 version deleted or destroyed, or no such secret.
func (p *Provider) notFound(ref inject.Reference, m mount, re *api.ResponseError, resp *api.Response) error {
	op := "read " + ref.Path()
	if noRoute(re) {
		at := m.path
		if at == "" {
			seg, _, _ := strings.Cut(ref.Path(), "/")
			at = seg + "/"
		}
		return inject.WithHint(fmt.Errorf("vault: %s: %w: no secrets engine is mounted at %s", op, inject.ErrNotFound, at),
			"correct the path's first segment (the mount), or enable an engine there: vault secrets enable -path="+strings.TrimSuffix(at, "/")+" kv-v2")
	}
	if resp != nil {
		// A KV v2 version that was deleted or destroyed still has its
		// metadata, which Vault sends with the 404.
		if sec, err := api.ParseSecret(io.LimitReader(resp.Body, maxAnswer)); err == nil && sec != nil {
			p.warn(ref, sec.Warnings)
			if md, ok := sec.Data["metadata"].(map[string]any); ok {
				v := fmt.Sprint(md["version"])
				if destroyed, _ := md["destroyed"].(bool); destroyed {
					return inject.WithHint(fmt.Errorf("vault: %s: %w: version %s was destroyed", op, inject.ErrNotFound, v),
						"a destroyed version cannot be restored: write a new version, or pin another with ?version=N")
				}
				if at, _ := md["deletion_time"].(string); at != "" {
					// Deleted, not destroyed: it can be restored.
					return inject.WithHint(fmt.Errorf("vault: %s: %w: %w: version %s was deleted at %s", op, inject.ErrNotFound, inject.ErrSoftDeleted, v, at),
						"restore it with vault kv undelete -versions="+v+", write a new version, or pin another with ?version=N")
				}
			}
		}
	}
	what := "no secret at this path"
	if ref.Version() != "" {
		what = "no version " + ref.Version() + " of this secret"
	}
	return fmt.Errorf("vault: %s: %w: %s", op, inject.ErrNotFound, what)
}

// parseAnswer reads a successful answer of at most maxAnswer bytes. A read
// cut short is transient; an answer too large, not Vault's, or wrapped
// (response wrapping forced on the path) is not, nor a redirect that
// VAULT_DISABLE_REDIRECTS kept the client from following.
func parseAnswer(op string, resp *api.Response) (*api.Secret, error) {
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, fmt.Errorf("vault: %s: %w: Vault answered with a redirect (HTTP %d), and VAULT_DISABLE_REDIRECTS is set",
			op, inject.ErrNotConfigured, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("vault: %s: %w: reading the answer: %v", op, inject.ErrUnavailable, err)
	}
	if len(body) > maxAnswer {
		return nil, fmt.Errorf("vault: %s: %w: Vault's answer is larger than %d MiB", op, inject.ErrBadData, maxAnswer>>20)
	}
	sec, err := api.ParseSecret(bytes.NewReader(body))
	if err != nil || sec == nil {
		return nil, fmt.Errorf("vault: %s: %w: the answer is not a Vault secret", op, inject.ErrBadData)
	}
	if sec.WrapInfo != nil {
		return nil, fmt.Errorf("vault: %s: %w: Vault wrapped its answer (a policy forcing response wrapping on this path?)", op, inject.ErrBadData)
	}
	return sec, nil
}

// warn logs the warnings Vault sent with its answer to the read for ref.
func (p *Provider) warn(ref inject.Reference, warnings []string) {
	for _, w := range warnings {
		p.log.Warn("vault warning", "code", CodeResponseWarning, "path", ref.Path(), "warning", trunc(oneLine(w), 300))
	}
}

// knownMount returns the mount holding path when it is cached.
func (p *Provider) knownMount(path string) (mount, bool) {
	p.mountMu.Lock()
	defer p.mountMu.Unlock()
	return p.cached(path)
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

// lookupMount asks Vault which mount holds path. When Vault will not say
// (403: nothing mounted there, or nothing the token may read under it; 404
// or 400: an old Vault without the endpoint), the mount is "unknown" and a
// plain read of the path tells the cases apart.
func (p *Provider) lookupMount(ctx context.Context, path string) (mount, error) {
	op := "mount lookup for " + path
	resp, err := p.client.Logical().ReadRawWithContext(ctx, "sys/internal/ui/mounts/"+path)
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		var re *api.ResponseError
		if errors.As(err, &re) && ((re.StatusCode == http.StatusForbidden && !invalidToken(re)) ||
			re.StatusCode == http.StatusNotFound || re.StatusCode == http.StatusBadRequest) {
			return mount{typ: "unknown"}, nil
		}
		return mount{}, classify(op, err)
	}
	sec, err := parseAnswer(op, resp)
	if err != nil && !errors.Is(err, inject.ErrBadData) {
		return mount{}, err
	}
	if err != nil || sec.Data == nil {
		return mount{}, fmt.Errorf("vault: %s: %w: the answer is not Vault's: check %s", op, inject.ErrNotConfigured, p.transport.addrVar)
	}
	m := mount{}
	mp, _ := sec.Data["path"].(string)
	m.path = relativeMount(mp, path)
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
	if m.path == "" {
		seg, _, _ := strings.Cut(path, "/")
		return mount{}, fmt.Errorf("vault: read %s: %w: no secrets engine is mounted at %s/", path, inject.ErrNotFound, seg)
	}
	p.log.Debug("vault mount", "code", CodeMount, "mount", m.path, "type", m.typ, "version", m.version)
	return m, nil
}

// relativeMount returns the mount path mp as path names it. Under
// VAULT_NAMESPACE, the mount of a child namespace named in the path comes
// back with the namespaces between (parent/child/secret/ for child/secret/x
// under parent): leading segments are dropped until mp is a prefix of
// path, as Vault's CLI does. "" when none is.
func relativeMount(mp, path string) string {
	for mp != "" {
		if strings.HasPrefix(path+"/", mp) {
			return mp
		}
		_, rest, ok := strings.Cut(mp, "/")
		if !ok {
			break
		}
		mp = rest
	}
	return ""
}

// readCredential returns the value of variable name, else the contents of
// the file named by name+"_FILE", else of defaultFile (when it exists),
// trimmed of surrounding white space. source says where it came from. A
// value that a request cannot carry (a variable ending in a newline, a
// control character) is a settings error.
func readCredential(getenv func(string) string, name, defaultFile string) (value, source string, err error) {
	if v := getenv(name); v != "" {
		if err := checkCredential(v, name); err != nil {
			return "", "", err
		}
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
	if err := checkCredential(v, file+" (for "+name+")"); err != nil {
		return "", "", err
	}
	return v, file, nil
}

// checkCredential refuses a credential that no request can carry as it
// is. where names the variable or file; the value is never quoted.
func checkCredential(v, where string) error {
	if strings.TrimRight(v, "\r\n") != v {
		return fmt.Errorf("vault: %w: %s ends with a newline: remove it (a credential file may end with one, a variable may not)",
			inject.ErrNotConfigured, where)
	}
	for _, r := range v {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("vault: %w: %s holds a control character", inject.ErrNotConfigured, where)
		}
	}
	return nil
}

func inDir(dir, name string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, name)
}
