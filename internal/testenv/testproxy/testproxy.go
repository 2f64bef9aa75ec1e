// Package testproxy provides a loopback HTTP reverse proxy for tests and
// benchmarks that need a slow or observable upstream: every request is
// delayed by a fixed duration before being forwarded, and counted.
//
// A typical use is measuring how a secret provider behaves against a remote
// service with realistic latency ("50 secrets behind 10 ms per request")
// while asserting how many round trips it made. NewTLS serves the same over
// TLS with HTTP/2, as a production Vault is reached. Requests records when
// each request arrived and when its answer was written, and Depth turns
// that into the number of round trips a client waited for one after
// another: with a delay, concurrent requests overlap and sequential ones
// do not.
package testproxy

import (
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
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
	down  atomic.Bool
	count atomic.Int64
	conns atomic.Int64
	srv   *httptest.Server

	mu  sync.Mutex
	log []Request
}

// Request is one request the proxy served.
type Request struct {
	Method string
	Path   string // with its query
	Status int    // the answer's status code; 0 when none was written
	Start  time.Time
	End    time.Time // when the answer was written (or the request dropped)
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
		rec := Request{Method: r.Method, Path: r.URL.RequestURI(), Start: time.Now()}
		sw := &statusWriter{ResponseWriter: w}
		w = sw
		defer func() {
			rec.End, rec.Status = time.Now(), sw.status
			p.mu.Lock()
			p.log = append(p.log, rec)
			p.mu.Unlock()
		}()
		if p.down.Load() {
			// The upstream is down: the connection closes without an
			// answer, as when nothing listens behind a TCP forwarder.
			if hj, ok := sw.ResponseWriter.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			sw.WriteHeader(http.StatusBadGateway)
			return
		}
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
	p.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			p.conns.Add(1)
		}
	}
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

// Conns returns the number of client connections accepted since the proxy
// started or since the last Reset.
func (p *Proxy) Conns() int64 { return p.conns.Load() }

// SetDown makes the upstream unreachable (true) or reachable again: while
// down, every request is counted and logged, and its connection closed
// without an answer, as a client sees a server that went away.
func (p *Proxy) SetDown(down bool) { p.down.Store(down) }

// Reset sets the request and connection counters back to zero and empties
// the log.
func (p *Proxy) Reset() {
	p.count.Store(0)
	p.conns.Store(0)
	p.mu.Lock()
	p.log = nil
	p.mu.Unlock()
}

// Requests returns the requests answered since the proxy started or since
// the last Reset, in the order they arrived.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	out := slices.Clone(p.log)
	p.mu.Unlock()
	slices.SortFunc(out, func(a, b Request) int { return a.Start.Compare(b.Start) })
	return out
}

// Depth returns the length of the longest chain of requests in which each
// one arrived after the one before was answered: the round trips a client
// made one after another. Requests sent at once count as one.
func Depth(reqs []Request) int {
	reqs = slices.Clone(reqs)
	slices.SortFunc(reqs, func(a, b Request) int { return a.Start.Compare(b.Start) })
	depth := make([]int, len(reqs))
	best := 0
	for i, r := range reqs {
		depth[i] = 1
		for j := range i {
			if !reqs[j].End.After(r.Start) && depth[j]+1 > depth[i] {
				depth[i] = depth[j] + 1
			}
		}
		best = max(best, depth[i])
	}
	return best
}

// statusWriter remembers the status code of the answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController (flushing, as the reverse proxy
// does) the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Close stops the proxy. It is called automatically by t.Cleanup and is
// safe to call more than once.
func (p *Proxy) Close() { p.srv.Close() }
