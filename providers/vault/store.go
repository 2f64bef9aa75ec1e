package vault

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Scheme is the scheme of Vault references.
const Scheme = "vault"

// Store declares the Vault store to the core: vault://<path>[?version=N][#selector].
var Store = inject.Store{
	Scheme:  Scheme,
	Syntax:  "vault://<path>[?version=N][#selector]",
	Options: []inject.Option{{Name: "version", Meaning: "a KV v2 version (a positive integer); default the latest"}},
	Parse: func(path string, opts map[string]string) (inject.Locator, error) {
		return ParseRef(path, opts)
	},
	OwnedVars:      inject.Matcher{"VAULT_*", "SSL_CERT_FILE"},
	CredentialVars: inject.Matcher(CredentialVars),
	Hints: map[inject.Code]string{
		inject.CodeAuthFailed:    "check Vault's credentials: the token (VAULT_TOKEN, <secrets dir>/vault_token), the AppRole ids (vault_role_id, vault_secret_id) or the service-account JWT, and that they have not expired",
		inject.CodeNotConfigured: "configure Vault: VAULT_ADDR, and a token or a login method (VAULT_AUTH_METHOD and its credentials)",
	},
	New: func(c inject.Config) (inject.Provider, error) {
		return New(Options{Getenv: c.Getenv, SecretsDir: c.SecretsDir, AllowHTTP: c.AllowHTTP, Logger: c.Logger})
	},
	Provider: (*Provider)(nil),
}

// Ref is a Vault reference's own part: the logical path as `vault kv get`
// takes it (secret/n8n/core), and the version pinned, if any.
type Ref struct {
	LogicalPath string
	Ver         string // version=N, "" for the latest
}

// Path returns the logical path.
func (r Ref) Path() string { return r.LogicalPath }

// Version returns the version pinned, "" when none.
func (r Ref) Version() string { return r.Ver }

// String writes the path back percent-escaped, and the version option.
func (r Ref) String() string {
	s := escapePath(r.LogicalPath)
	if r.Ver != "" {
		s += "?version=" + r.Ver
	}
	return s
}

// ParseRef parses what follows "vault://": the path, percent-decoded (%20
// or a space, %23 '#', %3F '?', %25 '%'), and the option version=N. It
// does no I/O; errors never repeat the input.
func ParseRef(path string, opts map[string]string) (Ref, error) {
	var r Ref
	for k, v := range opts {
		switch k {
		case "version":
			if n, err := strconv.Atoi(v); err != nil || n <= 0 || strconv.Itoa(n) != v {
				return r, badRef("option version must be a positive integer")
			}
			r.Ver = v
		default:
			return r, badRef("unknown option %q", k)
		}
	}
	p, err := unescapePath(path)
	if err != nil {
		return r, err
	}
	if p == "" {
		return r, badRef("empty path")
	}
	if strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		return r, badRef("vault path must not start or end with '/' or hold '//' (like secret/n8n/core)")
	}
	if hasDotSegment(p) {
		return r, badRef("vault path must not hold '.' or '..' segments")
	}
	if strings.IndexFunc(p, func(c rune) bool { return c < 0x20 || c == 0x7f }) >= 0 {
		return r, badRef("vault path must not hold control characters (%%09 and the like)")
	}
	if strings.TrimSpace(p) != p {
		return r, badRef("vault path must not start or end with white space")
	}
	if !utf8.ValidString(p) {
		return r, badRef("vault path is not UTF-8 once its %%XX escapes are decoded")
	}
	r.LogicalPath = p
	return r, nil
}

func badRef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{inject.ErrBadReference}, args...)...)
}

// unescapePath decodes the percent escapes of a vault path: %XX is the
// byte XX (hex), so that a path can hold what the grammar reserves ('?'
// is %3F, '#' is %23, '%' is %25) or anything else (a space may also be
// written as it is). A '%' not followed by two hex digits is an error.
func unescapePath(p string) (string, error) {
	if !strings.Contains(p, "%") {
		return p, nil
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			return "", badRef("vault path: '%%' at byte %d is not followed by two hex digits (write %%25 for '%%')", i)
		}
		b.WriteByte(unhex(p[i+1])<<4 | unhex(p[i+2]))
		i += 2
	}
	return b.String(), nil
}

// escapePath writes a vault path back as ParseRef reads it: the bytes the
// grammar reserves, and those that cannot be written as they are,
// percent-escaped.
func escapePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '%' || c == '?' || c == '#' || c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
