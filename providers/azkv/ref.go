package azkv

import (
	"fmt"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Scheme is the URI scheme of Azure Key Vault references.
const Scheme = "azkv"

// Syntax is the reference grammar, for help and the README.
const Syntax = "azkv://<vault-name>/<secret>[?version=V][#selector]"

// Ref is a parsed azkv:// reference: one secret of one vault, at its latest
// version or at a pinned one. It is comparable. The selector and
// optional=true are the common grammar's, not part of Ref.
type Ref struct {
	Vault     string // the vault's name, lowercase (its host is <Vault>.<DNS suffix>)
	Name      string // the secret's name, as written
	VersionID string // 32 lowercase hex digits, or "" for the latest version
}

// Path returns "<vault>/<secret>", what logs show as the path.
func (r Ref) Path() string { return r.Vault + "/" + r.Name }

// Version returns the pinned version, or "" when the reference follows the
// latest.
func (r Ref) Version() string { return r.VersionID }

// String writes the reference back without its scheme: the path, then
// "?version=V" when a version is pinned. ParseRef of the part before '?'
// and of the options after it gives an equal Ref.
func (r Ref) String() string {
	if r.VersionID != "" {
		return r.Path() + "?version=" + r.VersionID
	}
	return r.Path()
}

// Options are the reference options ParseRef takes, for docs and help.
var Options = []struct{ Name, Meaning string }{
	{"version", "a version of the secret: the 32 hex digits that end the version's id; default: the latest version"},
}

// ParseRef parses what follows "azkv://" up to '?' (path) and the options
// other than optional=true (opts, already split; duplicates refused by the
// common grammar). It does no I/O. Errors wrap inject.ErrBadReference and
// never repeat the input.
func ParseRef(path string, opts map[string]string) (Ref, error) {
	var r Ref
	for k := range opts {
		if k != "version" {
			return r, badRef("unknown option (azkv takes: version)")
		}
	}
	vaultName, name, ok := strings.Cut(path, "/")
	switch {
	case path == "":
		return r, badRef("empty path: azkv references are azkv://<vault-name>/<secret>")
	case !ok:
		return r, badRef("the path must be <vault-name>/<secret>")
	case strings.Contains(name, "/"):
		return r, badRef("the path must be <vault-name>/<secret>, nothing after the secret's name (a version goes in ?version=)")
	}
	if err := checkVaultName(vaultName); err != nil {
		return r, err
	}
	if !validSecretName(name) {
		return r, badRef("the secret name must be 1 to 127 letters, digits and hyphens")
	}
	r.Vault, r.Name = strings.ToLower(vaultName), name
	if v, ok := opts["version"]; ok {
		if !validVersion(v) {
			return r, badRef("option version must be a Key Vault version id: 32 hex digits")
		}
		r.VersionID = strings.ToLower(v)
	}
	return r, nil
}

// checkVaultName applies Azure's naming rule for vaults: 3 to 24
// characters, letters, digits and hyphens, starting with a letter, ending
// with a letter or digit, no two hyphens in a row.
func checkVaultName(v string) error {
	if strings.Contains(v, ".") {
		return badRef("the vault is given by its name, not its host (for another cloud set AZURE_KEYVAULT_DNS_SUFFIX)")
	}
	ok := len(v) >= 3 && len(v) <= 24 && isLetter(v[0]) && (isLetter(v[len(v)-1]) || isDigit(v[len(v)-1])) && !strings.Contains(v, "--")
	for i := 0; ok && i < len(v); i++ {
		ok = isLetter(v[i]) || isDigit(v[i]) || v[i] == '-'
	}
	if !ok {
		return badRef("the vault name must be 3 to 24 letters, digits and hyphens, start with a letter, end with a letter or digit, and have no '--'")
	}
	return nil
}

func validSecretName(n string) bool {
	if len(n) == 0 || len(n) > 127 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if !isLetter(n[i]) && !isDigit(n[i]) && n[i] != '-' {
			return false
		}
	}
	return true
}

func validVersion(v string) bool {
	if len(v) != 32 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) && !(v[i] >= 'a' && v[i] <= 'f') && !(v[i] >= 'A' && v[i] <= 'F') {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

func badRef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{inject.ErrBadReference}, args...)...)
}
