package azkv

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestReadSettings(t *testing.T) {
	for _, tc := range []struct {
		name              string
		env               []string
		suffix, authority string
		discovery         bool
		err               string // the variable the error names
	}{
		{"defaults", nil, "vault.azure.net", "https://login.microsoftonline.com/", false, ""},
		{"China by suffix", []string{"AZURE_KEYVAULT_DNS_SUFFIX", "vault.azure.cn"}, "vault.azure.cn", "https://login.chinacloudapi.cn/", false, ""},
		{"China by authority", []string{"AZURE_AUTHORITY_HOST", "https://login.chinacloudapi.cn"}, "vault.azure.cn", "https://login.chinacloudapi.cn/", false, ""},
		{"US Government, leading dot", []string{"AZURE_KEYVAULT_DNS_SUFFIX", ".vault.usgovcloudapi.net"}, "vault.usgovcloudapi.net", "https://login.microsoftonline.us/", false, ""},
		{"Azure Stack Hub with Entra", []string{"AZURE_KEYVAULT_DNS_SUFFIX", "vault.local.azurestack.external"}, "vault.local.azurestack.external", "https://login.microsoftonline.com/", false, ""},
		{"private cloud", []string{"AZURE_KEYVAULT_DNS_SUFFIX", "vault.cloud.example", "AZURE_AUTHORITY_HOST", "https://login.cloud.example/"}, "vault.cloud.example", "https://login.cloud.example/", false, ""},
		{"unknown authority, public vaults: validated", []string{"AZURE_AUTHORITY_HOST", "https://login.micros0ftonline.com"}, "vault.azure.net", "https://login.micros0ftonline.com/", true, ""},
		{"suffix with a port", []string{"AZURE_KEYVAULT_DNS_SUFFIX", "localhost:8443"}, "localhost:8443", "https://login.microsoftonline.com/", false, ""},
		{"plain http authority", []string{"AZURE_AUTHORITY_HOST", "http://login.microsoftonline.com"}, "", "", false, "AZURE_AUTHORITY_HOST"},
		{"authority with a path", []string{"AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/tenant"}, "", "", false, "AZURE_AUTHORITY_HOST"},
		{"authority with credentials", []string{"AZURE_AUTHORITY_HOST", "https://user:pw@login.example"}, "", "", false, "AZURE_AUTHORITY_HOST"},
		{"suffix as a URL", []string{"AZURE_KEYVAULT_DNS_SUFFIX", "https://vault.azure.net"}, "", "", false, "AZURE_KEYVAULT_DNS_SUFFIX"},
		{"suffix with a space", []string{"AZURE_KEYVAULT_DNS_SUFFIX", "vault azure.net"}, "", "", false, "AZURE_KEYVAULT_DNS_SUFFIX"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := readSettings(envOf(tc.env...))
			if tc.err != "" {
				if !errors.Is(err, inject.ErrNotConfigured) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want ErrNotConfigured naming %s", err, tc.err)
				}
				if v := tc.env[1]; strings.Contains(err.Error(), v) {
					t.Fatal("the error repeats the value")
				}
				return
			}
			if err != nil || s.suffix != tc.suffix || s.authority != tc.authority || s.discovery != tc.discovery {
				t.Fatalf("got %+v, %v; want suffix %s authority %s discovery %v", s, err, tc.suffix, tc.authority, tc.discovery)
			}
		})
	}
}

// TestPlainHTTPRefused: every address a request can reach passes the
// plain-http rule: managed identity endpoints at New, and each request in
// the transport (its URL and its proxy).
func TestPlainHTTPRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		ok   bool
	}{
		{"App Service endpoint on loopback", []string{"IDENTITY_ENDPOINT", "http://127.0.0.1:41741/msi/token"}, true},
		{"managed identity endpoint off loopback", []string{"IDENTITY_ENDPOINT", "http://10.1.2.3:8080/msi/token"}, false},
		{"Cloud Shell's", []string{"MSI_ENDPOINT", "http://localhost:50342/oauth2/token"}, true},
		{"an older endpoint off loopback", []string{"MSI_ENDPOINT", "http://msi.example/token"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{Getenv: envOf(tc.env...)})
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, inject.ErrNotConfigured)) {
				t.Fatalf("error %v, want ok %v", err, tc.ok)
			}
		})
	}

	for _, tc := range []struct {
		name, url string
		env       []string
		allowHTTP bool
		ok        bool
	}{
		{"https vault", "https://kv.vault.azure.net/secrets/x", nil, false, true},
		{"http off loopback", "http://kv.example/secrets/x", nil, false, false},
		{"http off loopback, allowed", "http://kv.example/secrets/x", nil, true, true},
		{"IMDS", "http://169.254.169.254/metadata/identity/oauth2/token", nil, false, true},
		{"IMDS through a proxy", "http://169.254.169.254/metadata/identity/oauth2/token", []string{"HTTP_PROXY", "http://proxy.example:3128"}, false, false},
		{"IMDS, NO_PROXY", "http://169.254.169.254/metadata/identity/oauth2/token", []string{"HTTP_PROXY", "http://proxy.example:3128", "NO_PROXY", "169.254.169.254"}, false, true},
		{"https through an http proxy (a tunnel)", "https://kv.vault.azure.net/secrets/x", []string{"HTTPS_PROXY", "http://proxy.example:3128"}, false, true},
		{"loopback is never proxied", "http://127.0.0.1:41741/msi/token", []string{"HTTP_PROXY", "http://proxy.example:3128"}, false, true},
		{"http through a proxy off loopback, allowed", "http://kv.example/x", []string{"HTTP_PROXY", "http://proxy.example:3128"}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTransport(nil, envOf(tc.env...), tc.allowHTTP)
			u, _ := url.Parse(tc.url)
			err := tr.checkRoute(&http.Request{URL: u})
			if tc.ok != (err == nil) {
				t.Fatalf("error %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, inject.ErrNotConfigured) {
				t.Fatalf("error %v does not wrap ErrNotConfigured", err)
			}
		})
	}
}

func TestNewRefusesBadTokenCredentials(t *testing.T) {
	isolateEnv(t)
	t.Setenv("AZURE_TOKEN_CREDENTIALS", "SECRET-LOOKING-VALUE")
	_, err := New(Config{})
	if !errors.Is(err, inject.ErrNotConfigured) || strings.Contains(err.Error(), "SECRET-LOOKING-VALUE") {
		t.Fatalf("error %v, want ErrNotConfigured without the value", err)
	}
}
