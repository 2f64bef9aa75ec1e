package azkv

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// azureCloud is one of Azure's clouds: its Key Vault DNS suffix and its Entra
// ID authority host.
type azureCloud struct {
	name, suffix, authority string
}

// clouds are those Azure documents (Azure Germany is retired). Setting
// either AZURE_KEYVAULT_DNS_SUFFIX or AZURE_AUTHORITY_HOST to one of theirs
// picks the other.
var clouds = []azureCloud{
	{"Azure public cloud", "vault.azure.net", "login.microsoftonline.com"},
	{"Azure China (21Vianet)", "vault.azure.cn", "login.chinacloudapi.cn"},
	{"Azure US Government", "vault.usgovcloudapi.net", "login.microsoftonline.us"},
}

// settings are what New read and validated from the environment.
type settings struct {
	suffix    string // host[:port] that vault names are prefixed to
	authority string // https://host[:port]/ of Entra ID
	// discovery is whether MSAL asks Entra's instance discovery about the
	// authority (see readSettings).
	discovery bool
}

// readSettings reads AZURE_KEYVAULT_DNS_SUFFIX and AZURE_AUTHORITY_HOST.
// Errors wrap inject.ErrNotConfigured and name the variable, never its
// value.
func readSettings(getenv func(string) string) (settings, error) {
	var s settings
	suffix := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(getenv("AZURE_KEYVAULT_DNS_SUFFIX")), "."))
	if suffix != "" && !validHostPort(suffix) {
		return s, fmt.Errorf("%w: AZURE_KEYVAULT_DNS_SUFFIX must be a DNS name, optionally with :port (like vault.azure.cn)", inject.ErrNotConfigured)
	}
	authHost := ""
	if a := strings.TrimSpace(getenv("AZURE_AUTHORITY_HOST")); a != "" {
		u, err := url.Parse(a)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" || !validHostPort(strings.ToLower(u.Host)) {
			return s, fmt.Errorf("%w: AZURE_AUTHORITY_HOST must be an https:// URL of a host alone, like https://login.microsoftonline.us/ (Entra ID takes no plain http://)", inject.ErrNotConfigured)
		}
		authHost = strings.ToLower(u.Host)
	}
	knownSuffix, knownAuthority := false, false
	for _, c := range clouds {
		if suffix == c.suffix {
			knownSuffix = true
			if authHost == "" {
				authHost = c.authority
			}
		}
		if authHost == c.authority {
			knownAuthority = true
			if suffix == "" {
				suffix = c.suffix
			}
		}
	}
	if suffix == "" {
		suffix = clouds[0].suffix
		knownSuffix = true
	}
	if authHost == "" {
		authHost = clouds[0].authority
		knownAuthority = true
	}
	s.suffix, s.authority = suffix, "https://"+authHost+"/"
	// MSAL's instance discovery asks login.microsoftonline.com about the
	// authority before the first token. For one of Azure's authorities
	// there is nothing to learn (a request saved); a private cloud's
	// (Azure Stack Hub, an air-gapped cloud) Entra does not know, and
	// login.microsoftonline.com may be out of reach. With one of Azure's
	// vault suffixes, an authority outside Azure's clouds is more likely a
	// typo: MSAL then asks, and Entra refuses a host that is not its own
	// before a client secret is sent there.
	s.discovery = knownSuffix && !knownAuthority
	return s, nil
}

// vaultURL returns the URL of the vault name.
func (s settings) vaultURL(name string) string { return "https://" + name + "." + s.suffix + "/" }

// validHostPort reports whether hp is a DNS name of letters, digits and
// hyphens, with an optional :port.
func validHostPort(hp string) bool {
	host, port := hp, ""
	if h, p, err := net.SplitHostPort(hp); err == nil {
		host, port = h, p
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	if host == "" || len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !isLetter(label[i]) && !isDigit(label[i]) && label[i] != '-' {
				return false
			}
		}
	}
	return true
}
