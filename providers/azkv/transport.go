package azkv

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// imdsHost is the instance metadata service of Azure VMs and AKS nodes: a
// link-local address served by the host itself, reached over plain http as
// Azure requires.
const imdsHost = "169.254.169.254"

// transport carries every request of the provider: Key Vault's, Entra ID's
// and the managed identity endpoint's (azsecrets and azidentity both take
// it as their azcore Transporter). Before a request leaves, its URL and the
// proxy it would go through pass the plain-http rule, however the URL was
// reached (the vault's, the authority's, a listing's nextLink, a managed
// identity endpoint); it counts requests, and notes what answered for the
// credential's error classification.
type transport struct {
	next      http.RoundTripper
	proxy     func(*http.Request) (*url.URL, error)
	allowHTTP bool
	sent      atomic.Int64
}

// newTransport returns the provider's transport over base, or over a
// transport of its own (TLS 1.2 or later, the proxy from getenv's
// HTTPS_PROXY, HTTP_PROXY and NO_PROXY) when base is nil.
func newTransport(base *http.Transport, getenv func(string) string, allowHTTP bool) *transport {
	if base == nil {
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
		base = &http.Transport{
			Proxy:                 func(r *http.Request) (*url.URL, error) { return pf(r.URL) },
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          16,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		}
	}
	proxy := base.Proxy
	if proxy == nil {
		proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
	}
	return &transport{next: base, proxy: proxy, allowHTTP: allowHTTP}
}

// Do implements azcore's policy.Transporter.
func (t *transport) Do(req *http.Request) (*http.Response, error) {
	if err := t.checkRoute(req); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		refused := &refusedError{err}
		if rec := recorderFrom(req.Context()); rec != nil {
			rec.note(req.URL, nil, refused)
		}
		return nil, refused
	}
	t.sent.Add(1)
	resp, err := t.next.RoundTrip(req)
	if rec := recorderFrom(req.Context()); rec != nil {
		rec.note(req.URL, resp, err)
	}
	if err != nil {
		return nil, &sendError{host: req.URL.Hostname(), err: err}
	}
	return resp, nil
}

// checkRoute applies the plain-http rule to a request's URL and to its
// proxy. Plain http:// goes only to loopback (a managed identity endpoint
// such as App Service's) or to the instance metadata service, unless
// N8N_SECRETS_ALLOW_HTTP; a proxy sees a request in clear text only when
// its URL is http://.
func (t *transport) checkRoute(req *http.Request) error {
	u := req.URL
	what := "the address of a request to " + u.Hostname()
	imds := u.Scheme == "http" && u.Hostname() == imdsHost
	if !imds {
		if err := inject.CheckEndpoint(u.String(), t.allowHTTP, what); err != nil {
			return err
		}
	}
	pu, err := t.proxy(req)
	if err != nil {
		return fmt.Errorf("%w: HTTP_PROXY or HTTPS_PROXY is not a valid proxy URL", inject.ErrNotConfigured)
	}
	if pu == nil {
		return nil
	}
	if imds {
		return fmt.Errorf("%w: the instance metadata service (%s) would be asked through the proxy %s: add %s to NO_PROXY", inject.ErrNotConfigured, imdsHost, pu.Hostname(), imdsHost)
	}
	return inject.CheckEndpoint(pu.String(), t.allowHTTP || u.Scheme == "https", "the proxy for "+what)
}

// refusedError is a request the transport did not send.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// sendError is a request that got no answer (a connection, TLS or DNS
// failure). Its text is net/http's, which names the host and the failing
// step and never holds a request's body or headers.
type sendError struct {
	host string
	err  error
}

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// recorder collects what the requests of one token acquisition met, for
// classifying its failure without reading the SDK's error text.
type recorder struct {
	mu     sync.Mutex
	events []event
}

type event struct {
	host   string
	imds   bool
	status int    // 0 when the request got no answer
	code   string // Entra's error code and AADSTS numbers, of an error answer
	err    error  // the transport's error, if any
}

// note records one request's outcome. An error answer's body is read (and
// put back) for Entra's error code: MSAL does not always pass the answer
// on (a failed tenant discovery), and azidentity's text quotes it whole.
func (r *recorder) note(u *url.URL, resp *http.Response, err error) {
	e := event{host: u.Hostname(), imds: u.Hostname() == imdsHost, err: err}
	if resp != nil {
		e.status = resp.StatusCode
		if resp.StatusCode >= 400 && resp.Body != nil {
			b, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(b))
			if rerr == nil {
				e.code = entraCodeOf(b)
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// any reports whether a request was made.
func (r *recorder) any() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events) > 0
}

// last returns the last event that is not the instance metadata service's
// (whose probe fails wherever there is none), or the last one.
func (r *recorder) last() (event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.events) - 1; i >= 0; i-- {
		if !r.events[i].imds {
			return r.events[i], true
		}
	}
	if n := len(r.events); n > 0 {
		return r.events[n-1], true
	}
	return event{}, false
}

type recorderKey struct{}

func withRecorder(ctx context.Context, r *recorder) context.Context {
	return context.WithValue(ctx, recorderKey{}, r)
}

func recorderFrom(ctx context.Context) *recorder {
	r, _ := ctx.Value(recorderKey{}).(*recorder)
	return r
}

// innermost returns the most specific error of a transport failure:
// "dial tcp 10.0.0.1:443: connect: connection refused".
func innermost(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
