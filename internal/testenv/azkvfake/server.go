package azkvfake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Cloud is one Azure cloud the fake answers for: its Key Vault DNS suffix
// and its Entra ID authority host.
type Cloud struct {
	Name          string
	VaultSuffix   string // "vault.azure.net"
	AuthorityHost string // "login.microsoftonline.com"
	// ChallengeHost is the host Key Vault names in its challenge's
	// authorization parameter (login.windows.net for the public cloud).
	ChallengeHost string
}

// Resource is the audience of tokens for the cloud's vaults.
func (c Cloud) Resource() string { return "https://" + c.VaultSuffix }

// AuthorityURL is the cloud's authority, as AZURE_AUTHORITY_HOST takes it.
func (c Cloud) AuthorityURL() string { return "https://" + c.AuthorityHost + "/" }

// The clouds the fake answers for.
var (
	PublicCloud  = Cloud{"AzurePublic", "vault.azure.net", "login.microsoftonline.com", "login.windows.net"}
	ChinaCloud   = Cloud{"AzureChina", "vault.azure.cn", "login.chinacloudapi.cn", "login.chinacloudapi.cn"}
	USGovCloud   = Cloud{"AzureUSGovernment", "vault.usgovcloudapi.net", "login.microsoftonline.us", "login.microsoftonline.us"}
	PrivateCloud = Cloud{"azkvfake", "vault.azkvfake.test", "login.azkvfake.test", "login.azkvfake.test"}

	Clouds = []Cloud{PublicCloud, ChinaCloud, USGovCloud, PrivateCloud}
)

// Defaults of a new Server.
const (
	DefaultTenant       = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	DefaultClientID     = "0f8fad5b-d9cb-469f-a165-70867728950e"
	DefaultClientSecret = "azkvfake~client~secret~EXAMPLE0001"
	// FederatedIssuer is the OIDC issuer of the service-account tokens the
	// fake mints (an AKS cluster's issuer URL in real life).
	FederatedIssuer = "https://oidc.azkvfake.test/cluster/"
	// FederatedAudience is the audience Entra requires of a workload
	// identity's service-account token.
	FederatedAudience = "api://AzureADTokenExchange"
)

// APIVersions are the api-version values the fake's Key Vault accepts: the
// ones of the Key Vault data plane's REST reference.
var APIVersions = []string{"7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01", "2026-04-01"}

// Server is a Key Vault and Entra ID endpoint on a loopback HTTPS listener.
// All methods are safe for concurrent use.
type Server struct {
	t    testing.TB
	srv  *httptest.Server
	ca   *testCA
	addr string // host:port of the listener

	issuerKey *rsa.PrivateKey // signs minted service-account tokens

	mu       sync.Mutex
	now      func() time.Time
	tenants  map[string]bool
	apps     map[string]*app     // by client id
	vaults   map[string]*vault   // by name
	tokens   map[string]*token   // by access token
	grants   map[string][]grant  // by client id
	faults   map[string][]*fault // by target: "vault" or "token"
	tokenTTL time.Duration
	garble   int // token responses left to truncate
	calls    []Call
}

// Call records one request the Server received. It never holds a
// credential or a value.
type Call struct {
	Host       string // the Host the client asked for
	Method     string
	Path       string
	APIVersion string // Key Vault's api-version parameter, as sent
	Op         string // GetSecret, GetSecretVersions, GetSecrets, SetSecret, Token, OpenIDConfiguration, InstanceDiscovery, or ""
	ClientID   string // the client the bearer token or token request names, if known
	Status     int
	Code       string // the error code answered, "" on success
	Auth       bool   // the request carried a bearer token
}

// Option configures New.
type Option func(*Server)

// WithClock replaces the server's clock (token expiry, created dates).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// AdvanceClock moves the server's clock forward by d: Key Vault's times
// are whole seconds, and tests that need versions in order make them
// seconds apart.
func (s *Server) AdvanceClock(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.now
	s.now = func() time.Time { return prev().Add(d) }
}

// WithTokenTTL sets the lifetime of issued access tokens (default one hour).
func WithTokenTTL(d time.Duration) Option { return func(s *Server) { s.tokenTTL = d } }

// New starts a Server, closed when the test ends. It knows DefaultTenant,
// and in it the app DefaultClientID with the secret DefaultClientSecret.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var names []string
	for _, c := range Clouds {
		names = append(names, "*."+c.VaultSuffix, c.AuthorityHost)
	}
	ca, err := newTestCA(names)
	if err != nil {
		t.Fatalf("azkvfake: test CA: %v", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("azkvfake: issuer key: %v", err)
	}
	s := &Server{
		t: t, ca: ca, issuerKey: key, now: time.Now,
		tenants: map[string]bool{DefaultTenant: true},
		apps:    map[string]*app{},
		vaults:  map[string]*vault{},
		tokens:  map[string]*token{},
		grants:  map[string][]grant{},
		faults:  map[string][]*fault{},

		tokenTTL: time.Hour,
	}
	s.apps[DefaultClientID] = &app{tenant: DefaultTenant, clientID: DefaultClientID, secrets: []string{DefaultClientSecret}}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.server}, MinVersion: tls.VersionTLS12}
	s.srv.EnableHTTP2 = true
	s.srv.StartTLS()
	s.addr = s.srv.Listener.Addr().String()
	t.Cleanup(s.srv.Close)
	return s
}

// CACertPEM returns the test CA's certificate, PEM-encoded.
func (s *Server) CACertPEM() []byte { return s.ca.pem }

// Transport returns the test hook for clients: an *http.Transport that
// trusts the fake's CA and dials the fake for every host name it answers
// (at any port), and fails to dial any other host, as an unreachable one
// does. It uses no proxy.
func (s *Server) Transport() *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: s.ca.pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			cloud, ok := cloudOfHost(host)
			if !ok {
				return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("azkvfake: %s is not a host of the fake: connection refused", host)}
			}
			if name := vaultName(host, cloud); name != "" && !s.HasVault(name) {
				// A vault that does not exist has no DNS name.
				return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
			}
			return d.DialContext(ctx, "tcp", s.addr)
		},
	}
}

// Serves reports whether the fake answers for host.
func Serves(host string) bool {
	_, ok := cloudOfHost(host)
	return ok
}

// cloudOfHost returns the cloud whose vault or authority host is host.
func cloudOfHost(host string) (Cloud, bool) {
	host = strings.ToLower(host)
	for _, c := range Clouds {
		if host == c.AuthorityHost || vaultName(host, c) != "" {
			return c, true
		}
	}
	return Cloud{}, false
}

// vaultName returns the vault a host names in cloud c, or "".
func vaultName(host string, c Cloud) string {
	name, ok := strings.CutSuffix(strings.ToLower(host), "."+c.VaultSuffix)
	if !ok || name == "" || strings.Contains(name, ".") {
		return ""
	}
	return name
}

// Calls returns the requests received so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CountOp returns how many requests of operation op were received.
func (s *Server) CountOp(op string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Op == op {
			n++
		}
	}
	return n
}

// ResetCalls forgets the requests received so far.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// --- fault injection ---

// Fault targets.
const (
	TargetVault = "vault" // Key Vault requests (after the challenge, with a valid token)
	TargetToken = "token" // token endpoint requests
)

type fault struct {
	status     int
	retryAfter int
	left       int
}

// Throttle makes the next n authenticated Key Vault requests fail with 429
// Throttled and Retry-After: retryAfter seconds.
func (s *Server) Throttle(n, retryAfter int) {
	s.addFault(TargetVault, &fault{status: http.StatusTooManyRequests, retryAfter: retryAfter, left: n})
}

// FailNext makes the next n requests to target (TargetVault or TargetToken)
// fail with status (a 5xx, or 429).
func (s *Server) FailNext(target string, n, status int) {
	s.addFault(target, &fault{status: status, left: n})
}

func (s *Server) addFault(target string, f *fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[target] = append(s.faults[target], f)
}

// takeFault consumes one pending fault of target, if any. Callers hold mu.
func (s *Server) takeFault(target string) *fault {
	for len(s.faults[target]) > 0 {
		f := s.faults[target][0]
		if f.left <= 0 {
			s.faults[target] = s.faults[target][1:]
			continue
		}
		f.left--
		return f
	}
	return nil
}

// --- dispatch ---

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	host = strings.ToLower(host)
	c := &Call{Host: host, Method: r.Method, Path: r.URL.Path, APIVersion: r.URL.Query().Get("api-version")}
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		c.Status = rec.status
		if c.Code == "" {
			c.Code = rec.code
		}
		s.mu.Lock()
		s.calls = append(s.calls, *c)
		s.mu.Unlock()
	}()
	cloud, ok := cloudOfHost(host)
	switch {
	case !ok:
		http.Error(rec, "unknown host", http.StatusMisdirectedRequest)
	case host == cloud.AuthorityHost:
		s.serveEntra(rec, r, cloud, c)
	default:
		s.serveVault(rec, r, cloud, vaultName(host, cloud), c)
	}
}

// recorder notes the status and error code an answer carries.
type recorder struct {
	http.ResponseWriter
	status int
	code   string
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newID returns n random bytes in hex.
func newID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// newGUID returns a random GUID in its usual form.
func newGUID() string {
	h := newID(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
