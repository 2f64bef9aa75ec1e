package audit

import (
	"net/url"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// startView is what the injector's start makes of one variable's value,
// read with inject's own scanner (inject.Scan), so that the audit knows
// exactly the schemes, the ${…} syntax and the other tools' references
// the injector knows, and no others.
type startView struct {
	// err is what the start refuses the value with (BAD_REFERENCE): a
	// malformed reference or ${…}, a scheme one typo away from a known
	// one, a reference in a NAME_FILE. Its text names positions, never
	// the value.
	err error
	// meant: the value is meant as a reference (a whole reference, or a
	// value with ${…} references), well formed or not: it is no literal.
	meant bool
	// refs are the references the start resolves: the whole value's, or
	// each ${…} of a template.
	refs []inject.Reference
	// template holds the value's parsed ${…} form, for a template.
	template *inject.Template
	// foreign is set when the whole value is another tool's reference
	// (op://, ref+vault://, sm://, an ARN without awssm://), which the
	// start passes on with a warning.
	foreign *inject.Foreign
}

// viewOf returns what the start makes of name=value. The injector's own
// settings (N8N_SECRETS_*) and the names the container's skip list
// (N8N_SECRETS_SKIP, --skip) holds are not looked at.
func (a *auditor) viewOf(name, value string, skip inject.Matcher) startView {
	if ownSetting(name) || skip.Match(name) {
		return startView{}
	}
	// A NAME_FILE is judged for the reference it must not hold, never
	// read: the audit reads no file a container would.
	sc := inject.Scan([]string{name + "=" + value}, inject.ScanOptions{
		Skip:        skip.Match,
		ResolveFile: func(string, string) bool { return false },
		Stores:      a.stores,
	})
	v := startView{meant: a.stores.IsReference(value) || a.stores.IsTemplate(value)}
	if len(sc.Errs) > 0 {
		v.err = sc.Errs[0]
		return v
	}
	for _, q := range sc.Requests {
		v.refs = append(v.refs, q.Ref)
		if q.Template != nil {
			v.template = q.Template
		}
	}
	if len(sc.Foreign) > 0 {
		f := sc.Foreign[0]
		v.foreign = &f
	}
	return v
}

// envFromView checks the items of an N8N_SECRETS_ENV_FROM setting (or of
// --env-from) as the start does: the same split and the same parser. errs
// are the start's errors, one per malformed item ("item 2: …").
func (a *auditor) envFromView(value string) (refs []inject.Reference, errs []error) {
	sc := inject.Scan(nil, inject.ScanOptions{EnvFrom: inject.ParseMatcher(value), EnvFromVar: envFromVar, Stores: a.stores})
	for _, q := range sc.Requests {
		refs = append(refs, q.Ref)
	}
	return refs, sc.Errs
}

// The injector's settings the audit follows, as variables.
const (
	envFromVar = "N8N_SECRETS_ENV_FROM"
	envFileVar = "N8N_SECRETS_ENV_FILE"
	skipVar    = "N8N_SECRETS_SKIP"
)

// urlPasswordMarker stands for a reference while a template's literal
// text is read as a URL: it holds no character a URL's user information
// may hold unescaped, so that it cannot be taken for written text.
const urlPasswordMarker = "\x00ref\x00"

// literalURLPassword reports whether text, a value's literal text, holds a
// URL whose password is written out: scheme://user:password@host. A
// password that is (or holds) a ${…} reference, marked urlPasswordMarker,
// or a $ (an interpolation left to the deployer or the container) is no
// literal. The value is never returned.
func literalURLPassword(text string) bool {
	i := strings.Index(text, "://")
	if i <= 0 {
		return false
	}
	rest := text[i+3:]
	at := strings.IndexByte(rest, '@')
	if at < 0 {
		return false
	}
	// The authority ends at the first '/', '?' or '#' after the scheme;
	// an '@' beyond it is part of a path or a query.
	if end := strings.IndexAny(rest, "/?#"); end >= 0 && end < at {
		return false
	}
	userinfo := rest[:at]
	_, pw, ok := strings.Cut(userinfo, ":")
	if !ok || pw == "" || strings.Contains(pw, urlPasswordMarker) || strings.Contains(pw, "$") {
		return false
	}
	if p, err := url.PathUnescape(pw); err == nil {
		pw = p
	}
	return strings.TrimSpace(pw) != ""
}

// templateText returns a template's value with each ${…} reference
// replaced by urlPasswordMarker: what of the value is written in the file.
func templateText(t *inject.Template) string {
	vals := make([][]byte, len(t.Refs))
	for i := range vals {
		vals[i] = []byte(urlPasswordMarker)
	}
	return string(t.Render(vals))
}
