package vault_test

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
)

// TestHTTP2AndCACertBytes: over TLS the client speaks HTTP/2 (fifty reads
// share one connection), and VAULT_CACERT_BYTES, the CA as PEM text in the
// variable, is honoured as Vault's client honours it.
func TestHTTP2AndCACertBytes(t *testing.T) {
	v := seed(t)
	target, _ := url.Parse(v.Addr)
	rp := httputil.NewSingleHostReverseProxy(target)
	var h1, h2 atomic.Int32
	front := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			h2.Add(1)
		} else {
			h1.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	front.EnableHTTP2 = true
	front.StartTLS()
	t.Cleanup(front.Close)
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw}))
	p := newProvider(t, map[string]string{"VAULT_ADDR": front.URL, "VAULT_TOKEN": v.RootToken, "VAULT_CACERT_BYTES": ca})
	res, errs := resolve(t, p, "vault://secret/n8n/db", "vault://kv1/n8n/redis#password")
	if len(errs) > 0 || value(res[0]) != canaryPrefix+"db" {
		t.Fatalf("errs %v", errs)
	}
	if h1.Load() != 0 || h2.Load() == 0 {
		t.Errorf("%d HTTP/1 and %d HTTP/2 requests: want HTTP/2 only", h1.Load(), h2.Load())
	}
}
