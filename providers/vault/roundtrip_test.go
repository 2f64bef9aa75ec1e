package vault_test

// Round trips against the real Vault, seen from a proxy that adds a delay
// to every request and logs when each arrived and was answered: requests
// sent together overlap, requests sent one after another do not, so the
// log gives how many round trips deep a fetch was (testproxy.Depth). The
// delay is long next to the skew between goroutines started together on a
// loaded machine (under -race), so that it never makes a chain.

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/testproxy"
	"github.com/n8n-secrets/n8n-secrets/providers/vault"
)

// recorder is a slog handler that keeps every record, to prove that
// nothing was logged.
type recorder struct {
	mu   sync.Mutex
	recs []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := rec.Level.String() + " " + rec.Message
	rec.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	r.recs = append(r.recs, line)
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func (r *recorder) above(level slog.Level) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, l := range r.recs {
		if !strings.HasPrefix(l, "DEBUG") || level <= slog.LevelDebug {
			out = append(out, l)
		}
	}
	return out
}

// requestLog formats the proxy's log for a failure message.
func requestLog(reqs []testproxy.Request) string {
	var b strings.Builder
	t0 := time.Time{}
	for i, r := range reqs {
		if i == 0 {
			t0 = r.Start
		}
		fmt.Fprintf(&b, "\n  %6.1f–%6.1f ms %s %s -> %d", float64(r.Start.Sub(t0).Microseconds())/1000,
			float64(r.End.Sub(t0).Microseconds())/1000, r.Method, r.Path, r.Status)
	}
	return b.String()
}

func TestRoundTripDepth(t *testing.T) {
	v := seed(t)
	v.MountKV("team/a/kv", 2)
	v.PutKV("team/a/kv/n8n", map[string]any{"k": canaryPrefix + "nested"})
	v.WritePolicy("all", `path "*" { capabilities = ["read"] }`)
	roleID, secretID := v.EnableAppRole("n8n", "all")
	px := testproxy.New(t, v.Addr, 50*time.Millisecond)
	tests := []struct {
		name     string
		vars     map[string]string
		ref      string
		want     string
		depth    int
		requests []string // the paths, in any order
	}{
		// A token given by the user may have a limited number of uses
		// (num_uses), which nothing can tell without spending one: no
		// speculative read, the lookup first (as Vault's CLI does).
		{"token, KV v2: the lookup, then the read", map[string]string{"VAULT_TOKEN": v.RootToken},
			"vault://secret/n8n/db", "db", 2,
			[]string{"/v1/sys/internal/ui/mounts/secret/n8n/db", "/v1/secret/data/n8n/db"}},
		{"token, KV v2 with a version", map[string]string{"VAULT_TOKEN": v.RootToken},
			"vault://secret/n8n/core?version=2#encryption_key", "key-v2", 2,
			[]string{"/v1/sys/internal/ui/mounts/secret/n8n/core", "/v1/secret/data/n8n/core?version=2"}},
		{"token, KV v1: no guess", map[string]string{"VAULT_TOKEN": v.RootToken},
			"vault://kv1/n8n/redis", "redis", 2,
			[]string{"/v1/sys/internal/ui/mounts/kv1/n8n/redis", "/v1/kv1/n8n/redis"}},
		// A login token whose answer said num_uses 0: the read goes with
		// the lookup.
		{"approle, KV v2: the login, then the read with the lookup", map[string]string{"VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID},
			"vault://secret/n8n/db", "db", 2,
			[]string{"/v1/auth/approle/login", "/v1/sys/internal/ui/mounts/secret/n8n/db", "/v1/secret/data/n8n/db"}},
		{"approle, a path naming data/", map[string]string{"VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID},
			"vault://secret/data/n8n/db", "db", 2,
			[]string{"/v1/auth/approle/login", "/v1/sys/internal/ui/mounts/secret/data/n8n/db", "/v1/secret/data/n8n/db"}},
		{"approle, KV v1: the guess is dropped, the v1 path read", map[string]string{"VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID},
			"vault://kv1/n8n/redis", "redis", 3,
			[]string{"/v1/auth/approle/login", "/v1/sys/internal/ui/mounts/kv1/n8n/redis", "/v1/kv1/data/n8n/redis", "/v1/kv1/n8n/redis"}},
		{"approle, nested KV v2 mount: the guess is dropped", map[string]string{"VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID},
			"vault://team/a/kv/n8n#k", "nested", 3,
			[]string{"/v1/auth/approle/login", "/v1/sys/internal/ui/mounts/team/a/kv/n8n", "/v1/team/data/a/kv/n8n", "/v1/team/a/kv/data/n8n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"VAULT_ADDR": px.URL}
			for k, val := range tt.vars {
				vars[k] = val
			}
			rec := &recorder{}
			p, err := vault.New(vault.Options{Getenv: env(vars), SecretsDir: t.TempDir(), Logger: slog.New(rec)})
			if err != nil {
				t.Fatal(err)
			}
			px.Reset()
			res, errs := resolve(t, p, tt.ref)
			noCanary(t, errs)
			if len(errs) > 0 || value(res[0]) != canaryPrefix+tt.want {
				t.Fatalf("errs %v", errs)
			}
			if res[0].Attempts != 1 {
				t.Errorf("%d attempts, want 1", res[0].Attempts)
			}
			reqs := px.Requests()
			var paths []string
			for _, r := range reqs {
				paths = append(paths, r.Path)
			}
			if !sameSet(paths, tt.requests) {
				t.Errorf("requests %v, want %v", paths, tt.requests)
			}
			if d := testproxy.Depth(reqs); d != tt.depth {
				t.Errorf("%d round trips deep, want %d:%s", d, tt.depth, requestLog(reqs))
			}
			if n := p.Requests(); n != int64(len(tt.requests)) {
				t.Errorf("Requests() = %d, want %d", n, len(tt.requests))
			}
			// The login is logged at info; nothing about the guess may be.
			var logged []string
			for _, l := range rec.above(slog.LevelInfo) {
				if !strings.Contains(l, "code="+vault.CodeLogin.Name()) {
					logged = append(logged, l)
				}
			}
			if len(logged) > 0 {
				t.Errorf("the speculative read must not be logged: %v", logged)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestGuessDeniedOnKV1: a policy that allows the KV v1 path and not the
// guessed kv1/data/… path. The 403 on the guess is no failure: the secret
// resolves at the first attempt, nothing is logged, nothing retried.
func TestGuessDeniedOnKV1(t *testing.T) {
	v := seed(t)
	v.WritePolicy("kv1-only", `path "kv1/n8n/*" { capabilities = ["read"] }`)
	roleID, secretID := v.EnableAppRole("n8n", "kv1-only")
	px := testproxy.New(t, v.Addr, 50*time.Millisecond)
	rec := &recorder{}
	p, err := vault.New(vault.Options{Getenv: env(map[string]string{"VAULT_ADDR": px.URL, "VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID}),
		SecretsDir: t.TempDir(), Logger: slog.New(rec)})
	if err != nil {
		t.Fatal(err)
	}
	r := &inject.Resolver{Providers: map[string]inject.Provider{"vault": p}, Logger: slog.New(rec)}
	ref, _ := inject.Stores{vault.Store}.Parse("vault://kv1/n8n/redis#password")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, errs := r.Resolve(ctx, []inject.Request{{Var: "REDIS", Ref: ref}})
	if len(errs) > 0 || value(res[0]) != canaryPrefix+"redis" || res[0].Attempts != 1 {
		t.Fatalf("errs %v, attempts %d", errs, res[0].Attempts)
	}
	denied := false
	for _, q := range px.Requests() {
		if q.Path == "/v1/kv1/data/n8n/redis" && q.Status == 403 {
			denied = true
		}
	}
	if !denied {
		t.Fatalf("the guessed path was not denied, the test proves nothing:%s", requestLog(px.Requests()))
	}
	for _, l := range rec.above(slog.LevelDebug) {
		if strings.Contains(l, "code="+vault.CodeLogin.Name()) {
			continue
		}
		if !strings.HasPrefix(l, "DEBUG") || strings.Contains(l, "kv1/data") || strings.Contains(l, "403") {
			t.Errorf("nothing may be logged about a dropped guess, got %q", l)
		}
	}
}

// TestConfirmedGuessIsTheAnswer: when the lookup confirms the guessed path,
// the guess's 404 or 403 is the read's answer, with no second read.
func TestConfirmedGuessIsTheAnswer(t *testing.T) {
	v := seed(t)
	v.WritePolicy("db-only", `path "secret/data/n8n/db" { capabilities = ["read"] }`)
	v.WritePolicy("all", `path "*" { capabilities = ["read"] }`)
	allRole, allSecret := v.EnableAppRole("all", "all")
	dbRole, dbSecret := v.EnableAppRole("db", "db-only")
	px := testproxy.New(t, v.Addr, 0)
	for _, tc := range []struct {
		role, secret, ref string
		code              inject.Code
	}{
		{allRole, allSecret, "vault://secret/n8n/none#k", inject.CodeSecretNotFound},
		{dbRole, dbSecret, "vault://secret/n8n/core#encryption_key", inject.CodePermissionDenied},
	} {
		p := newProvider(t, map[string]string{"VAULT_ADDR": px.URL, "VAULT_ROLE_ID": tc.role, "VAULT_SECRET_ID": tc.secret})
		px.Reset()
		res, errs := resolve(t, p, tc.ref)
		if len(errs) != 1 || res[0].Err.Code != tc.code || res[0].Attempts != 1 {
			t.Fatalf("%s: errs %v, want %s at once", tc.ref, errs, tc.code)
		}
		if n := px.Count(); n != 3 {
			t.Errorf("%s: %d requests, want 3 (the login, the lookup and the read)", tc.ref, n)
		}
	}
}

// TestFiftySecretsOneRoundTrip: fifty KV v2 paths under one mount cost one
// lookup and fifty reads, all sent at once after the login; over TLS with
// HTTP/2 they share one connection (the reads wait for it rather than each
// dialing one).
func TestFiftySecretsOneRoundTrip(t *testing.T) {
	v := seed(t)
	v.WritePolicy("all", `path "*" { capabilities = ["read"] }`)
	roleID, secretID := v.EnableAppRole("n8n", "all")
	var refs []string
	for i := range 50 {
		v.PutKV(fmt.Sprintf("secret/many/s%02d", i), map[string]any{"v": fmt.Sprint(i)})
		refs = append(refs, fmt.Sprintf("vault://secret/many/s%02d", i))
	}
	for _, tc := range []struct {
		name  string
		px    *testproxy.Proxy
		conns int64 // 0: not checked
	}{
		// Over HTTP/1 each of the fifty reads dials its own connection: a
		// second of latency keeps a loaded machine's late goroutine from
		// reading as a second round trip.
		{"http1", testproxy.New(t, v.Addr, time.Second), 0},
		{"https-h2", testproxy.NewTLS(t, v.Addr, 200*time.Millisecond), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			px := tc.px
			vars := map[string]string{"VAULT_ADDR": px.URL, "VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID}
			if px.CAFile != "" {
				vars["VAULT_CACERT"] = px.CAFile
			}
			p := newProvider(t, vars)
			var reqs []inject.Request
			for i, s := range refs {
				ref, _ := inject.Stores{vault.Store}.Parse(s)
				reqs = append(reqs, inject.Request{Var: fmt.Sprintf("V%d", i), Ref: ref})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			// The injector's default concurrency, 64: every fetch at once.
			r := &inject.Resolver{Providers: map[string]inject.Provider{"vault": p}, Concurrency: 64}
			res, errs := r.Resolve(ctx, reqs)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			for i := range 50 {
				if value(res[i]) != fmt.Sprint(i) {
					t.Fatalf("s%02d: wrong value", i)
				}
			}
			var log []testproxy.Request
			for _, q := range px.Requests() {
				if q.Path != "/v1/auth/approle/login" {
					log = append(log, q)
				}
			}
			if len(log) != 51 {
				t.Errorf("%d requests after the login, want 51: one lookup and fifty reads", len(log))
			}
			if d := testproxy.Depth(log); d != 1 {
				t.Errorf("%d round trips deep, want 1:%s", d, requestLog(log))
			}
			if tc.conns != 0 && px.Conns() != tc.conns {
				t.Errorf("%d connections, want %d", px.Conns(), tc.conns)
			}
		})
	}
}
