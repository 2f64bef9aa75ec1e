package vault

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

func TestReadPathAndGuess(t *testing.T) {
	kv2 := mount{path: "secret/", typ: "kv", version: "2"}
	kv1 := mount{path: "kv1/", typ: "kv", version: "1"}
	nested := mount{path: "team/a/kv/", typ: "kv", version: "2"}
	db := mount{path: "database/", typ: "database"}
	unknown := mount{typ: "unknown"}
	tests := []struct {
		m         mount
		path, ver string
		want      string // "" when a bad reference
		guess     string // "" when no guess
	}{
		{kv2, "secret/n8n/core", "", "secret/data/n8n/core", "secret/data/n8n/core"},
		{kv2, "secret/n8n/core", "3", "secret/data/n8n/core", "secret/data/n8n/core"},
		{kv2, "secret/data/n8n/core", "", "secret/data/n8n/core", "secret/data/n8n/core"},
		{kv2, "secret/data", "", "secret/data/data", "secret/data/data"},
		{kv2, "secret", "", "", ""},
		{kv1, "kv1/n8n/redis", "", "kv1/n8n/redis", "kv1/data/n8n/redis"},
		{kv1, "kv1/n8n/redis", "2", "", "kv1/data/n8n/redis"},
		{kv1, "kv1", "", "", ""},
		{nested, "team/a/kv/n8n", "", "team/a/kv/data/n8n", "team/data/a/kv/n8n"},
		{nested, "team/a/kv", "", "", "team/data/a/kv"},
		{db, "database/creds/n8n", "", "database/creds/n8n", "database/data/creds/n8n"},
		{unknown, "secret/n8n/core", "2", "secret/n8n/core", "secret/data/n8n/core"},
	}
	for _, tt := range tests {
		ref := inject.Reference{Scheme: Scheme, Loc: Ref{LogicalPath: tt.path, Ver: tt.ver}}
		got, params, err := readPath(tt.m, ref)
		if tt.want == "" {
			if !errors.Is(err, inject.ErrBadReference) {
				t.Errorf("%s on %s: %q, %v; want a bad reference", tt.path, tt.m.path, got, err)
			}
		} else if err != nil || got != tt.want || params.Get("version") != tt.ver {
			t.Errorf("%s on %s: %q %v %v; want %q", tt.path, tt.m.path, got, params, err, tt.want)
		}
		g, gparams, ok := guessPath(ref)
		if ok != (tt.guess != "") || g != tt.guess || gparams.Get("version") != tt.ver {
			t.Errorf("%s: guess %q %v %v; want %q", tt.path, g, gparams, ok, tt.guess)
		}
	}
	// The guess is used only for the very same request.
	g := &guess{path: "secret/data/x", params: url.Values{"version": {"2"}}}
	if !g.matches("secret/data/x", url.Values{"version": {"2"}}) || g.matches("secret/data/x", nil) ||
		g.matches("secret/x", url.Values{"version": {"2"}}) || (*guess)(nil).matches("secret/data/x", nil) {
		t.Error("matches must compare path and query exactly")
	}
	if !(&guess{path: "a/data/b"}).matches("a/data/b", nil) {
		t.Error("no query on both sides matches")
	}
}

func TestRelativeMount(t *testing.T) {
	for _, tt := range []struct{ mp, path, want string }{
		{"secret/", "secret/n8n/db", "secret/"},
		{"secret/", "secret", "secret/"},
		{"parent/child/secret/", "child/secret/n8n/db", "child/secret/"},
		{"parent/child/secret/", "secret/x", "secret/"},
		{"team/a/kv/", "team/a/kv/x", "team/a/kv/"},
		{"other/", "secret/x", ""},
		{"", "secret/x", ""},
		{"secretx/", "secret/x", ""},
	} {
		if got := relativeMount(tt.mp, tt.path); got != tt.want {
			t.Errorf("relativeMount(%q, %q) = %q, want %q", tt.mp, tt.path, got, tt.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n": "permission denied; invalid token",
		"1 error occurred:\n\t* permission denied\n\n":                     "permission denied",
		"no handler for route \"x\". route entry not found.":               "no handler for route \"x\". route entry not found.",
		"  padded  ": "padded",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckRoute(t *testing.T) {
	noProxy := func(*http.Request) (*url.URL, error) { return nil, nil }
	proxyAt := func(raw string) func(*http.Request) (*url.URL, error) {
		u, _ := url.Parse(raw)
		return func(*http.Request) (*url.URL, error) { return u, nil }
	}
	for _, tt := range []struct {
		target string
		proxy  func(*http.Request) (*url.URL, error)
		allow  bool
		ok     bool
	}{
		{"https://vault.example:8200", noProxy, false, true},
		{"http://127.0.0.1:8200", noProxy, false, true},
		{"http://vault.example:8200", noProxy, false, false},
		{"http://vault.example:8200", noProxy, true, true},
		{"https://vault.example:8200", proxyAt("http://proxy.example:3128"), false, true},
		{"http://127.0.0.1:8200", proxyAt("http://proxy.example:3128"), false, false},
		{"http://127.0.0.1:8200", proxyAt("https://proxy.example:3128"), false, true},
		{"http://127.0.0.1:8200", proxyAt("http://127.0.0.1:3128"), false, true},
		{"http://127.0.0.1:8200", proxyAt("socks5://127.0.0.1:1080"), true, false},
	} {
		u, _ := url.Parse(tt.target)
		err := checkRoute(u, tt.proxy, tt.allow, "VAULT_ADDR")
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, inject.ErrNotConfigured)) {
			t.Errorf("%s (allow %v): %v, want ok %v", tt.target, tt.allow, err, tt.ok)
		}
	}
}

// TestGuessSentWhateverTheScheduling: a speculative read that was started
// is sent, even when it was dropped before its goroutine ran (the mount
// lookup answered first): a run's requests must not depend on which of
// two ready channels the scheduler picks.
func TestGuessSentWhateverTheScheduling(t *testing.T) {
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	p, err := New(Options{Getenv: func(k string) string {
		return map[string]string{"VAULT_ADDR": srv.URL, "VAULT_TOKEN": "t"}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	ref := inject.Reference{Scheme: Scheme, Loc: Ref{LogicalPath: "secret/n8n/db"}}
	const n = 100
	for range n {
		g := p.startGuess(context.Background(), ref)
		g.discard() // at once: usually before the guess's goroutine runs
		<-g.done
	}
	if got.Load() != n {
		t.Errorf("%d of %d started guesses were sent", got.Load(), n)
	}
}
