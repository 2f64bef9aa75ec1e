// Package n8nenv reads n8n's own variables exactly as n8n reads them, so
// that every check n8n-secrets makes (the guard, the check before start,
// verify-key, rekey, fingerprint) sees the value n8n will use, not another
// one.
//
// n8n 1.123 and 2.40 read their configuration through @n8n/config
// (packages/@n8n/config/src/decorators.ts, dist/decorators.js in the
// installed package): for a variable NAME,
//
//   - the value is process.env[NAME] when NAME is set, even to "" (the
//     `in` operator, not truthiness);
//   - else, when NAME_FILE is set and not empty, the contents of that
//     file, read as UTF-8 and trimmed (String.prototype.trim); a file
//     that cannot be read stops n8n;
//   - else NAME is not read, and n8n keeps its default.
//
// Then, by the field's type:
//
//   - a string is trimmed, and a pair of matching quotes (' or ") around a
//     value of one line is removed (normalizeEnvValue);
//   - a string with a schema (DB_TYPE) is normalized the same way, then
//     checked; a value the schema refuses keeps the default, with a
//     warning;
//   - a number is JavaScript's Number(value), of the value as it is (not
//     normalized): leading and trailing white space ignored, hex (0x),
//     octal (0o) and binary (0b) accepted; NaN keeps the default, with a
//     warning. A value that normalizes to "" keeps the default in n8n 2.40;
//     n8n 1.123 reads "" and white space as 0 (and a quoted "" as NaN):
//     n8n-secrets reads it as 2.40 does;
//   - a boolean is true for "true" or "1" and false for "false" or "0",
//     in any case and untrimmed; anything else keeps the default, with a
//     warning.
//
// This package reproduces those rules: ReadFiles reads the NAME_FILE
// files n8n would read, under a context; String, Enum, Number and Bool
// then read the variables as n8n does, without I/O.
package n8nenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unicode"
)

// maxFileSize bounds what is read of a NAME_FILE: n8n's values are keys,
// passwords, names and certificates.
const maxFileSize = 1 << 20

// Names are the variables of n8n that n8n-secrets reads too: the
// database's and the encryption key. n8n reads NAME_FILE for each of them
// (they are all @n8n/config fields).
var Names = []string{
	"N8N_ENCRYPTION_KEY",
	"DB_TYPE", "DB_TABLE_PREFIX", "DB_SQLITE_DATABASE",
	"DB_POSTGRESDB_HOST", "DB_POSTGRESDB_PORT", "DB_POSTGRESDB_DATABASE", "DB_POSTGRESDB_USER",
	"DB_POSTGRESDB_PASSWORD", "DB_POSTGRESDB_SCHEMA", "DB_POSTGRESDB_CONNECTION_TIMEOUT",
	"DB_POSTGRESDB_SSL_ENABLED", "DB_POSTGRESDB_SSL_CA", "DB_POSTGRESDB_SSL_CERT", "DB_POSTGRESDB_SSL_KEY",
	"DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED",
}

// FileError is a NAME_FILE that n8n would read and that cannot be read:
// n8n stops at its start. It names the variable and the file, never the
// contents.
type FileError struct {
	Var    string // NAME_FILE
	Reason string
}

func (e *FileError) Error() string { return e.Var + ": " + e.Reason }

// ReadFiles returns env as n8n sees it: a copy in which each of names that
// n8n would read from its NAME_FILE (NAME unset, NAME_FILE set and not
// empty) holds the file's contents trimmed as n8n trims them; the
// variables' values are otherwise unchanged (the readers below normalize
// them as n8n does). env itself is not changed:
// n8n, not n8n-secrets, reads those files when it starts. Each file is read
// under ctx, opened without blocking, and must be a regular file of at
// most 1 MiB. A file that cannot be read is a *FileError.
func ReadFiles(ctx context.Context, env map[string]string, names []string) (map[string]string, error) {
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	for _, name := range names {
		if _, set := env[name]; set {
			continue
		}
		path := env[name+"_FILE"]
		if path == "" {
			continue
		}
		type result struct {
			s   string
			err error
		}
		ch := make(chan result, 1)
		go func() {
			s, err := readFile(path)
			ch <- result{s, err}
		}()
		select {
		case r := <-ch:
			if r.err != nil {
				return nil, &FileError{Var: name + "_FILE", Reason: r.err.Error()}
			}
			out[name] = TrimJS(r.s)
		case <-ctx.Done():
			return nil, &FileError{Var: name + "_FILE", Reason: "reading the file did not finish: " + context.Cause(ctx).Error()}
		}
	}
	return out, nil
}

// readFile reads a regular file of at most maxFileSize, without blocking
// on a FIFO. Errors name the file and the problem, never the contents.
func readFile(path string) (string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return "", fmt.Errorf("cannot open %s: %v (n8n stops at its start)", path, pe.Err)
		}
		return "", fmt.Errorf("cannot open %s (n8n stops at its start)", path)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return "", fmt.Errorf("cannot read %s", path)
	}
	if len(b) > maxFileSize {
		return "", fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	return string(b), nil
}

// String returns name as n8n reads a string field whose default is def:
// the value when set, even to "", normalized (trimmed, one pair of
// matching quotes removed). env is as ReadFiles returns it.
func String(env map[string]string, name, def string) string {
	v, set := env[name]
	if !set {
		return def
	}
	return Normalize(v)
}

// Enum returns name as n8n reads a string field with a schema of allowed
// values: normalized, and def when not one of them (n8n warns and keeps
// its default); valid is false then.
func Enum(env map[string]string, name, def string, allowed ...string) (v string, valid bool) {
	raw, set := env[name]
	if !set {
		return def, true
	}
	n := Normalize(raw)
	for _, a := range allowed {
		if n == a {
			return n, true
		}
	}
	return def, false
}

// Number returns name as n8n reads a number field whose default is def:
// JavaScript's Number of the value as it is (not normalized), def when
// that is NaN (n8n warns); valid is false then.
func Number(env map[string]string, name string, def float64) (v float64, valid bool) {
	raw, set := env[name]
	if !set || TrimJS(Normalize(raw)) == "" {
		// n8n 2.40 keeps the default for a value that normalizes to ""
		// (1.123 reads "" as 0, and a quoted "" as NaN: see Empty).
		return def, true
	}
	n := NumberJS(raw)
	if math.IsNaN(n) {
		return def, false
	}
	return n, true
}

// Empty reports whether name is set to a value that normalizes to "": a
// number n8n 2.40 then reads as its default, and n8n 1.123 as
// Number(value), 0 for "" or white space.
func Empty(env map[string]string, name string) bool {
	raw, set := env[name]
	return set && TrimJS(Normalize(raw)) == ""
}

// Bool returns name as n8n reads a boolean field whose default is def:
// "true"/"1" and "false"/"0" in any case, untrimmed; def for anything
// else (n8n warns), and valid false.
func Bool(env map[string]string, name string, def bool) (v bool, valid bool) {
	raw, set := env[name]
	if !set {
		return def, true
	}
	switch strings.ToLower(raw) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return def, false
}

// Normalize is @n8n/config's normalizeEnvValue: value.trim(), then
// .replace(/^(['"])(.*)\1$/, '$2'): one pair of the same quote around the
// whole value removed, when the value between them holds no line
// terminator (JavaScript's . does not match one).
func Normalize(v string) string {
	v = TrimJS(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		inner := v[1 : len(v)-1]
		if !strings.ContainsFunc(inner, isLineTerminator) {
			return inner
		}
	}
	return v
}

// isLineTerminator reports ECMAScript's LineTerminator: LF, CR, LS, PS.
func isLineTerminator(r rune) bool {
	return r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029'
}

// IsSpaceJS reports ECMAScript's WhiteSpace or LineTerminator, what
// String.prototype.trim removes: TAB, VT, FF, SP, NBSP, ZWNBSP (the BOM),
// any other Zs, and the line terminators. Unlike Go's unicode.IsSpace, it
// includes U+FEFF and excludes U+0085.
func IsSpaceJS(r rune) bool {
	switch r {
	case '\t', '\v', '\f', ' ', '\u00a0', '\ufeff':
		return true
	}
	return isLineTerminator(r) || unicode.Is(unicode.Zs, r)
}

// TrimJS is String.prototype.trim.
func TrimJS(s string) string { return strings.TrimFunc(s, IsSpaceJS) }

// NumberJS is JavaScript's Number(s) for a string (StringToNumber): NaN
// when s is not a StringNumericLiteral.
func NumberJS(s string) float64 {
	s = TrimJS(s)
	if s == "" {
		return 0
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			return parseRadix(s[2:], base)
		}
	}
	sign := 1.0
	body := s
	switch body[0] {
	case '+':
		body = body[1:]
	case '-':
		sign, body = -1, body[1:]
	}
	if body == "Infinity" {
		return sign * math.Inf(1)
	}
	if !decimalLiteral(body) {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(body, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return sign * f // ±Inf or 0, as JavaScript rounds
		}
		return math.NaN()
	}
	return sign * f
}

// decimalLiteral reports StrUnsignedDecimalLiteral without Infinity:
// digits, an optional fraction, an optional exponent; at least one digit
// before or after the point; no separators.
func decimalLiteral(s string) bool {
	i, n := 0, len(s)
	digits := func() int {
		j := i
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	d := digits()
	if i < n && s[i] == '.' {
		i++
		d += digits()
	}
	if d == 0 {
		return false
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < n && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == n
}

// parseRadix parses digits of base (no sign, no point) as JavaScript
// does, to a float64; NaN for an empty or bad digit.
func parseRadix(s string, base int) float64 {
	if s == "" {
		return math.NaN()
	}
	v := 0.0
	for _, r := range s {
		d := -1
		switch {
		case r >= '0' && r <= '9':
			d = int(r - '0')
		case r >= 'a' && r <= 'z':
			d = int(r-'a') + 10
		case r >= 'A' && r <= 'Z':
			d = int(r-'A') + 10
		}
		if d < 0 || d >= base {
			return math.NaN()
		}
		v = v*float64(base) + float64(d)
	}
	return v
}
