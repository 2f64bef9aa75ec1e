// Package gcpsm is the provider for gcpsm:// references: secrets in Google
// Secret Manager, read through its REST API (v1) with Application Default
// Credentials.
//
// A reference names a secret by its resource name,
// gcpsm://projects/<project>/secrets/<secret>[/versions/<version>] (a
// regional secret: projects/<project>/locations/<region>/secrets/…), or in
// the short form gcpsm://<secret>[/versions/<version>], whose project comes
// from GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT or CLOUDSDK_CORE_PROJECT, else
// the service-account key's project_id, else the metadata server's project.
// The version is a number, latest (the default) or an alias. The payload's
// bytes are the value; the core applies #key and #/pointer selectors to it
// as JSON.
//
// Credentials are Application Default Credentials, in Google's order: the
// JSON file GOOGLE_APPLICATION_CREDENTIALS names (a service-account key,
// an external-account configuration for workload identity federation, an
// impersonated service account, a user's refresh token), else gcloud's
// application_default_credentials.json, else the metadata server (GKE
// workload identity, a Compute Engine or Cloud Run service account). They
// are loaded and exchanged for a token on the first request, not by New.
// golang.org/x/oauth2/google turns a JSON file into tokens;
// cloud.google.com/go/compute/metadata talks to the metadata server. The
// generated API clients are not used: google.golang.org/api/secretmanager/v1
// and cloud.google.com/go/secretmanager link gRPC even for REST (about 9 MB).
//
// Every address a request can reach passes the plain-http rule: the
// endpoint (CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER, a regional
// endpoint secretmanager.<region>.rep.googleapis.com), the token endpoints
// a credentials file names and the proxy (HTTPS_PROXY, HTTP_PROXY,
// NO_PROXY). The exceptions are the metadata server (http://169.254.169.254,
// or GCE_METADATA_HOST, as Google documents it) and, for workload identity
// federation, a credential_source URL on a link-local address (another
// cloud's metadata service).
//
// Errors map to the core's sentinels: NOT_FOUND, and FAILED_PRECONDITION for
// a disabled or destroyed version, to ErrNotFound; PERMISSION_DENIED to
// ErrPermission; UNAUTHENTICATED and every failure to get a token to
// ErrAuth; RESOURCE_EXHAUSTED (429), UNAVAILABLE, other 5xx, a token endpoint
// answering 5xx and network errors to ErrUnavailable; a payload whose
// dataCrc32c does not match its data to ErrBadData. Nothing retries on its
// own beyond the metadata library's bounded retries under the context: the
// resolver retries transient faults under its deadline. The text of the
// credential libraries' errors is never passed on (it can quote a key
// file); the step that failed is named instead.
package gcpsm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/compute/metadata"
	"golang.org/x/net/http/httpproxy"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// DefaultEndpoint is Secret Manager's global endpoint.
const DefaultEndpoint = "https://secretmanager.googleapis.com"

// EndpointVar overrides the endpoint of every request: gcloud's own
// setting of the same name (api_endpoint_overrides/secretmanager), a base
// URL such as https://secretmanager.europe-west1.rep.googleapis.com/ or a
// Private Service Connect endpoint. "v1/…" is appended to it.
const EndpointVar = "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER"

// ProjectVars are the variables that give the project of a short
// reference, the first set one winning.
var ProjectVars = []string{"GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"}

// CredentialVars are the variables that carry Google credentials or lead
// whoever reads them to this process's identity: the injector removes them
// from the child unless passed through. GOOGLE_APPLICATION_CREDENTIALS
// names a key file (which stays readable: a deployment that wants n8n not
// to read it mounts it for this process only); the file's name is removed
// so that n8n's own Google nodes do not pick the identity up by default.
// GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES lets a federation
// configuration run a program to get a token. The metadata server is not
// a variable: on GKE every process of the pod can reach it.
var CredentialVars = []string{
	"GOOGLE_APPLICATION_CREDENTIALS",
	"GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES",
	"CLOUDSDK_AUTH_ACCESS_TOKEN",
	"CLOUDSDK_AUTH_ACCESS_TOKEN_FILE",
	"CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE",
}

// OwnedVars are the variables this provider reads: never scanned as
// references.
var OwnedVars = []string{
	"GOOGLE_APPLICATION_CREDENTIALS",
	"GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES",
	"GOOGLE_CLOUD_PROJECT",
	"GCLOUD_PROJECT",
	"CLOUDSDK_*",
	"GCE_METADATA_HOST",
}

// Hints say what to do about an error of a code, for this store.
var Hints = map[inject.Code]string{
	inject.CodeAuthFailed: "check Google's Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS (a service-account key or a workload identity federation file), " +
		"or on GKE workload identity (the pod's Kubernetes service account bound to a Google service account, or granted roles itself) through the metadata server",
	inject.CodePermissionDenied: "grant roles/secretmanager.secretAccessor (secretmanager.versions.access) on the secret to the identity used; " +
		"supervise mode's change detection also needs secretmanager.versions.get (roles/secretmanager.viewer on the secret)",
	inject.CodeSecretNotFound: "check the project, the secret id and the version; a disabled or destroyed version cannot be read, and latest is the newest version whatever its state",
	inject.CodeNotConfigured: "set GOOGLE_CLOUD_PROJECT for short references (gcpsm://<secret>) or write gcpsm://projects/<project>/secrets/<secret>; " +
		"an endpoint (CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER) must be https://",
}

// scope is the OAuth scope Secret Manager requires.
const scope = "https://www.googleapis.com/auth/cloud-platform"

// maxBody bounds what is read of one answer: a payload is at most 64 KiB.
const maxBody = 1 << 20

// Config configures a Provider.
type Config struct {
	// Getenv reads the variables this provider owns (see OwnedVars); nil
	// means os.Getenv. The metadata library reads GCE_METADATA_HOST and
	// golang.org/x/oauth2 reads GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES
	// from the process environment themselves, as main's Getenv does.
	Getenv func(string) string
	// SecretsDir is the secrets directory; gcpsm reads no default file
	// there (a key file is named by GOOGLE_APPLICATION_CREDENTIALS).
	SecretsDir string
	// AllowHTTP permits plain http:// off loopback.
	AllowHTTP bool
	// Logger receives debug events; nil discards.
	Logger *slog.Logger
	// Transport, for tests, is the base of the HTTP transport to Secret
	// Manager and the token endpoints (a test CA); nil means a clone of
	// http.DefaultTransport. Its Proxy is replaced by the one the
	// environment gives.
	Transport *http.Transport
}

// Provider reads secrets from Google Secret Manager. It is safe for
// concurrent use.
type Provider struct {
	getenv    func(string) string
	allowHTTP bool
	endpoint  string // the override, validated; "" for Google's
	log       *slog.Logger

	client *http.Client     // Secret Manager and token endpoints
	route  *routeTransport  // client's transport
	meta   *metadata.Client // the metadata server
	sent   atomic.Int64

	// credentials, loaded once (see creds).
	credSem chan struct{}
	cred    *credentials
}

// New returns a provider configured from the environment. It does no I/O:
// credentials are loaded on the first request. Errors wrap
// inject.ErrNotConfigured and name the variable at fault.
func New(c Config) (*Provider, error) {
	getenv := c.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Provider{getenv: getenv, allowHTTP: c.AllowHTTP, log: log, credSem: make(chan struct{}, 1)}
	if ep := getenv(EndpointVar); ep != "" {
		if err := inject.CheckEndpoint(ep, c.AllowHTTP, EndpointVar); err != nil {
			return nil, fmt.Errorf("gcpsm: %w", err)
		}
		u, _ := url.Parse(ep)
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("gcpsm: %w: %s must be a base URL without user, query or fragment", inject.ErrNotConfigured, EndpointVar)
		}
		p.endpoint = strings.TrimSuffix(ep, "/")
	}
	proxy, err := proxyFrom(getenv)
	if err != nil {
		return nil, err
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	} else {
		base = base.Clone()
	}
	base.Proxy = proxy
	p.route = &routeTransport{next: base, proxy: proxy, allowHTTP: c.AllowHTTP, sent: &p.sent}
	p.client = &http.Client{Transport: p.route, CheckRedirect: refuseRedirect}
	// The metadata server is plain http by design and never proxied.
	p.meta = metadata.NewClient(&http.Client{
		Transport: &countingTransport{next: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ResponseHeaderTimeout: 10 * time.Second,
			IdleConnTimeout:       60 * time.Second,
		}, sent: &p.sent},
		CheckRedirect: refuseRedirect,
	})
	return p, nil
}

// Requests returns the number of HTTP requests sent: token requests,
// metadata requests and Secret Manager calls.
func (p *Provider) Requests() int64 { return p.sent.Load() }

// Close releases idle connections. Access tokens are not revoked: they
// expire within the hour and revoking one takes a request per token.
func (p *Provider) Close(context.Context) error {
	p.route.next.CloseIdleConnections()
	return nil
}

var errRedirect = errors.New("redirect refused")

// refuseRedirect stops at a redirect: neither Secret Manager, the token
// endpoints nor the metadata server send one, and a Location would reach
// an address no check has seen.
func refuseRedirect(*http.Request, []*http.Request) error { return errRedirect }

// proxyFrom returns the proxy function of the standard variables
// (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, upper or lower case), read through
// getenv; loopback is never proxied.
func proxyFrom(getenv func(string) string) (func(*http.Request) (*url.URL, error), error) {
	either := func(a, b string) string {
		if v := getenv(a); v != "" {
			return v
		}
		return getenv(b)
	}
	pf := (&httpproxy.Config{
		HTTPProxy:  either("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: either("HTTPS_PROXY", "https_proxy"),
		NoProxy:    either("NO_PROXY", "no_proxy"),
		CGI:        getenv("REQUEST_METHOD") != "",
	}).ProxyFunc()
	for _, u := range []string{"http://secretmanager.googleapis.com", DefaultEndpoint} {
		pu, _ := url.Parse(u)
		if _, err := pf(pu); err != nil {
			return nil, fmt.Errorf("gcpsm: %w: HTTP_PROXY or HTTPS_PROXY is not a valid proxy URL", inject.ErrNotConfigured)
		}
	}
	return func(r *http.Request) (*url.URL, error) { return pf(r.URL) }, nil
}

// routeTransport checks every request against the plain-http rule before
// it leaves, whatever sent it (this provider, or x/oauth2 on a token
// endpoint a credentials file named), and counts the requests.
type routeTransport struct {
	next      *http.Transport
	proxy     func(*http.Request) (*url.URL, error)
	allowHTTP bool
	sent      *atomic.Int64

	mu        sync.Mutex
	linkLocal map[string]bool // hosts allowed plain http: a federation's credential_source
}

// refusedError is a request the transport did not send.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

func (t *routeTransport) allowLinkLocal(host string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.linkLocal == nil {
		t.linkLocal = map[string]bool{}
	}
	t.linkLocal[host] = true
}

func (t *routeTransport) check(u *url.URL) error {
	t.mu.Lock()
	ll := t.linkLocal[u.Host]
	t.mu.Unlock()
	if !ll {
		if err := inject.CheckEndpoint(u.String(), t.allowHTTP, "the address "+u.Host); err != nil {
			return err
		}
	}
	pu, err := t.proxy(&http.Request{URL: u})
	if err != nil {
		return fmt.Errorf("%w: HTTP_PROXY or HTTPS_PROXY is not a valid proxy URL", inject.ErrNotConfigured)
	}
	if pu == nil {
		return nil
	}
	// Over https:// a proxy relays the TLS stream; over http:// it sees
	// the request, bearer token included.
	return inject.CheckEndpoint(pu.String(), t.allowHTTP || u.Scheme == "https", "the proxy (HTTP_PROXY, HTTPS_PROXY)")
}

func (t *routeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.check(req.URL); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, &refusedError{err}
	}
	t.sent.Add(1)
	return t.next.RoundTrip(req)
}

// countingTransport counts the requests to the metadata server.
type countingTransport struct {
	next *http.Transport
	sent *atomic.Int64
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.sent.Add(1)
	return t.next.RoundTrip(req)
}

// baseURL returns the endpoint of r's requests: the override, else the
// regional endpoint of a regional secret, else the global one.
func (p *Provider) baseURL(r Ref) string {
	switch {
	case p.endpoint != "":
		return p.endpoint
	case r.Location != "":
		return "https://secretmanager." + r.Location + ".rep.googleapis.com"
	}
	return DefaultEndpoint
}

// project returns the project of r: its own, else the environment's, else
// the credentials'.
func (p *Provider) project(ctx context.Context, r Ref, c *credentials) (string, error) {
	if r.Project != "" {
		return r.Project, nil
	}
	for _, v := range ProjectVars {
		if s := p.getenv(v); s != "" {
			if !validProject(s) {
				return "", fmt.Errorf("gcpsm: get %s: %w: %s is not a project id or number", r.Path(), inject.ErrNotConfigured, v)
			}
			return s, nil
		}
	}
	if s, err := c.projectID(ctx); err != nil || s != "" {
		if err != nil {
			return "", fmt.Errorf("gcpsm: get %s: %w", r.Path(), err)
		}
		return s, nil
	}
	return "", fmt.Errorf("gcpsm: get %s: %w: no project for the short reference: set GOOGLE_CLOUD_PROJECT, or write gcpsm://projects/<project>/secrets/%s",
		r.Path(), inject.ErrNotConfigured, r.Secret)
}
