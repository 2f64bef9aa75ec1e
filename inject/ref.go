package inject

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/n8n-secrets/n8n-secrets/internal/suggest"
)

// The schemes a reference can use.
const (
	SchemeVault = "vault"
	SchemeAWSSM = "awssm"
	SchemeFile  = "file"
)

// Reference names one secret (and optionally one key inside it):
//
//	vault://<path>[?<options>][#<selector>]      path percent-decoded: %20 (or a space), %23 '#', %3F '?', %25 '%'
//	awssm://<secret-id>[?<options>][#<selector>]
//	file:<name>[?optional=true][#<selector>]   name relative to the secrets dir
//	file:///<absolute path>[?optional=true][#<selector>]
//
// Options: vault takes version=N; awssm takes version-stage=S, version-id=ID
// and region=R; every scheme takes optional=true. The selector is #key (a
// top-level key of a JSON object) or #/a/b (an RFC 6901 JSON pointer).
//
// A Reference is comparable; [Reference.FetchKey] gives the part that
// identifies one fetch, so that variables selecting different keys of one
// secret share a single round trip.
type Reference struct {
	Scheme   string // SchemeVault, SchemeAWSSM or SchemeFile
	Path     string // vault logical path, awssm secret id (name or ARN), file name or absolute path
	Version  string // vault: version=N; awssm: version-id
	Stage    string // awssm: version-stage
	Region   string // awssm: region, also taken from an ARN
	Selector string // "" (whole value), "key" or "/json/pointer"
	Optional bool   // a missing secret removes the variable instead of failing
}

// FetchKey returns the reference without its selector and optional flag:
// two references with equal fetch keys are fetched once.
func (r Reference) FetchKey() Reference {
	r.Selector, r.Optional = "", false
	return r
}

// IsPointer reports whether the selector is an RFC 6901 JSON pointer.
func (r Reference) IsPointer() bool { return strings.HasPrefix(r.Selector, "/") }

// IsAbs reports whether a file reference names an absolute path.
func (r Reference) IsAbs() bool { return r.Scheme == SchemeFile && strings.HasPrefix(r.Path, "/") }

// String writes the reference back in canonical form; parsing the result
// gives an equal Reference.
func (r Reference) String() string {
	var b strings.Builder
	switch {
	case r.Scheme == SchemeFile && r.IsAbs():
		b.WriteString("file://")
	case r.Scheme == SchemeFile:
		b.WriteString("file:")
	default:
		b.WriteString(r.Scheme + "://")
	}
	if r.Scheme == SchemeVault {
		b.WriteString(escapePath(r.Path))
	} else {
		b.WriteString(r.Path)
	}
	var opts []string
	add := func(k, v string) {
		if v != "" {
			opts = append(opts, k+"="+v)
		}
	}
	if r.Scheme == SchemeVault {
		add("version", r.Version)
	} else {
		add("version-id", r.Version)
	}
	add("version-stage", r.Stage)
	if r.Region != "" && !strings.HasPrefix(r.Path, "arn:") {
		add("region", r.Region)
	}
	if r.Optional {
		add("optional", "true")
	}
	if len(opts) > 0 {
		b.WriteString("?" + strings.Join(opts, "&"))
	}
	if r.Selector != "" {
		b.WriteString("#" + r.Selector)
	}
	return b.String()
}

// IsReference reports whether value is meant as a reference: it starts
// with a known scheme ("vault:", "awssm:" or "file:"), in any case, as RFC
// 3986 makes schemes case-insensitive ("VAULT://" is "vault://"). Such a
// value is parsed strictly, so a typo fails instead of reaching the child
// as a literal.
func IsReference(value string) bool {
	return schemeOf(value) != ""
}

// schemeOf returns the known scheme value starts with, lowercased, or "".
func schemeOf(value string) string {
	scheme, _, ok := strings.Cut(value, ":")
	if !ok || len(scheme) > len(SchemeVault) {
		return ""
	}
	switch s := strings.ToLower(scheme); s {
	case SchemeVault, SchemeAWSSM, SchemeFile:
		return s
	}
	return ""
}

// nearScheme returns the reference a value that is not one was probably
// meant to be ("vault://" for "vualt://secret/x"), or "": a scheme one
// typo away from vault, awssm or file, followed by "://" (dashes, dots and
// underscores ignored: "aws-sm://"); a known scheme followed by a wrong
// separator ("vault;//", "vault//"); a reference after white space. Without
// the slashes, a word and a colon is too common in ordinary values to judge.
func nearScheme(value string) string {
	trimmed := strings.TrimLeft(value, " \t\r\n")
	if trimmed != value && IsReference(trimmed) {
		return schemeOf(trimmed) + ": without the white space before it"
	}
	lower := strings.ToLower(trimmed)
	for _, known := range []string{SchemeVault, SchemeAWSSM, SchemeFile} {
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
	if near := suggest.Nearest(b.String(), 1, SchemeVault, SchemeAWSSM, SchemeFile); near != "" {
		return near + "://"
	}
	return ""
}

// knownOptions lists the options each scheme accepts.
var knownOptions = map[string][]string{
	SchemeVault: {"version", "optional"},
	SchemeAWSSM: {"version-stage", "version-id", "region", "optional"},
	SchemeFile:  {"optional"},
}

// ParseReference parses s. It does no I/O. Errors wrap [ErrBadReference] and
// describe the problem without repeating the whole input, which might be a
// literal secret that happens to start with a scheme.
func ParseReference(s string) (Reference, error) {
	var r Reference
	if i := strings.IndexFunc(s, func(c rune) bool { return c < 0x20 || c == 0x7f }); i >= 0 {
		return r, badRef("control character at byte %d", i)
	}
	scheme, rest, _ := strings.Cut(s, ":")
	if known := schemeOf(s); known != "" {
		scheme = known
	}
	r.Scheme = scheme
	switch scheme {
	case SchemeVault, SchemeAWSSM:
		var ok bool
		if rest, ok = strings.CutPrefix(rest, "//"); !ok {
			return r, badRef("%s references start with %s://", scheme, scheme)
		}
	case SchemeFile:
		switch {
		case strings.HasPrefix(rest, "///"):
			rest = rest[2:]
		case strings.HasPrefix(rest, "//"):
			return r, badRef("file://host is not supported: use file:///absolute/path or file:name")
		case strings.HasPrefix(rest, "/"):
			return r, badRef("an absolute file reference takes three slashes: file:///absolute/path")
		}
	default:
		return r, badRef("unknown scheme (known: vault://, awssm://, file:)")
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
	if hasQuery {
		if err := r.parseOptions(query); err != nil {
			return r, err
		}
	}
	if scheme == SchemeVault {
		dec, err := unescapePath(p)
		if err != nil {
			return r, err
		}
		p = dec
	}
	r.Path = p
	if err := r.checkPath(); err != nil {
		return r, err
	}
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

func (r *Reference) parseOptions(query string) error {
	if query == "" {
		return badRef("empty options after '?'")
	}
	seen := map[string]bool{}
	for i, kv := range strings.Split(query, "&") {
		// The input is not quoted: a value that merely starts with a
		// scheme may be a literal secret.
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return badRef("option %d after '?' is not key=value", i+1)
		}
		if !contains(knownOptions[r.Scheme], k) {
			return badRef("unknown option (option %d after '?'; %s takes: %s)", i+1, r.Scheme,
				strings.Join(knownOptions[r.Scheme], ", "))
		}
		if seen[k] {
			return badRef("option %q given twice", k)
		}
		seen[k] = true
		if v == "" {
			return badRef("option %q has an empty value", k)
		}
		switch k {
		case "optional":
			b, err := strconv.ParseBool(v)
			if err != nil || (v != "true" && v != "false") {
				return badRef("option optional must be true or false")
			}
			r.Optional = b
		case "version":
			if n, err := strconv.Atoi(v); err != nil || n <= 0 || strconv.Itoa(n) != v {
				return badRef("option version must be a positive integer")
			}
			r.Version = v
		case "version-id":
			if !validToken(v, 64) {
				return badRef("option version-id must be 1 to 64 characters of letters, digits and -_")
			}
			r.Version = v
		case "version-stage":
			if !validToken(v, 256) {
				return badRef("option version-stage must be 1 to 256 characters of letters, digits and -_")
			}
			r.Stage = v
		case "region":
			if !validRegion(v) {
				return badRef("option region is not a region name (like eu-west-1)")
			}
			r.Region = v
		}
	}
	return nil
}

func (r *Reference) checkPath() error {
	p := r.Path
	if p == "" {
		return badRef("empty path")
	}
	switch r.Scheme {
	case SchemeVault:
		if strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
			return badRef("vault path must not start or end with '/' or hold '//' (like secret/n8n/core)")
		}
		if hasDotSegment(p) {
			return badRef("vault path must not hold '.' or '..' segments")
		}
		if strings.IndexFunc(p, func(c rune) bool { return c < 0x20 || c == 0x7f }) >= 0 {
			return badRef("vault path must not hold control characters (%%09 and the like)")
		}
		if strings.TrimSpace(p) != p {
			return badRef("vault path must not start or end with white space")
		}
		if !utf8.ValidString(p) {
			return badRef("vault path is not UTF-8 once its %%XX escapes are decoded")
		}
	case SchemeAWSSM:
		if strings.HasPrefix(p, "arn:") {
			return r.checkARN()
		}
		if !validSecretName(p) {
			return badRef("secret id must be a name of 1 to 512 characters of letters, digits and /_+=.@- or a full ARN")
		}
	case SchemeFile:
		if path.Clean(p) != p || hasDotSegment(p) {
			return badRef("file path must be clean (no '..', '.', '//' or trailing '/')")
		}
		if strings.HasPrefix(p, "..") {
			return badRef("file name must stay inside the secrets dir")
		}
	}
	return nil
}

// checkARN validates arn:<partition>:secretsmanager:<region>:<account>:secret:<name>
// and takes the region from it.
func (r *Reference) checkARN() error {
	f := strings.SplitN(r.Path, ":", 7)
	if len(f) != 7 || f[1] == "" || f[2] != "secretsmanager" || !validRegion(f[3]) ||
		len(f[4]) != 12 || strings.Trim(f[4], "0123456789") != "" || f[5] != "secret" || !validSecretName(f[6]) {
		return badRef("ARN must be arn:<partition>:secretsmanager:<region>:<account>:secret:<name>")
	}
	if r.Region != "" && r.Region != f[3] {
		return badRef("option region differs from the ARN's region")
	}
	r.Region = f[3]
	return nil
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

// escapePath writes a vault path back as ParseReference reads it: the
// bytes the grammar reserves, and those that cannot be written as they
// are, percent-escaped.
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

func validToken(v string, max int) bool {
	if len(v) == 0 || len(v) > max {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func validRegion(v string) bool {
	if len(v) < 3 || len(v) > 32 || v[0] == '-' || v[len(v)-1] == '-' {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validSecretName(v string) bool {
	if len(v) == 0 || len(v) > 512 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/_+=.@-", c)) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// short truncates s for an error message.
func short(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
