package gcpsm

import (
	"fmt"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Scheme is the URI scheme of Google Secret Manager references.
const Scheme = "gcpsm"

// Syntax is the reference grammar, for help and README.
const Syntax = "gcpsm://projects/<project>/[locations/<region>/]secrets/<secret>[/versions/<version>][#selector] or gcpsm://<secret>[/versions/<version>][#selector]"

// Options are the options ParseRef takes after '?': none. The version is
// part of the path, as in Secret Manager's own resource names.
var Options = []struct{ Name, Meaning string }{}

// Ref names one secret version in Secret Manager. It is comparable.
//
// The long form is Secret Manager's resource name of a secret, with or
// without a version: projects/<project>/secrets/<secret>[/versions/<v>],
// and for a regional secret projects/<project>/locations/<region>/secrets/
// <secret>[/versions/<v>]. The short form <secret>[/versions/<v>] leaves
// Project empty: the provider takes it from the environment.
type Ref struct {
	Project  string // project id or number; "" in the short form
	Location string // region of a regional secret; "" for a global one
	Secret   string // the secret id
	// VersionID is a version number or a version alias; "" means latest,
	// the most recently created version (versions/latest parses to "").
	VersionID string
}

// Path returns the secret's name as logs show it: the resource name of
// the secret without its version (or the bare secret id in the short
// form). It never holds a value.
func (r Ref) Path() string {
	if r.Project == "" {
		return r.Secret
	}
	if r.Location != "" {
		return "projects/" + r.Project + "/locations/" + r.Location + "/secrets/" + r.Secret
	}
	return "projects/" + r.Project + "/secrets/" + r.Secret
}

// Version returns the pinned version (a number or an alias), "" for latest.
func (r Ref) Version() string { return r.VersionID }

// String writes the reference back, scheme included, without selector or
// options: ParseRef(strings.TrimPrefix(r.String(), "gcpsm://"), nil)
// returns r.
func (r Ref) String() string {
	s := Scheme + "://" + r.Path()
	if r.VersionID != "" {
		s += "/versions/" + r.VersionID
	}
	return s
}

// name returns the version's resource name in project, for the API.
func (r Ref) name(project string) string {
	v := r.VersionID
	if v == "" {
		v = "latest"
	}
	p := "projects/" + project
	if r.Location != "" {
		p += "/locations/" + r.Location
	}
	return p + "/secrets/" + r.Secret + "/versions/" + v
}

// ParseRef parses what follows "gcpsm://" up to '?' (path) and the options
// (opts: none are taken). It does no I/O. Errors wrap inject.ErrBadReference,
// name the part at fault and never repeat the input.
func ParseRef(path string, opts map[string]string) (Ref, error) {
	var r Ref
	if len(opts) > 0 {
		// An unknown option's name is not repeated: it may be a literal
		// value that happens to look like a reference.
		return r, badRef("gcpsm takes no options (the version goes in the path: …/versions/<version>)")
	}
	if path == "" {
		return r, badRef("empty path: gcpsm://projects/<project>/secrets/<secret> or gcpsm://<secret>")
	}
	seg := strings.Split(path, "/")
	if seg[0] == "projects" {
		if len(seg) < 4 {
			return r, badRef("a resource name is projects/<project>/secrets/<secret>[/versions/<version>]")
		}
		r.Project = seg[1]
		if !validProject(r.Project) {
			return r, badRef("the project must be a project id (6 to 30 lowercase letters, digits and hyphens, starting with a letter), a domain-scoped id or a project number")
		}
		seg = seg[2:]
		if seg[0] == "locations" {
			if len(seg) < 4 {
				return r, badRef("a regional resource name is projects/<project>/locations/<region>/secrets/<secret>[/versions/<version>]")
			}
			r.Location = seg[1]
			if !validLocation(r.Location) {
				return r, badRef("the location must be a region name (like europe-west1)")
			}
			seg = seg[2:]
		}
		if seg[0] != "secrets" {
			return r, badRef("expected secrets/<secret> after the project in the resource name")
		}
		seg = seg[1:]
	}
	// seg is now <secret>[/versions/<version>].
	r.Secret = seg[0]
	if !validID(r.Secret, 255, true) {
		return r, badRef("the secret id must be 1 to 255 letters, digits, hyphens and underscores")
	}
	switch {
	case len(seg) == 1:
	case len(seg) == 3 && seg[1] == "versions":
		v := seg[2]
		if !validID(v, 63, true) {
			return r, badRef("the version must be a number, latest, or an alias of up to 63 letters, digits, hyphens and underscores")
		}
		if v != "latest" {
			if strings.Trim(v, "0123456789") == "" && (v == "0" || v[0] == '0') {
				return r, badRef("the version number must be a positive integer without leading zeros")
			}
			r.VersionID = v
		}
	case len(seg) == 2 && seg[1] == "versions":
		return r, badRef("versions/ takes a version: …/versions/<number|latest|alias>")
	default:
		return r, badRef("after the secret id only /versions/<version> may follow")
	}
	return r, nil
}

func badRef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{inject.ErrBadReference}, args...)...)
}

// validID reports whether s is 1 to max characters of letters, digits, '-'
// and (with underscore) '_'.
func validID(s string, max int, underscore bool) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' && underscore) {
			return false
		}
	}
	return true
}

// validProject accepts a project id (6 to 30 lowercase letters, digits and
// hyphens, starting with a letter, not ending with a hyphen), a
// domain-scoped id (example.com:my-project) or a project number.
func validProject(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	if strings.Trim(s, "0123456789") == "" {
		return s[0] != '0'
	}
	domain, id, scoped := strings.Cut(s, ":")
	if scoped {
		if domain == "" || strings.Trim(domain, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" ||
			domain[0] == '.' || domain[len(domain)-1] == '.' || strings.Contains(domain, "..") {
			return false
		}
	} else {
		id = s
	}
	if len(id) < 6 || len(id) > 30 || id[0] < 'a' || id[0] > 'z' || id[len(id)-1] == '-' {
		return false
	}
	return strings.Trim(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}

// validLocation accepts a region name: lowercase letters, digits and
// hyphens, starting with a letter.
func validLocation(s string) bool {
	if len(s) < 2 || len(s) > 40 || s[0] < 'a' || s[0] > 'z' || s[len(s)-1] == '-' {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}
