package testproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestProxyDelaysForwardsAndCounts(t *testing.T) {
	var gotHost, gotPath string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHost, gotPath = r.Host, r.URL.RequestURI()
		w.Header().Set("X-Upstream", "yes")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "hello "+r.Header.Get("X-Vault-Token"))
	}))
	defer upstream.Close()

	const delay = 30 * time.Millisecond
	p := New(t, upstream.URL, delay)
	if p.URL == upstream.URL || p.URL == "" {
		t.Fatalf("proxy URL %q must differ from upstream %q", p.URL, upstream.URL)
	}

	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest("GET", p.URL+"/v1/secret/data/x?version=2", nil)
		req.Header.Set("X-Vault-Token", "tok")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if elapsed := time.Since(start); elapsed < delay {
			t.Errorf("request took %v, want at least %v", elapsed, delay)
		}
		if resp.StatusCode != http.StatusTeapot || string(body) != "hello tok" || resp.Header.Get("X-Upstream") != "yes" {
			t.Errorf("got %d %q %v", resp.StatusCode, body, resp.Header)
		}
	}
	if gotPath != "/v1/secret/data/x?version=2" {
		t.Errorf("upstream saw path %q", gotPath)
	}
	if want := upstream.Listener.Addr().String(); gotHost != want {
		t.Errorf("upstream saw Host %q, want %q", gotHost, want)
	}
	if n := p.Count(); n != 3 {
		t.Errorf("Count() = %d, want 3", n)
	}
	p.Reset()
	if n := p.Count(); n != 0 {
		t.Errorf("Count() after Reset = %d, want 0", n)
	}
}

func TestProxyUpstreamDown(t *testing.T) {
	upstream := httptest.NewServer(http.NotFoundHandler())
	target := upstream.URL
	upstream.Close()
	p := New(t, target, 0)
	resp, err := http.Get(p.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d, want 502", resp.StatusCode)
	}
	if p.Count() != 1 {
		t.Errorf("Count() = %d, want 1", p.Count())
	}
}

func TestRequestLogAndDepth(t *testing.T) {
	// The first two requests are answered only once both have arrived, so
	// that they overlap however late the machine runs the goroutine.
	var both sync.WaitGroup
	both.Add(2)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/c" {
			both.Done()
			both.Wait()
		}
		if r.URL.Path == "/missing" {
			w.WriteHeader(http.StatusNotFound)
		}
		io.WriteString(w, "ok")
	}))
	defer upstream.Close()
	p := New(t, upstream.URL, 20*time.Millisecond)
	get := func(path string) {
		resp, err := http.Get(p.URL + path)
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// Two at once, then one after both: two round trips deep.
	done := make(chan struct{})
	go func() { get("/a?x=1"); close(done) }()
	get("/missing")
	<-done
	get("/c")
	reqs := p.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests logged, want 3", len(reqs))
	}
	if reqs[2].Path != "/c" || reqs[2].Status != http.StatusOK || reqs[2].Method != "GET" {
		t.Errorf("last request logged as %+v", reqs[2])
	}
	for _, r := range reqs {
		if r.Path == "/missing" && r.Status != http.StatusNotFound {
			t.Errorf("status %d logged for /missing, want 404", r.Status)
		}
		if r.Path == "/a?x=1" && r.Status != http.StatusOK {
			t.Errorf("the query must be kept and the status logged: %+v", r)
		}
		if !r.End.After(r.Start) {
			t.Errorf("%s: end %v not after start %v", r.Path, r.End, r.Start)
		}
	}
	if d := Depth(reqs); d != 2 {
		t.Errorf("Depth = %d, want 2", d)
	}
	if n := p.Conns(); n < 1 || n > 3 {
		t.Errorf("Conns() = %d, want the client's one or two connections", n)
	}
	if d := Depth(nil); d != 0 {
		t.Errorf("Depth(nil) = %d", d)
	}
	p.Reset()
	if len(p.Requests()) != 0 {
		t.Error("Reset must empty the log")
	}
}
