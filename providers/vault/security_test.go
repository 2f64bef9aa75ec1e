package vault_test

// Where requests may go, and what fails at once: the client is built from
// what New validated, every address a request can reach (VAULT_ADDR,
// VAULT_AGENT_ADDR, a proxy, a redirect) passes the plain-http rule, and
// permanent faults are never retried. Names under .invalid never resolve:
// a refusal there proves that nothing was looked up or sent.

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/providers/vault"
)

func TestAddressesRefusedBeforeAnyLookup(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"agent address", map[string]string{"VAULT_ADDR": "https://vault.invalid:8200", "VAULT_AGENT_ADDR": "http://agent.invalid:8100"}, "VAULT_AGENT_ADDR uses plain http:// to agent.invalid"},
		{"proxy addr", map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200", "VAULT_PROXY_ADDR": "http://proxy.invalid:3128"}, "the proxy for VAULT_ADDR uses plain http:// to proxy.invalid"},
		{"http proxy", map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200", "VAULT_HTTP_PROXY": "http://proxy.invalid:3128"}, "the proxy for VAULT_ADDR uses plain http:// to proxy.invalid"},
		{"proxy for the agent", map[string]string{"VAULT_AGENT_ADDR": "http://127.0.0.1:8100", "VAULT_PROXY_ADDR": "http://proxy.invalid:3128"}, "the proxy for VAULT_AGENT_ADDR"},
		{"standard proxy for an allowed http vault", map[string]string{"VAULT_ADDR": "http://vault.invalid:8200", "HTTP_PROXY": "http://proxy.invalid:3128"}, ""},
		{"proxy not http", map[string]string{"VAULT_ADDR": "https://vault.invalid:8200", "VAULT_PROXY_ADDR": "socks5://proxy.invalid:1080"}, "VAULT_PROXY_ADDR must be an http:// or https:// URL"},
		{"srv lookup", map[string]string{"VAULT_ADDR": "https://vault.invalid", "VAULT_SRV_LOOKUP": "true"}, "VAULT_SRV_LOOKUP=true is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.vars["VAULT_TOKEN"] = "t"
			_, err := vault.New(vault.Options{Getenv: env(tt.vars), SecretsDir: t.TempDir()})
			if tt.want == "" {
				// With N8N_SECRETS_ALLOW_HTTP refused for the address
				// itself first: the opt-in then covers the proxy too.
				_, err = vault.New(vault.Options{Getenv: env(tt.vars), SecretsDir: t.TempDir(), AllowHTTP: true})
				if err != nil {
					t.Fatalf("with AllowHTTP: %v", err)
				}
				return
			}
			if !errors.Is(err, inject.ErrNotConfigured) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrNotConfigured with %q", err, tt.want)
			}
			if h := inject.HintOf(err); !strings.Contains(h, "Vault") || strings.Contains(h, "AWS") {
				t.Errorf("hint %q: want one about Vault's settings alone", h)
			}
		})
	}
	// An http:// proxy in front of an https:// Vault only relays TLS: allowed.
	if _, err := vault.New(vault.Options{Getenv: env(map[string]string{"VAULT_ADDR": "https://vault.invalid:8200",
		"VAULT_PROXY_ADDR": "http://proxy.invalid:3128", "VAULT_TOKEN": "t"})}); err != nil {
		t.Errorf("an http proxy for an https Vault: %v", err)
	}
}

// TestAgentAddressHonoured: VAULT_AGENT_ADDR receives every request instead
// of VAULT_ADDR, as with Vault's own client.
func TestAgentAddressHonoured(t *testing.T) {
	v := seed(t)
	p := newProvider(t, map[string]string{"VAULT_ADDR": "https://vault.invalid:8200", "VAULT_AGENT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken})
	res, errs := resolve(t, p, "vault://secret/n8n/db")
	if len(errs) > 0 || value(res[0]) != canaryPrefix+"db" {
		t.Fatalf("through the agent address: %v", errs)
	}
}

// forwardProxy is a plain HTTP forward proxy on loopback that records the
// requests it relays.
func forwardProxy(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		out := r.Clone(r.Context())
		out.RequestURI = ""
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestProxyHonoured: a proxy that passes the rule carries the requests.
// The standard HTTP_PROXY never applies to loopback; VAULT_PROXY_ADDR
// applies to every request, as with Vault's client.
func TestProxyHonoured(t *testing.T) {
	v := seed(t)
	proxy, n := forwardProxy(t)
	p := newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken, "VAULT_PROXY_ADDR": proxy.URL})
	if res, errs := resolve(t, p, "vault://secret/n8n/db"); len(errs) > 0 || value(res[0]) != canaryPrefix+"db" {
		t.Fatalf("through VAULT_PROXY_ADDR: %v", errs)
	}
	if n.Load() != 2 {
		t.Errorf("the proxy relayed %d requests, want 2", n.Load())
	}
	n.Store(0)
	p = newProvider(t, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken, "HTTP_PROXY": proxy.URL})
	if _, errs := resolve(t, p, "vault://secret/n8n/db"); len(errs) > 0 || n.Load() != 0 {
		t.Fatalf("HTTP_PROXY must not apply to loopback: errs %v, %d relayed", errs, n.Load())
	}
}

// redirector answers every request with a 307 to target's host, and counts.
func redirector(t *testing.T, target string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Redirect(w, r, target+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestRedirectTargets: Vault's client follows one redirect by itself. Its
// target passes the same rule: to a non-loopback http:// address the
// request is never sent (64 at once); to loopback it is followed; with
// VAULT_DISABLE_REDIRECTS it is not.
func TestRedirectTargets(t *testing.T) {
	v := seed(t)
	bad, _ := redirector(t, "http://vault.invalid:8200")
	p := newProvider(t, map[string]string{"VAULT_ADDR": bad.URL, "VAULT_TOKEN": v.RootToken})
	res, errs := resolve(t, p, "vault://secret/n8n/db")
	if len(errs) != 1 || res[0].Err.Code != inject.CodeNotConfigured || res[0].Attempts != 1 {
		t.Fatalf("errs %v, want PROVIDER_NOT_CONFIGURED at once", errs)
	}
	if msg := errs[0].Error(); !strings.Contains(msg, "a redirect from Vault uses plain http:// to vault.invalid") || strings.Contains(msg, "no such host") {
		t.Errorf("the refusal must name the redirect, before any lookup: %v", msg)
	}
	if p.Requests() != 1 {
		t.Errorf("%d requests sent, want the mount lookup to the loopback server only", p.Requests())
	}

	// A non-loopback address of this machine, where a listener can prove
	// that nothing arrives.
	if ip := nonLoopbackIP(); ip != "" {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err == nil {
			var got atomic.Int32
			target := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) })}
			go target.Serve(l)
			t.Cleanup(func() { target.Close() })
			red, _ := redirector(t, "http://"+l.Addr().String())
			p := newProvider(t, map[string]string{"VAULT_ADDR": red.URL, "VAULT_TOKEN": v.RootToken})
			if _, errs := resolve(t, p, "vault://secret/n8n/db"); len(errs) != 1 || inject.CodeOf(errs[0]) != inject.CodeNotConfigured {
				t.Errorf("redirect to %s: %v", ip, errs)
			}
			if got.Load() != 0 {
				t.Errorf("%d requests reached the non-loopback target", got.Load())
			}
		}
	}

	good, hits := redirector(t, v.Addr)
	p = newProvider(t, map[string]string{"VAULT_ADDR": good.URL, "VAULT_TOKEN": v.RootToken})
	if res, errs := resolve(t, p, "vault://secret/n8n/db"); len(errs) > 0 || value(res[0]) != canaryPrefix+"db" || hits.Load() == 0 {
		t.Fatalf("a redirect to loopback must be followed: %v", errs)
	}
	p = newProvider(t, map[string]string{"VAULT_ADDR": good.URL, "VAULT_TOKEN": v.RootToken, "VAULT_DISABLE_REDIRECTS": "true"})
	res, errs = resolve(t, p, "vault://secret/n8n/db")
	if len(errs) != 1 || res[0].Err.Code != inject.CodeNotConfigured || res[0].Attempts != 1 || !strings.Contains(errs[0].Error(), "VAULT_DISABLE_REDIRECTS") {
		t.Fatalf("VAULT_DISABLE_REDIRECTS: %v", errs)
	}
}

func nonLoopbackIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

// TestHTTPSToPlainHTTP: https:// to a server that speaks plain HTTP is a
// settings error at the first attempt, not an outage.
func TestHTTPSToPlainHTTP(t *testing.T) {
	v := seed(t)
	p := newProvider(t, map[string]string{"VAULT_ADDR": strings.Replace(v.Addr, "http://", "https://", 1), "VAULT_TOKEN": v.RootToken})
	res, errs := resolve(t, p, "vault://secret/n8n/db")
	if len(errs) != 1 || res[0].Err.Code != inject.CodeNotConfigured || res[0].Attempts != 1 {
		t.Fatalf("errs %v, want PROVIDER_NOT_CONFIGURED at once", errs)
	}
	if !strings.Contains(errs[0].Error(), "does not speak TLS") || inject.HintOf(errs[0]) == "" {
		t.Errorf("got %v", errs[0])
	}
}

// TestCredentialText: credentials that no request can carry fail in New,
// naming where they came from and never quoting them. A file's trailing
// newline is dropped; a variable's is an error.
func TestCredentialText(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const tok = canaryPrefix + "token"
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"token newline", map[string]string{"VAULT_TOKEN": tok + "\n"}, "VAULT_TOKEN ends with a newline"},
		{"token crlf", map[string]string{"VAULT_TOKEN": tok + "\r\n"}, "VAULT_TOKEN ends with a newline"},
		{"token control", map[string]string{"VAULT_TOKEN": canaryPrefix + "\x01x"}, "VAULT_TOKEN holds a control character"},
		{"token tab", map[string]string{"VAULT_TOKEN": canaryPrefix + "\tx"}, "VAULT_TOKEN holds a control character"},
		{"token file control", map[string]string{"VAULT_TOKEN_FILE": file("tok", tok+"\x07x\n")}, "(for VAULT_TOKEN) holds a control character"},
		{"secret id newline", map[string]string{"VAULT_ROLE_ID": "r", "VAULT_SECRET_ID": tok + "\n"}, "VAULT_SECRET_ID ends with a newline"},
		{"role id file control", map[string]string{"VAULT_ROLE_ID_FILE": file("rid", "r\x00x")}, "(for VAULT_ROLE_ID) holds a control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.vars["VAULT_ADDR"] = "https://vault.invalid:8200"
			_, err := vault.New(vault.Options{Getenv: env(tt.vars), SecretsDir: t.TempDir()})
			if !errors.Is(err, inject.ErrNotConfigured) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrNotConfigured with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), canaryPrefix) {
				t.Error("the error quotes the credential")
			}
		})
	}
	if _, err := vault.New(vault.Options{Getenv: env(map[string]string{"VAULT_ADDR": "https://vault.invalid", "VAULT_TOKEN_FILE": file("ok", "hvs.x\r\n")})}); err != nil {
		t.Errorf("a token file ending in a newline must work: %v", err)
	}
}

// TestSettingsValidated: every variable the library parses by itself is
// validated first, so that a malformed one fails naming the variable,
// never with the library's text (which may quote the value).
func TestSettingsValidated(t *testing.T) {
	tests := map[string]string{
		"VAULT_MAX_RETRIES":       "lots",
		"VAULT_CLIENT_TIMEOUT":    "soon",
		"VAULT_RATE_LIMIT":        "fast",
		"VAULT_SKIP_VERIFY":       "yes",
		"VAULT_DISABLE_REDIRECTS": "maybe",
		"VAULT_SRV_LOOKUP":        "perhaps",
		"VAULT_PROXY_ADDR":        "::" + canaryPrefix,
		"VAULT_HTTP_PROXY":        "ftp://" + canaryPrefix + "@proxy",
		// No request can carry it: refused at once, not retried as an
		// outage until the deadline.
		"VAULT_NAMESPACE": canaryPrefix + "\n",
	}
	for name, val := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := vault.New(vault.Options{Getenv: env(map[string]string{"VAULT_ADDR": "https://vault.invalid", "VAULT_TOKEN": "t", name: val})})
			if !errors.Is(err, inject.ErrNotConfigured) || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), canaryPrefix) {
				t.Fatalf("err = %v, want ErrNotConfigured naming %s without its value", err, name)
			}
		})
	}
	for _, h := range []string{`not json`, `{"X-Vault-Token":"` + canaryPrefix + `"}`, `{"x-vault-wrap-ttl":"5m"}`, `{"A":1}`,
		`{"A":"` + canaryPrefix + `\r\nX: y"}`, `{"bad name":"x"}`} {
		_, err := vault.New(vault.Options{Getenv: env(map[string]string{"VAULT_ADDR": "https://vault.invalid", "VAULT_TOKEN": "t", "VAULT_HEADERS": h})})
		if !errors.Is(err, inject.ErrNotConfigured) || !strings.Contains(err.Error(), "VAULT_HEADERS") || strings.Contains(err.Error(), canaryPrefix) {
			t.Errorf("VAULT_HEADERS case: err = %v", err)
		}
	}
	for _, ok := range []map[string]string{
		{"VAULT_RATE_LIMIT": "10"}, {"VAULT_RATE_LIMIT": "2.5:5"}, {"VAULT_CLIENT_TIMEOUT": "30"}, {"VAULT_CLIENT_TIMEOUT": "1m"},
		{"VAULT_MAX_RETRIES": "3"}, {"VAULT_SKIP_VERIFY": "false"}, {"VAULT_SRV_LOOKUP": "false"}, {"VAULT_HEADERS": `{"X-Team":"n8n"}`},
	} {
		ok["VAULT_ADDR"], ok["VAULT_TOKEN"] = "https://vault.invalid", "t"
		if _, err := vault.New(vault.Options{Getenv: env(ok)}); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
}

// TestLibraryReadsOverridden: the variables Vault's client reads from the
// process environment by itself have no effect: only what the provider was
// given (Options.Getenv) configures it. The process environment here
// points elsewhere for everything, and holds a wrong token.
func TestLibraryReadsOverridden(t *testing.T) {
	v := seed(t)
	var mu sync.Mutex
	var seen []http.Header
	target, _ := url.Parse(v.Addr)
	rp := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	for k, val := range map[string]string{
		"VAULT_ADDR": "https://vault.invalid", "VAULT_AGENT_ADDR": "http://agent.invalid", "VAULT_TOKEN": "hvs.wrong",
		"VAULT_NAMESPACE": "elsewhere", "VAULT_HEADERS": `{"X-Leak":"yes"}`, "VAULT_PROXY_ADDR": "http://proxy.invalid:3128",
		"VAULT_HTTP_PROXY": "http://proxy.invalid:3128", "VAULT_WRAP_TTL": "5m", "VAULT_MAX_RETRIES": "7",
		"VAULT_CLIENT_TIMEOUT": "1", "VAULT_RATE_LIMIT": "0.001:1", "VAULT_DISABLE_REDIRECTS": "true",
		"HTTP_PROXY": "http://proxy.invalid:3128",
	} {
		t.Setenv(k, val)
	}
	p := newProvider(t, map[string]string{"VAULT_ADDR": front.URL, "VAULT_TOKEN": v.RootToken, "VAULT_HEADERS": `{"X-Team":"n8n"}`})
	res, errs := resolve(t, p, "vault://secret/n8n/db", "vault://secret/n8n/core#encryption_key")
	if len(errs) > 0 || value(res[0]) != canaryPrefix+"db" {
		t.Fatalf("errs %v", errs)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("no request reached the given address")
	}
	for _, h := range seen {
		if h.Get("X-Vault-Namespace") != "" || h.Get("X-Leak") != "" || h.Get("X-Vault-Wrap-TTL") != "" ||
			h.Get("X-Team") != "n8n" || h.Get("X-Vault-Request") != "true" || h.Get("X-Vault-Token") != v.RootToken {
			t.Errorf("headers sent: namespace %q, leak %q, wrap %q, team %q, request %q, right token %v",
				h.Get("X-Vault-Namespace"), h.Get("X-Leak"), h.Get("X-Vault-Wrap-TTL"), h.Get("X-Team"), h.Get("X-Vault-Request"),
				h.Get("X-Vault-Token") == v.RootToken)
		}
	}
}
