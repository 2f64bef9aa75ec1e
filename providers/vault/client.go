package vault

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-secure-stdlib/parseutil"
	"github.com/hashicorp/vault/api"
	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http/httpproxy"
	"golang.org/x/time/rate"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Treatment says what the provider does with a variable that Vault's Go
// client library reads by itself.
type Treatment string

// The treatments of [LibraryVariables].
const (
	// Honoured: the provider reads and validates it and configures the
	// client with it; the library's own reading is overridden.
	Honoured Treatment = "honoured"
	// Ignored: set or not, it has no effect; a warning (VAULT_ENV_IGNORED)
	// says so when it is set. It must still parse where the library parses
	// it when the client is built.
	Ignored Treatment = "ignored"
	// Refused: a value that would take effect stops the start (64).
	Refused Treatment = "refused"
	// NotReached: only library code that the provider never calls reads it.
	NotReached Treatment = "not reached"
)

// LibraryVariable is one VAULT_* variable that github.com/hashicorp/vault/api
// reads on its own, and what the provider does about it.
type LibraryVariable struct {
	Name      string
	Treatment Treatment
	Note      string // one line for the README
}

// LibraryVariables lists every VAULT_* variable that the Vault client
// library (the version in go.mod) reads by itself. The provider builds the
// client's configuration from what it validated, never from the library's
// reading of the environment. A test derives the library's list from its
// source, so that an upgrade that adds a variable fails until it is listed
// here, and checks that the README lists each.
var LibraryVariables = []LibraryVariable{
	{"VAULT_ADDR", Honoured, "the server's address; `http://` only to loopback unless `N8N_SECRETS_ALLOW_HTTP=true`"},
	{"VAULT_AGENT_ADDR", Honoured, "a Vault Agent or Vault Proxy that receives every request instead of `VAULT_ADDR` (as with Vault's own client), under the same plain-http rule"},
	{"VAULT_CACERT", Honoured, "a PEM file of CA certificates to trust"},
	{"VAULT_CACERT_BYTES", Honoured, "the same, as PEM text in the variable"},
	{"VAULT_CAPATH", Honoured, "a directory of PEM CA certificates"},
	{"VAULT_CLIENT_CERT", Honoured, "client certificate (PEM file), with `VAULT_CLIENT_KEY`"},
	{"VAULT_CLIENT_KEY", Honoured, "client key (PEM file), with `VAULT_CLIENT_CERT`"},
	{"VAULT_TLS_SERVER_NAME", Honoured, "the name to expect in the server's certificate (SNI)"},
	{"VAULT_SKIP_VERIFY", Honoured, "`true` turns certificate checks off, with a warning (`VAULT_TLS_VERIFY_OFF`); not for production"},
	{"VAULT_NAMESPACE", Honoured, "Vault Enterprise namespace, sent with every request, login included"},
	{"VAULT_TOKEN", Honoured, "the token, for token auth; must not end with a newline or hold control characters (64 at once)"},
	{"VAULT_HEADERS", Honoured, "a JSON object of extra request headers, as Vault's client takes it (no `X-Vault-*`); invalid JSON or header text is refused (64)"},
	{"VAULT_HTTP_PROXY", Honoured, "an HTTP proxy for every request (`VAULT_PROXY_ADDR` wins), under the rule of *Where requests go*"},
	{"VAULT_PROXY_ADDR", Honoured, "the same, and it wins over `VAULT_HTTP_PROXY`"},
	{"VAULT_RATE_LIMIT", Honoured, "`rate[:burst]`, requests per second, as Vault's client takes it"},
	{"VAULT_DISABLE_REDIRECTS", Honoured, "`true`: a redirect from Vault fails (64) instead of being followed once"},
	{"VAULT_WRAP_TTL", Ignored, "response wrapping is off for every request: the injector needs the values, and a wrapped answer would leave a wrapping token per attempt"},
	{"VAULT_MAX_RETRIES", Ignored, "the client never retries by itself: the resolver retries transient faults under `N8N_SECRETS_TIMEOUT`"},
	{"VAULT_CLIENT_TIMEOUT", Ignored, "`N8N_SECRETS_TIMEOUT` is the one deadline"},
	{"VAULT_SRV_LOOKUP", Refused, "`true` is refused: a DNS SRV answer would pick a server no check has seen; put the address in `VAULT_ADDR`"},
	{"VAULT_MFA", NotReached, "declared by the library, read by Vault's CLI only"},
	{"VAULT_PLUGIN_AUTOMTLS_ENABLED", NotReached, "read by the library's helpers for Vault plugins only"},
	{"VAULT_PLUGIN_METADATA_MODE", NotReached, "read by the library's helpers for Vault plugins only"},
	{"VAULT_UNWRAP_TOKEN", NotReached, "read by the library's helpers for Vault plugins only"},
	{"VAULT_ALLOW_PENDING_REMOVAL_DUPLICATE_HCL_ATTRIBUTES", NotReached, "read when the library parses HCL policies, which the injector never does"},
}

// clientConfig is what New validated from the environment: everything the
// Vault client is configured with.
type clientConfig struct {
	addr, addrVar    string // where requests go, and the variable it came from
	tls              api.TLSConfig
	skipVerify       bool
	namespace        string
	headers          http.Header
	proxy            func(*http.Request) (*url.URL, error)
	limiter          *rate.Limiter
	disableRedirects bool
	allowHTTP        bool
	ignored          []string // set variables that have no effect
}

// readClientConfig validates the client's settings from getenv. Errors wrap
// inject.ErrNotConfigured, name the variable and never quote its value.
func readClientConfig(getenv func(string) string, allowHTTP bool) (*clientConfig, error) {
	c := &clientConfig{allowHTTP: allowHTTP, headers: http.Header{}}
	for _, name := range []string{"VAULT_ADDR", "VAULT_AGENT_ADDR"} {
		v := getenv(name)
		if v == "" {
			continue
		}
		if err := inject.CheckEndpoint(v, allowHTTP, name); err != nil {
			return nil, err
		}
		// The agent's address wins, as with Vault's own client.
		c.addr, c.addrVar = v, name
	}
	if c.addr == "" {
		return nil, fmt.Errorf("%w: VAULT_ADDR is not set", inject.ErrNotConfigured)
	}
	var srv bool
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"VAULT_SKIP_VERIFY", &c.skipVerify}, {"VAULT_DISABLE_REDIRECTS", &c.disableRedirects}, {"VAULT_SRV_LOOKUP", &srv}} {
		if v := getenv(b.name); v != "" {
			val, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("%w: %s must be true or false", inject.ErrNotConfigured, b.name)
			}
			*b.dst = val
		}
	}
	if srv {
		return nil, fmt.Errorf("%w: VAULT_SRV_LOOKUP=true is not supported: a DNS SRV answer would choose a server that no check has seen; put the server's address in %s", inject.ErrNotConfigured, c.addrVar)
	}
	// The library parses these when the client is built, even though they
	// have no effect here: a malformed one would fail with its text.
	if v := getenv("VAULT_MAX_RETRIES"); v != "" {
		if _, err := strconv.ParseUint(v, 10, 32); err != nil {
			return nil, fmt.Errorf("%w: VAULT_MAX_RETRIES must be a whole number", inject.ErrNotConfigured)
		}
	}
	if v := getenv("VAULT_CLIENT_TIMEOUT"); v != "" {
		if _, err := parseutil.ParseDurationSecond(v); err != nil {
			return nil, fmt.Errorf("%w: VAULT_CLIENT_TIMEOUT must be a duration", inject.ErrNotConfigured)
		}
	}
	for _, lv := range LibraryVariables {
		if lv.Treatment == Ignored && getenv(lv.Name) != "" {
			c.ignored = append(c.ignored, lv.Name)
		}
	}
	if v := getenv("VAULT_RATE_LIMIT"); v != "" {
		lim, err := parseRateLimit(v)
		if err != nil {
			return nil, err
		}
		c.limiter = lim
	}
	if v := getenv("VAULT_HEADERS"); v != "" {
		if err := parseHeaders(v, c.headers); err != nil {
			return nil, err
		}
	}
	c.namespace = getenv("VAULT_NAMESPACE")
	if strings.ContainsFunc(c.namespace, unicode.IsControl) {
		// No request could carry it: Go refuses the header, every time.
		return nil, fmt.Errorf("%w: VAULT_NAMESPACE holds a control character", inject.ErrNotConfigured)
	}
	c.tls = api.TLSConfig{
		CACert:        getenv("VAULT_CACERT"),
		CACertBytes:   []byte(getenv("VAULT_CACERT_BYTES")),
		CAPath:        getenv("VAULT_CAPATH"),
		ClientCert:    getenv("VAULT_CLIENT_CERT"),
		ClientKey:     getenv("VAULT_CLIENT_KEY"),
		TLSServerName: getenv("VAULT_TLS_SERVER_NAME"),
		Insecure:      c.skipVerify,
	}
	proxy, err := proxyFrom(getenv)
	if err != nil {
		return nil, err
	}
	c.proxy = proxy
	// Refuse now, before any lookup, a proxy that would see the token in
	// clear text; the transport checks again for every request.
	u, _ := url.Parse(c.addr)
	if err := checkRoute(u, proxy, allowHTTP, c.addrVar); err != nil {
		return nil, err
	}
	return c, nil
}

// parseRateLimit reads VAULT_RATE_LIMIT as Vault's client does: "rate" or
// "rate:burst", requests per second.
func parseRateLimit(v string) (*rate.Limiter, error) {
	rateStr, burstStr, hasBurst := strings.Cut(v, ":")
	r, err := strconv.ParseFloat(rateStr, 64)
	burst := int(r)
	if err == nil && hasBurst {
		burst, err = strconv.Atoi(burstStr)
	}
	if err != nil || r <= 0 || burst < 1 {
		return nil, fmt.Errorf("%w: VAULT_RATE_LIMIT must be a positive rate of requests per second, optionally with :burst (a rate under 1 needs one)", inject.ErrNotConfigured)
	}
	return rate.NewLimiter(rate.Limit(r), burst), nil
}

// parseHeaders reads VAULT_HEADERS as Vault's client does (a JSON object of
// header names to string values, none of them X-Vault-*), and also refuses
// text that no HTTP header can carry.
func parseHeaders(v string, h http.Header) error {
	bad := fmt.Errorf("%w: VAULT_HEADERS must be a JSON object of header names to string values, valid in HTTP, none of them X-Vault-*", inject.ErrNotConfigured)
	var m map[string]any
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return bad
	}
	for k, val := range m {
		s, ok := val.(string)
		if !ok || !httpguts.ValidHeaderFieldName(k) || !httpguts.ValidHeaderFieldValue(s) ||
			strings.HasPrefix(http.CanonicalHeaderKey(k), "X-Vault-") {
			return bad
		}
		h.Add(k, s)
	}
	return nil
}

// proxyFrom returns the proxy for a request: VAULT_PROXY_ADDR, else
// VAULT_HTTP_PROXY, for every request (as with Vault's client), else the
// standard HTTP_PROXY, HTTPS_PROXY and NO_PROXY (upper or lower case), which
// never apply to loopback.
func proxyFrom(getenv func(string) string) (func(*http.Request) (*url.URL, error), error) {
	for _, name := range []string{"VAULT_PROXY_ADDR", "VAULT_HTTP_PROXY"} {
		v := getenv(name)
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%w: %s must be an http:// or https:// URL", inject.ErrNotConfigured, name)
		}
		return func(*http.Request) (*url.URL, error) { return u, nil }, nil
	}
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
	return func(r *http.Request) (*url.URL, error) {
		u, err := pf(r.URL)
		if err != nil {
			return nil, &refusedError{fmt.Errorf("%w: HTTP_PROXY or HTTPS_PROXY is not a valid proxy URL", inject.ErrNotConfigured)}
		}
		return u, nil
	}, nil
}

// checkRoute applies the plain-http rule to one request's URL and to the
// proxy it would go through. A proxy sees the request in clear text only
// when the URL is http://; for https:// it only relays the TLS stream.
// what names where the URL came from.
func checkRoute(u *url.URL, proxy func(*http.Request) (*url.URL, error), allowHTTP bool, what string) error {
	if err := inject.CheckEndpoint(u.String(), allowHTTP, what); err != nil {
		return err
	}
	pu, err := proxy(&http.Request{URL: u})
	if err != nil {
		var re *refusedError
		if errors.As(err, &re) {
			return re.err
		}
		return fmt.Errorf("%w: the proxy for %s: %v", inject.ErrNotConfigured, what, err)
	}
	if pu == nil {
		return nil
	}
	if err := inject.CheckEndpoint(pu.String(), allowHTTP || u.Scheme == "https", "the proxy for "+what); err != nil {
		return err
	}
	return nil
}

// refusedError is a request the transport did not send: its URL, or the
// proxy it would have gone through, breaks the plain-http rule.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// transport is the client's round tripper. Before anything leaves, the
// request's URL and its proxy pass checkRoute, however the URL was reached
// (VAULT_ADDR, VAULT_AGENT_ADDR, a redirect Vault sent); it counts the
// requests it sends, and says when a first connection is up.
type transport struct {
	next      *http.Transport
	allowHTTP bool
	host      string // the configured address's host
	addrVar   string
	sent      atomic.Int64

	// connected is closed once a request got a connection. Over https,
	// requests that can wait for it (the speculative reads) do, so that
	// with HTTP/2 they share that connection instead of each dialing and
	// shaking hands for one that is then dropped. Over http:// (HTTP/1.1,
	// a connection per request in flight) it is closed from the start.
	connected     chan struct{}
	connectedOnce sync.Once
}

func newTransport(next *http.Transport, c *clientConfig) *transport {
	u, _ := url.Parse(c.addr)
	t := &transport{next: next, allowHTTP: c.allowHTTP, host: u.Host, addrVar: c.addrVar, connected: make(chan struct{})}
	if u.Scheme != "https" {
		t.markConnected()
	}
	return t
}

func (t *transport) markConnected() { t.connectedOnce.Do(func() { close(t.connected) }) }

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	what := t.addrVar
	if req.URL.Host != t.host {
		what = "a redirect from Vault"
	}
	if err := checkRoute(req.URL, t.next.Proxy, t.allowHTTP, what); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &refusedError{err}
	}
	t.sent.Add(1)
	select {
	case <-t.connected:
	default:
		trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { t.markConnected() }}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	}
	return t.next.RoundTrip(req)
}

// newClient builds the Vault client from c alone. The library reads the
// environment by itself when a client is built (api.NewClient calls
// api.DefaultConfig): everything it takes from there is overridden here.
func newClient(c *clientConfig) (*api.Client, *transport, error) {
	tr := cleanhttp.DefaultPooledTransport()
	tr.Proxy = c.proxy
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	tr.ForceAttemptHTTP2 = true
	cfg := &api.Config{
		Address: c.addr,
		HttpClient: &http.Client{
			Transport: tr,
			// The library follows one redirect itself (unless
			// DisableRedirects); the transport checks its target.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		MaxRetries:       0, // the resolver retries, under its deadline
		Limiter:          c.limiter,
		DisableRedirects: c.disableRedirects,
	}
	if err := cfg.ConfigureTLS(&c.tls); err != nil {
		return nil, nil, fmt.Errorf("%w: TLS settings (VAULT_CACERT, VAULT_CACERT_BYTES, VAULT_CAPATH, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY): %v",
			inject.ErrNotConfigured, tlsSettingsError(err))
	}
	t := newTransport(tr, c)
	cfg.HttpClient.Transport = t
	client, err := api.NewClient(cfg)
	if err != nil {
		// Its text may quote a variable's value (a proxy URL with a
		// password, say): a fixed message instead.
		return nil, nil, fmt.Errorf("%w: the Vault client library refused the VAULT_* settings of this environment", inject.ErrNotConfigured)
	}
	client.ClearToken()
	headers := c.headers.Clone()
	headers.Set(api.RequestHeaderName, "true") // Vault Agent's SSRF protection
	client.SetHeaders(headers)
	if c.namespace != "" {
		client.SetNamespace(c.namespace)
	}
	// Never wrap a response (the library reads VAULT_WRAP_TTL at every
	// request otherwise).
	client.SetWrappingLookupFunc(func(string, string) string { return "" })
	return client, t, nil
}

// tlsSettingsError keeps the part of a TLS loading error that says what is
// wrong with a file: the files hold no secret the message could reveal, but
// a client key's parse error should not be echoed whole.
func tlsSettingsError(err error) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return trunc(msg, 200)
}
