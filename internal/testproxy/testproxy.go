// Package testproxy provides a loopback HTTP reverse proxy for tests and
// benchmarks that need a slow or observable upstream: every request is
// delayed by a fixed duration before being forwarded, and counted.
//
// A typical use is measuring how a secret provider behaves against a remote
// service with realistic latency ("50 secrets behind 10 ms per request")
// while asserting how many round trips it made. NewTLS serves the same over
// TLS with HTTP/2, as a production Vault is reached.
package testproxy

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a running delaying, counting reverse proxy. Point clients at URL
// instead of the target.
type Proxy struct {
	// URL is the proxy's base URL, e.g. "http://127.0.0.1:41234".
	URL string
	// CAFile is, for NewTLS, a PEM file holding the certificate that
	// clients must trust (for Vault: VAULT_CACERT).
	CAFile string

	delay time.Duration
	count atomic.Int64
	srv   *httptest.Server
}

// New starts a reverse proxy on a loopback port that forwards every request
// to target (a base URL such as "http://127.0.0.1:8200") after sleeping for
// delay. The proxy is closed by t.Cleanup. New calls t.Fatalf if target is
// not an absolute http(s) URL.
func New(t testing.TB, target string, delay time.Duration) *Proxy {
	t.Helper()
	return start(t, target, delay, false)
}

// NewTLS is New over TLS with HTTP/2 enabled; the certificate to trust is
// written to CAFile.
func NewTLS(t testing.TB, target string, delay time.Duration) *Proxy {
	t.Helper()
	return start(t, target, delay, true)
}

func start(t testing.TB, target string, delay time.Duration, useTLS bool) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		t.Fatalf("testproxy: bad target URL %q: %v", target, err)
	}
	p := &Proxy{delay: delay}
	// Keep upstream connections for reuse, so that the proxy's own cost
	// stays small next to what is measured through it.
	upstream := http.DefaultTransport.(*http.Transport).Clone()
	upstream.MaxIdleConnsPerHost = 256
	rp := &httputil.ReverseProxy{
		Transport: upstream,
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			// Keep the Host header of the target, as a real client of
			// the target would send it.
			r.Out.Host = u.Host
		},
	}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.count.Add(1)
		if p.delay > 0 {
			timer := time.NewTimer(p.delay)
			select {
			case <-timer.C:
			case <-r.Context().Done():
				// The client gave up while we were sleeping; do not
				// forward a request nobody is waiting for.
				timer.Stop()
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	if useTLS {
		p.srv.EnableHTTP2 = true
		p.srv.StartTLS()
		p.CAFile = filepath.Join(t.TempDir(), "proxy-ca.pem")
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
		if err := os.WriteFile(p.CAFile, pemBytes, 0o600); err != nil {
			t.Fatalf("testproxy: %v", err)
		}
	} else {
		p.srv.Start()
	}
	p.URL = p.srv.URL
	t.Cleanup(p.Close)
	return p
}

// Count returns the number of requests received since the proxy started or
// since the last Reset, including requests still being delayed.
func (p *Proxy) Count() int64 { return p.count.Load() }

// Reset sets the request counter back to zero.
func (p *Proxy) Reset() { p.count.Store(0) }

// Close stops the proxy. It is called automatically by t.Cleanup and is
// safe to call more than once.
func (p *Proxy) Close() { p.srv.Close() }
