package inject

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/internal/suggest"
)

// Reference names one secret (and optionally one key inside it):
//
//	<scheme>://<store's part>[?<options>][#<selector>]
//	<scheme>:<store's part>[?<options>][#<selector>]     a store that takes no "//" (file:name)
//
// The common grammar is the core's: the scheme (one of the [Stores]', in
// any case), the options after '?' (key=value joined by '&', each once, none
// empty; optional=true for every store), the selector after '#' (#key, a
// top-level key of a JSON object, or #/a/b, an RFC 6901 JSON pointer). The
// rest (the path and the store's own options) is the store's, parsed by
// its [Store.Parse] into a [Locator].
//
// A Reference is comparable; [Reference.FetchKey] gives the part that
// identifies one fetch, so that variables selecting different keys of one
// secret share a single round trip.
type Reference struct {
	Scheme   string  // a known store's scheme, lowercase
	Loc      Locator // the store's own typed reference
	Selector string  // "" (whole value), "key" or "/json/pointer"
	Optional bool    // a missing secret removes the variable instead of failing
}

// Path returns what logs show of the reference's location ("" without a
// locator).
func (r Reference) Path() string {
	if r.Loc == nil {
		return ""
	}
	return r.Loc.Path()
}

// Version returns the version the reference pins, "" when none.
func (r Reference) Version() string {
	if r.Loc == nil {
		return ""
	}
	return r.Loc.Version()
}

// FetchKey returns the reference without its selector and optional flag:
// two references with equal fetch keys are fetched once.
func (r Reference) FetchKey() Reference {
	r.Selector, r.Optional = "", false
	return r
}

// IsPointer reports whether the selector is an RFC 6901 JSON pointer.
func (r Reference) IsPointer() bool { return strings.HasPrefix(r.Selector, "/") }

// String writes the reference back in canonical form; parsing the result
// with the same stores gives an equal Reference. The scheme is followed by
// "://" unless the locator's own text starts with a slash (an opaque
// scheme's absolute form, "file:///x") or the store takes none: String
// knows no store, so an opaque store's locator writes its slashes itself.
func (r Reference) String() string {
	var b strings.Builder
	b.WriteString(r.Scheme + ":")
	loc := ""
	if r.Loc != nil {
		loc = r.Loc.String()
	}
	if o, ok := r.Loc.(interface{ Opaque() bool }); !ok || !o.Opaque() {
		b.WriteString("//")
	}
	b.WriteString(loc)
	if r.Optional {
		if strings.Contains(loc, "?") {
			b.WriteString("&optional=true")
		} else {
			b.WriteString("?optional=true")
		}
	}
	if r.Selector != "" {
		b.WriteString("#" + r.Selector)
	}
	return b.String()
}

// IsReference reports whether value is meant as a reference: it starts
// with a known scheme and a colon ("vault:", "file:"), in any case, as RFC
// 3986 makes schemes case-insensitive ("VAULT://" is "vault://"). Such a
// value is parsed strictly, so a typo fails instead of reaching the child
// as a literal.
func (ss Stores) IsReference(value string) bool {
	return ss.schemeOf(value) != ""
}

// schemeOf returns the known scheme value starts with, lowercased, or "".
func (ss Stores) schemeOf(value string) string {
	scheme, _, ok := strings.Cut(value, ":")
	if !ok || len(scheme) > 32 {
		return ""
	}
	s := strings.ToLower(scheme)
	if _, known := ss.Lookup(s); known {
		return s
	}
	return ""
}

// nearScheme returns the reference a value that is not one was probably
// meant to be ("vault://" for "vualt://secret/x"), or "": a scheme one
// typo away from a known one, followed by "://" (dashes, dots and
// underscores ignored: "aws-sm://"); a known scheme followed by a wrong
// separator ("vault;//", "vault//"); a reference after white space. Without
// the slashes, a word and a colon is too common in ordinary values to judge.
func (ss Stores) nearScheme(value string) string {
	trimmed := strings.TrimLeft(value, " \t\r\n")
	if trimmed != value && ss.IsReference(trimmed) {
		return ss.schemeOf(trimmed) + ": without the white space before it"
	}
	lower := strings.ToLower(trimmed)
	for _, known := range ss.Schemes() {
		rest, ok := strings.CutPrefix(lower, known)
		if ok && (strings.HasPrefix(rest, "//") || (len(rest) > 2 && strings.ContainsRune(";|\\", rune(rest[0])) && strings.HasPrefix(rest[1:], "/"))) {
			return known + "://"
		}
	}
	scheme, rest, ok := strings.Cut(trimmed, "://")
	if !ok || len(scheme) == 0 || len(scheme) > 10 || rest == "" {
		return ""
	}
	var b strings.Builder
	for _, c := range strings.ToLower(scheme) {
		switch {
		case c >= 'a' && c <= 'z':
			b.WriteRune(c)
		case c == '-' || c == '_' || c == '.':
		default:
			return ""
		}
	}
	if near := suggest.Nearest(b.String(), 1, ss.Schemes()...); near != "" {
		return near + "://"
	}
	return ""
}

// Parse parses the reference s: the common grammar here, the store's part
// by the store's Parse. It does no I/O. Errors wrap [ErrBadReference] and
// describe the problem without repeating the whole input, which might be
// a literal secret that happens to start with a scheme.
func (ss Stores) Parse(s string) (Reference, error) {
	var r Reference
	if i := strings.IndexFunc(s, func(c rune) bool { return c < 0x20 || c == 0x7f }); i >= 0 {
		return r, badRef("control character at byte %d", i)
	}
	scheme, rest, _ := strings.Cut(s, ":")
	if known := ss.schemeOf(s); known != "" {
		scheme = known
	}
	r.Scheme = scheme
	st, ok := ss.Lookup(scheme)
	if !ok {
		return r, badRef("unknown scheme (known: %s)", ss.known())
	}
	if !st.Opaque {
		if rest, ok = strings.CutPrefix(rest, "//"); !ok {
			return r, badRef("%s references start with %s://", scheme, scheme)
		}
	}

	rest, sel, hasSel := strings.Cut(rest, "#")
	if hasSel {
		if strings.Contains(sel, "?") {
			return r, badRef("'?' after '#': options go before the selector")
		}
		if err := checkSelector(sel); err != nil {
			return r, err
		}
		r.Selector = sel
	}
	p, query, hasQuery := strings.Cut(rest, "?")
	opts := map[string]string{}
	if hasQuery {
		var err error
		if opts, err = r.parseOptions(st, query); err != nil {
			return r, err
		}
	}
	if p == "" {
		return r, badRef("empty path")
	}
	loc, err := st.Parse(p, opts)
	if err != nil {
		if !errors.Is(err, ErrBadReference) {
			err = fmt.Errorf("%w: %w", ErrBadReference, err)
		}
		return r, err
	}
	r.Loc = loc
	return r, nil
}

func checkSelector(sel string) error {
	if sel == "" {
		return badRef("empty selector after '#'")
	}
	if !strings.HasPrefix(sel, "/") {
		return nil
	}
	for i := 0; i < len(sel); i++ {
		if sel[i] == '~' && (i+1 == len(sel) || (sel[i+1] != '0' && sel[i+1] != '1')) {
			return badRef("JSON pointer selector has '~' not followed by 0 or 1")
		}
	}
	return nil
}

// parseOptions splits query, takes optional=true for r, and returns the
// store's options.
func (r *Reference) parseOptions(st Store, query string) (map[string]string, error) {
	if query == "" {
		return nil, badRef("empty options after '?'")
	}
	known := []string{}
	for _, o := range st.Options {
		known = append(known, o.Name)
	}
	known = append(known, "optional")
	opts := map[string]string{}
	seen := map[string]bool{}
	for i, kv := range strings.Split(query, "&") {
		// The input is not quoted: a value that merely starts with a
		// scheme may be a literal secret.
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, badRef("option %d after '?' is not key=value", i+1)
		}
		if !slices.Contains(known, k) {
			return nil, badRef("unknown option (option %d after '?'; %s takes: %s)", i+1, st.Scheme,
				strings.Join(known, ", "))
		}
		if seen[k] {
			return nil, badRef("option %q given twice", k)
		}
		seen[k] = true
		if v == "" {
			return nil, badRef("option %q has an empty value", k)
		}
		if k != "optional" {
			opts[k] = v
			continue
		}
		b, err := strconv.ParseBool(v)
		if err != nil || (v != "true" && v != "false") {
			return nil, badRef("option optional must be true or false")
		}
		r.Optional = b
	}
	return opts, nil
}

// short truncates s for an error message.
func short(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
