package vault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Hints for the operator, attached to errors with inject.WithHint.
const (
	hintInvalidToken = "Vault does not accept the token: it is invalid, expired or revoked. Issue a new one " +
		"(VAULT_TOKEN, VAULT_TOKEN_FILE or vault_token in the secrets dir), or use a login method that renews itself (AppRole, Kubernetes)"
	hintSecretIDUsed = "an earlier login attempt whose answer was lost may have used up a single-use AppRole secret id " +
		"(secret_id_num_uses=1): issue a new secret id, or one that allows a few uses, so that a retried login can succeed"
	hintSecretID = "check the AppRole role id and secret id (VAULT_ROLE_ID, VAULT_SECRET_ID or their files); " +
		"a secret id expires with its TTL and after secret_id_num_uses logins"
	hintTLSScheme = "VAULT_ADDR says https:// but the server speaks plain HTTP: use https on the server, or http:// for a Vault on loopback"
	hintRejected  = "Vault rejected the request for this path as invalid: check that the path names a secret this engine can read"
)

// classify maps an error of the Vault client to the core's sentinels:
// only network faults, 5xx, 412 and 429 are transient (ErrUnavailable);
// every other failure is permanent and says why. Messages keep Vault's own
// error strings (which never hold values), flattened to one line.
func classify(op string, err error) error {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return classifyStatus(op, re)
	}
	var refused *refusedError
	if errors.As(err, &refused) {
		return fmt.Errorf("vault: %s: %w", op, refused.err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("vault: %s: %w", op, err)
	}
	if classified(err) {
		return err
	}
	if e := classifyTLS(op, err); e != nil {
		return e
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// Connection refused, reset, timeouts, DNS: worth another attempt.
		return fmt.Errorf("vault: %s: %w: %v", op, inject.ErrUnavailable, ue.Err)
	}
	// What the client refuses before sending anything (a redirect to
	// http:// from https://, a redirect without a usable Location) will
	// not change with another attempt.
	return fmt.Errorf("vault: %s: %w: the Vault client refused the request: %s", op, inject.ErrNotConfigured, trunc(oneLine(err.Error()), 200))
}

// classified reports whether err already wraps one of the core's sentinels
// (an error of this package's own making).
func classified(err error) bool {
	for _, s := range []error{inject.ErrNotFound, inject.ErrKeyNotFound, inject.ErrPermission, inject.ErrAuth,
		inject.ErrUnavailable, inject.ErrBadData, inject.ErrBadReference, inject.ErrNotConfigured} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// classifyTLS returns the settings error for a TLS failure that another
// attempt cannot fix, or nil.
func classifyTLS(op string, err error) error {
	var rhe tls.RecordHeaderError
	if errors.Is(err, http.ErrSchemeMismatch) || errors.As(err, &rhe) {
		return inject.WithHint(fmt.Errorf("vault: %s: %w: TLS: the server does not speak TLS (https:// to a plain-HTTP server?)", op, inject.ErrNotConfigured), hintTLSScheme)
	}
	var cve *tls.CertificateVerificationError
	var hne x509.HostnameError
	var uae x509.UnknownAuthorityError
	if errors.As(err, &cve) || errors.As(err, &hne) || errors.As(err, &uae) {
		return fmt.Errorf("vault: %s: %w: TLS: the server's certificate is not trusted (set VAULT_CACERT, or VAULT_TLS_SERVER_NAME): %v",
			op, inject.ErrNotConfigured, unwrapURL(err))
	}
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return fmt.Errorf("vault: %s: %w: TLS: the server refused the handshake (%v): check VAULT_CLIENT_CERT and VAULT_CLIENT_KEY, and the TLS versions both accept",
			op, inject.ErrNotConfigured, alert)
	}
	return nil
}

// classifyStatus maps Vault's answer with an error status.
func classifyStatus(op string, re *api.ResponseError) error {
	msg := statusText(re)
	switch code := re.StatusCode; {
	case code == http.StatusForbidden && invalidToken(re):
		return inject.WithHint(fmt.Errorf("vault: %s: %w: Vault does not accept the token (invalid, expired or revoked) (HTTP 403)", op, inject.ErrAuth), hintInvalidToken)
	case code == http.StatusUnauthorized:
		return fmt.Errorf("vault: %s: %w (%s)", op, inject.ErrAuth, msg)
	case code == http.StatusForbidden:
		return fmt.Errorf("vault: %s: %w (%s)", op, inject.ErrPermission, msg)
	case code == http.StatusNotFound:
		return fmt.Errorf("vault: %s: %w (%s)", op, inject.ErrNotFound, msg)
	case code == http.StatusProxyAuthRequired:
		return fmt.Errorf("vault: %s: %w: the HTTP proxy wants credentials (%s)", op, inject.ErrNotConfigured, msg)
	case code == http.StatusTooManyRequests || code == http.StatusPreconditionFailed || code >= 500:
		return fmt.Errorf("vault: %s: %w (%s)", op, inject.ErrUnavailable, msg)
	default:
		// Any other 4xx: Vault refused this request as it is, and will
		// refuse it again.
		return inject.WithHint(fmt.Errorf("vault: %s: %w: Vault rejected the request (%s)", op, inject.ErrBadReference, msg), hintRejected)
	}
}

// classifyLogin maps a failed login: a 4xx answer (other than 412 and 429)
// means the credentials were refused (ErrAuth); the rest as classify.
// lostBefore says that an earlier attempt failed after its request may
// have reached Vault.
func classifyLogin(method, path string, err error, lostBefore bool) error {
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode >= 400 && re.StatusCode < 500 && re.StatusCode != 429 && re.StatusCode != 412 && re.StatusCode != 407 {
		e := fmt.Errorf("vault: %s login at %s: %w (%s)", method, path, inject.ErrAuth, statusText(re))
		if method == "approle" {
			if lostBefore {
				return inject.WithHint(e, hintSecretIDUsed)
			}
			return inject.WithHint(e, hintSecretID)
		}
		return e
	}
	return classify(method+" login at "+path, err)
}

// invalidToken reports whether Vault refused the token itself rather than
// what the token may do. Vault answers both with 403, and says "invalid
// token" in the first case.
func invalidToken(re *api.ResponseError) bool {
	for _, e := range re.Errors {
		if strings.Contains(e, "invalid token") {
			return true
		}
	}
	return false
}

// noRoute reports whether Vault said that no secrets engine serves the path.
func noRoute(re *api.ResponseError) bool {
	for _, e := range re.Errors {
		if strings.Contains(e, "no handler for route") {
			return true
		}
	}
	return false
}

// statusText is "HTTP <code>" and Vault's error strings on one line. A body
// that is not Vault's JSON (a proxy's HTML page) is left out.
func statusText(re *api.ResponseError) string {
	msg := fmt.Sprintf("HTTP %d", re.StatusCode)
	if re.RawError {
		return msg
	}
	var parts []string
	for _, e := range re.Errors {
		if e = oneLine(e); e != "" {
			parts = append(parts, e)
		}
	}
	if len(parts) > 0 {
		msg += ": " + trunc(strings.Join(parts, "; "), 200)
	}
	return msg
}

// oneLine flattens Vault's multi-line error text ("2 errors occurred:\n\t*
// permission denied\n\t* invalid token\n\n") to "permission denied; invalid
// token".
func oneLine(s string) string {
	var parts []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimSpace(strings.TrimPrefix(line, "*"))
		if line == "" || (strings.HasSuffix(line, "errors occurred:") || strings.HasSuffix(line, "error occurred:")) {
			continue
		}
		parts = append(parts, line)
	}
	return strings.Join(parts, "; ")
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
