package file

import (
	"fmt"
	"path"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Scheme is the scheme of file references.
const Scheme = "file"

// Store declares the file store to the core: file:<name> (relative to the
// secrets dir) and file:///<absolute path>, written without "//" before a
// name. The core also reads NAME_FILE variables through it.
var Store = inject.Store{
	Scheme: Scheme,
	Syntax: "file:<name>[#selector] or file:///<absolute path>[#selector]",
	Opaque: true,
	Parse: func(path string, opts map[string]string) (inject.Locator, error) {
		return ParseRef(path, opts)
	},
	Hints: map[inject.Code]string{
		inject.CodeSecretNotFound: "check the file name against the secrets dir (N8N_SECRETS_DIR), or add ?optional=true if the variable may be absent",
	},
	New: func(c inject.Config) (inject.Provider, error) {
		return New(c.SecretsDir), nil
	},
	Provider: (*Provider)(nil),
}

// Ref is a file reference's own part: a name relative to the secrets dir,
// or an absolute path.
type Ref struct {
	Name string
}

// Path returns the name or the absolute path.
func (r Ref) Path() string { return r.Name }

// Version returns "": a file has no version.
func (r Ref) Version() string { return "" }

// IsAbs reports whether the reference names an absolute path.
func (r Ref) IsAbs() bool { return strings.HasPrefix(r.Name, "/") }

// Opaque tells inject.Reference.String that the scheme takes no "//".
func (r Ref) Opaque() bool { return true }

// String writes the reference back as ParseRef reads it: the name, or
// "//" and the absolute path (file:///path).
func (r Ref) String() string {
	if r.IsAbs() {
		return "//" + r.Name
	}
	return r.Name
}

// ParseRef parses what follows "file:": a clean name ("n8n/db.json"),
// or "///" and a clean absolute path. It does no I/O; errors never repeat
// the input.
func ParseRef(p string, opts map[string]string) (Ref, error) {
	for k := range opts {
		return Ref{}, badRef("unknown option %q", k)
	}
	switch {
	case strings.HasPrefix(p, "///"):
		p = p[2:]
	case strings.HasPrefix(p, "//"):
		return Ref{}, badRef("file://host is not supported: use file:///absolute/path or file:name")
	case strings.HasPrefix(p, "/"):
		return Ref{}, badRef("an absolute file reference takes three slashes: file:///absolute/path")
	}
	if p == "" {
		return Ref{}, badRef("empty path")
	}
	if path.Clean(p) != p || hasDotSegment(p) {
		return Ref{}, badRef("file path must be clean (no '..', '.', '//' or trailing '/')")
	}
	if strings.HasPrefix(p, "..") {
		return Ref{}, badRef("file name must stay inside the secrets dir")
	}
	return Ref{Name: p}, nil
}

// RefOf returns the reference of an absolute path (a NAME_FILE's).
func RefOf(abs string) (inject.Reference, error) {
	r, err := ParseRef("//"+abs, nil)
	return inject.Reference{Scheme: Scheme, Loc: r}, err
}

func badRef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{inject.ErrBadReference}, args...)...)
}

func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
