package inject

import (
	"fmt"
	"net"
	"net/url"
)

// CheckEndpoint enforces that a secret store's address is an http:// or
// https:// URL, and that plain http:// goes only to a loopback host unless
// allowHTTP (N8N_SECRETS_ALLOW_HTTP) opts in: secrets and tokens must not
// cross a network in clear text by accident. what names where the address
// came from, for the message. Errors wrap ErrNotConfigured.
func CheckEndpoint(raw string, allowHTTP bool, what string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %s must be an http:// or https:// URL", ErrNotConfigured, what)
	}
	if u.Scheme == "http" && !allowHTTP && !IsLoopback(u.Hostname()) {
		return fmt.Errorf("%w: %s uses plain http:// to %s, which is not loopback: use https://, or set N8N_SECRETS_ALLOW_HTTP=true to accept it",
			ErrNotConfigured, what, u.Hostname())
	}
	return nil
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
