package vault_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// TestTLS reaches the real Vault through a TLS front (Vault itself serves
// plain HTTP on loopback here) that requires a client certificate: the CA
// comes from VAULT_CACERT, the client pair from VAULT_CLIENT_CERT and
// VAULT_CLIENT_KEY, as with Vault's own client.
func TestTLS(t *testing.T) {
	v := seed(t)
	target, _ := url.Parse(v.Addr)
	front := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	front.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	front.StartTLS()
	t.Cleanup(front.Close)

	dir := t.TempDir()
	writePEM := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := writePEM("ca.pem", "CERTIFICATE", front.Certificate().Raw)
	// httptest's own certificate doubles as the client certificate.
	cert := front.TLS.Certificates[0]
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	clientCert := writePEM("client.pem", "CERTIFICATE", cert.Certificate[0])
	clientKey := writePEM("client-key.pem", "PRIVATE KEY", keyDER)

	vars := map[string]string{"VAULT_ADDR": front.URL, "VAULT_TOKEN": v.RootToken, "VAULT_CACERT": ca,
		"VAULT_CLIENT_CERT": clientCert, "VAULT_CLIENT_KEY": clientKey}
	res, errs := resolve(t, newProvider(t, vars), "vault://secret/n8n/db")
	if len(errs) > 0 || value(res[0]) != canaryPrefix+"db" {
		t.Fatalf("over TLS with a client certificate: %v", errs)
	}

	// Without the CA the server is not trusted: a settings error at once,
	// not a fault to retry until the deadline.
	delete(vars, "VAULT_CACERT")
	res, errs = resolve(t, newProvider(t, vars), "vault://secret/n8n/db")
	if len(errs) != 1 || res[0].Err.Code != inject.CodeNotConfigured || res[0].Attempts != 1 {
		t.Fatalf("an untrusted server must fail at once as a settings error: %v", errs)
	}
}
