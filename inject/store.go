package inject

import (
	"fmt"
	"log/slog"
	"strings"
)

// Locator is a store's own typed reference: what follows "scheme://" (or
// "scheme:" for a store that takes no "//"), parsed by the store's
// [Store.Parse] into its parts (path, version, stage, region, …). The
// dynamic value must be comparable (a struct of strings), since a
// [Reference] is a map key.
type Locator interface {
	// Path is what logs show of the reference: never a value.
	Path() string
	// Version is the version the reference pins, for logs; "" when none.
	Version() string
	// String writes the locator back as the store's Parse reads it: the
	// path and the store's own options ("?k=v&…"), without the common
	// grammar's optional=true and selector.
	String() string
}

// Option is one of a store's reference options, for help and docs.
type Option struct {
	Name, Meaning string
}

// Config is what a store's constructor gets: the environment, read once
// by the caller, and the settings every store may use.
type Config struct {
	Getenv     func(string) string // the environment
	SecretsDir string              // where secret files are mounted (/run/secrets)
	AllowHTTP  bool                // plain http:// allowed off loopback (see CheckEndpoint)
	Logger     *slog.Logger
}

// Store declares one backend: everything the core, the command line, the
// help text and the docs need to know of it. A store's package exports one
// Store value; the program keeps the list of those it has ([Stores]) and
// passes it where references are parsed. Adding a store changes nothing in
// this package.
type Store struct {
	// Scheme is the reference scheme, lowercase ("vault").
	Scheme string
	// Syntax is the reference's grammar line, for help and docs.
	Syntax string
	// Opaque marks a scheme written without "//" ("file:name"): Parse
	// then gets everything between "scheme:" and the options, slashes
	// included. Otherwise the reference must start with "scheme://" and
	// Parse gets what follows.
	Opaque bool
	// Options are the options Parse takes, besides the common optional=true.
	Options []Option
	// Parse turns the store's part of a reference into its Locator: path
	// is what follows the scheme up to '?' or '#'; opts are the options
	// other than optional, split, known (listed in Options), each given
	// once and not empty. Pure: no I/O. Errors name the problem and the
	// option by name, never the input's text; they are reported as bad
	// references.
	Parse func(path string, opts map[string]string) (Locator, error)
	// OwnedVars are the variables the store reads itself: never scanned
	// as references.
	OwnedVars Matcher
	// CredentialVars are removed from the child's environment unless
	// passed through.
	CredentialVars Matcher
	// Variables are the variables the store reads, for docs.
	Variables []Variable
	// Hints say what to do about an error of a code, for this store.
	Hints map[Code]string
	// New builds the store's provider. It must do no network I/O: a
	// provider logs in lazily, inside the resolver's retries and deadline.
	New func(Config) (Provider, error)
	// Provider is a value of the provider's type (a nil pointer will do):
	// its optional interfaces are the store's abilities (see Abilities).
	Provider Provider
	// Foreign are other tools' ways of naming this store's secrets
	// ("arn:aws:ssm:…" without a scheme, berglas's "sm://…"): a whole value
	// starting with one is passed on as it is, with a warning whose hint
	// says how to write it for this store (see Scanned.Foreign).
	Foreign []ForeignPrefix
}

// ForeignPrefix is the start of another tool's reference: what it is, in
// words, and what to do about it.
type ForeignPrefix struct {
	Prefix, Tool, Hint string
}

// Variable is an environment variable a store reads, for docs.
type Variable struct {
	Name, Meaning string
}

// Abilities lists what the store's provider can do beyond fetching, as
// its optional interfaces say: batch, watch, renew, revoke,
// renew-credential, access-review, request-count, close.
func (s Store) Abilities() []string {
	var out []string
	p := s.Provider
	if _, ok := p.(BatchProvider); ok {
		out = append(out, "batch")
	}
	if _, ok := p.(Watcher); ok {
		out = append(out, "watch")
	}
	if _, ok := p.(Renewer); ok {
		out = append(out, "renew")
	}
	if _, ok := p.(Revoker); ok {
		out = append(out, "revoke")
	}
	if _, ok := p.(CredentialRenewer); ok {
		out = append(out, "renew-credential")
	}
	if _, ok := p.(AccessReviewer); ok {
		out = append(out, "access-review")
	}
	if _, ok := p.(RequestCounter); ok {
		out = append(out, "request-count")
	}
	if _, ok := p.(Closer); ok {
		out = append(out, "close")
	}
	return out
}

// prefix is how a reference of the store starts: "vault://" or "file:".
func (s Store) prefix() string {
	if s.Opaque {
		return s.Scheme + ":"
	}
	return s.Scheme + "://"
}

// Stores is the list of stores a program has, in the order help and
// errors list them. It parses references: only its schemes are known.
type Stores []Store

// Lookup returns the store of scheme.
func (ss Stores) Lookup(scheme string) (Store, bool) {
	for _, s := range ss {
		if s.Scheme == scheme {
			return s, true
		}
	}
	return Store{}, false
}

// Schemes returns the stores' schemes, in order.
func (ss Stores) Schemes() []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Scheme
	}
	return out
}

// Check reports a declaration that cannot work: an empty or repeated
// scheme, one that is not lowercase letters, no Parse or New.
func (ss Stores) Check() error {
	seen := map[string]bool{}
	for i, s := range ss {
		if s.Scheme == "" || strings.Trim(s.Scheme, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return fmt.Errorf("store %d: scheme must be lowercase letters and digits", i+1)
		}
		if seen[s.Scheme] {
			return fmt.Errorf("store %s declared twice", s.Scheme)
		}
		seen[s.Scheme] = true
		if s.Parse == nil || s.New == nil {
			return fmt.Errorf("store %s: Parse and New are required", s.Scheme)
		}
	}
	return nil
}

// Matchers returns the union of the stores' owned variables and of their
// credential variables.
func (ss Stores) Matchers() (owned, credentials Matcher) {
	for _, s := range ss {
		owned = append(owned, s.OwnedVars...)
		credentials = append(credentials, s.CredentialVars...)
	}
	return owned, credentials
}

// Hint returns the store's hint for code, or "".
func (ss Stores) Hint(scheme string, code Code) string {
	s, _ := ss.Lookup(scheme)
	return s.Hints[code]
}

// known lists the stores' prefixes for an error: "vault://, awssm://, file:".
func (ss Stores) known() string {
	p := make([]string, len(ss))
	for i, s := range ss {
		p[i] = s.prefix()
	}
	return strings.Join(p, ", ")
}
