// Package envfile parses .env files with the syntax of Docker Compose's
// (its `.env` and `env_file`), so that one file serves both: NAME=value
// lines, comments, `export`, single quotes (literal), double quotes (with
// \n, \t, … escapes), values over several lines inside quotes, inline
// comments after a space, and Compose's interpolation ($NAME, ${NAME},
// ${NAME:-default}, ${NAME-default}, ${NAME:+alt}, ${NAME+alt},
// ${NAME:?message}, ${NAME?message}, $$ for a literal $) in unquoted and
// double-quoted values.
//
// One difference: a ${ that does not start a variable's name, such as
// n8n-secrets' own ${vault://…}, is kept as it is for the injector to
// resolve, where Compose would reject the file.
//
// Errors name the line and the kind of problem, never the text: a value
// may be a secret.
package envfile

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Var is one variable a file sets.
type Var struct {
	Name, Value string
	Line        int
}

// Warning is something Compose warns about too: a variable interpolated
// but not set, taken as empty.
type Warning struct {
	Line int
	Var  string // the variable that is not set
}

// Lookup returns a variable's value, and whether it is set.
type Lookup func(name string) (string, bool)

// Error is a mistake in a file: its line and its kind.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse parses data, interpolating from lookup first (the process
// environment, in Compose) and then from the variables the file set on
// earlier lines. A name set twice keeps its last value, as in Compose;
// the list holds it once, where it was first set.
func Parse(data []byte, lookup Lookup) ([]Var, []Warning, error) {
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, nil, &Error{Line: 1 + bytes.Count(data[:bytes.IndexByte(data, 0)], []byte("\n")), Msg: "holds a NUL byte"}
	}
	p := &parser{src: strings.TrimPrefix(string(data), "\ufeff"), line: 1, lookup: lookup, index: map[string]int{}}
	if err := p.parse(); err != nil {
		return nil, nil, err
	}
	return p.vars, p.warnings, nil
}

type parser struct {
	src      string
	line     int
	lookup   Lookup
	vars     []Var
	index    map[string]int
	warnings []Warning
}

func (p *parser) errf(format string, args ...any) error {
	return &Error{Line: p.line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse() error {
	for {
		p.skipBlank()
		if p.src == "" {
			return nil
		}
		if p.src[0] == '#' {
			p.skipLine()
			continue
		}
		if err := p.statement(); err != nil {
			return err
		}
	}
}

// skipBlank skips white space and empty lines.
func (p *parser) skipBlank() {
	for p.src != "" {
		switch p.src[0] {
		case '\n':
			p.line++
		case ' ', '\t', '\r', '\v', '\f':
		default:
			return
		}
		p.src = p.src[1:]
	}
}

// skipLine skips to the start of the next line.
func (p *parser) skipLine() {
	i := strings.IndexByte(p.src, '\n')
	if i < 0 {
		p.src = ""
		return
	}
	p.src = p.src[i+1:]
	p.line++
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

// nameChar reports whether c may appear in a name, as Compose allows:
// letters, digits, _ . - [ ].
func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.-[]", c) >= 0
}

func (p *parser) statement() error {
	if rest, ok := strings.CutPrefix(p.src, "export"); ok && rest != "" && isSpace(rest[0]) {
		p.src = strings.TrimLeft(rest, " \t")
	}
	i := 0
	for i < len(p.src) && nameChar(p.src[i]) {
		i++
	}
	name := p.src[:i]
	p.src = p.src[i:]
	p.src = strings.TrimLeft(p.src, " \t\r")
	switch {
	case name == "":
		return p.errf("expected NAME=value")
	case p.src == "" || p.src[0] == '\n' || p.src[0] == '#':
		// NAME alone: the environment's value, if any (docker run
		// --env-file, Compose); under the environment, nothing to add.
		p.skipLine()
		return nil
	case p.src[0] != '=':
		return p.errf("a variable's name holds a character Compose does not allow, or lacks its '='")
	}
	p.src = strings.TrimLeft(p.src[1:], " \t")
	line := p.line
	value, err := p.value()
	if err != nil {
		return err
	}
	if j, ok := p.index[name]; ok {
		p.vars[j].Value = value
	} else {
		p.index[name] = len(p.vars)
		p.vars = append(p.vars, Var{Name: name, Value: value, Line: line})
	}
	return nil
}

// value reads the value at the start of p.src, up to the end of its line
// (or of its closing quote's).
func (p *parser) value() (string, error) {
	if p.src != "" && (p.src[0] == '\'' || p.src[0] == '"') {
		return p.quoted(p.src[0])
	}
	raw := p.src
	if i := strings.IndexByte(raw, '\n'); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.Index(raw, " #"); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.Index(raw, "\t#"); i >= 0 {
		raw = raw[:i]
	}
	raw = strings.TrimRight(raw, " \t\r\v\f")
	v, err := p.interpolate(raw)
	p.skipLine()
	return v, err
}

// quoted reads a value in quotes: \ escapes the quote; in double quotes
// \n, \t, … are escapes and the value is interpolated.
func (p *parser) quoted(q byte) (string, error) {
	start := p.line
	var b strings.Builder
	src := p.src[1:]
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\n':
			p.line++
			b.WriteByte(c)
		case c == '\\' && i+1 < len(src):
			i++
			switch n := src[i]; {
			case n == q:
				b.WriteByte(n)
			case q == '"':
				if err := escape(&b, src, &i); err != nil {
					return "", &Error{Line: p.line, Msg: err.Error()}
				}
			default:
				if n == '\n' {
					p.line++
				}
				b.WriteByte('\\')
				b.WriteByte(n)
			}
		case c == q:
			p.src = src[i+1:]
			rest := p.src
			if j := strings.IndexByte(rest, '\n'); j >= 0 {
				rest = rest[:j]
			}
			if t := strings.TrimLeft(rest, " \t\r"); t != "" && t[0] != '#' {
				return "", p.errf("text after the closing quote")
			}
			p.skipLine()
			if q == '\'' {
				return b.String(), nil
			}
			saved := p.line
			p.line = start
			v, err := p.interpolate(b.String())
			p.line = saved
			return v, err
		default:
			b.WriteByte(c)
		}
	}
	p.line = start
	return "", p.errf("a quoted value is not closed")
}

// escape writes the escape sequence at src[*i] (the byte after '\') as a
// double-quoted value of Compose takes it, leaving *i on its last byte.
func escape(b *strings.Builder, src string, i *int) error {
	switch c := src[*i]; c {
	case 'a':
		b.WriteByte('\a')
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'v':
		b.WriteByte('\v')
	case '\\':
		b.WriteByte('\\')
	case '$':
		b.WriteString("$$") // a literal $, kept from interpolation
	case '0':
		j := *i + 1
		for j < len(src) && j < *i+4 && src[j] >= '0' && src[j] <= '7' {
			j++
		}
		if j == *i+1 {
			b.WriteByte(0)
			return errors.New("holds a NUL byte (\\0)")
		}
		n, _ := strconv.ParseUint(src[*i+1:j], 8, 8)
		if n == 0 {
			return errors.New("holds a NUL byte (\\0)")
		}
		b.WriteByte(byte(n))
		*i = j - 1
	default:
		b.WriteByte('\\')
		b.WriteByte(c)
	}
	return nil
}

// get returns a variable's value for interpolation: the lookup's, else
// the file's own from earlier lines.
func (p *parser) get(name string) (string, bool) {
	if p.lookup != nil {
		if v, ok := p.lookup(name); ok {
			return v, true
		}
	}
	if j, ok := p.index[name]; ok {
		return p.vars[j].Value, true
	}
	return "", false
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isNameChar(c byte) bool  { return isNameStart(c) || c >= '0' && c <= '9' }

// interpolate expands $NAME, ${NAME…} and $$ in s, as Compose does. A ${
// that does not start a name is kept, with what follows up to its }, for
// n8n-secrets' own ${<reference>}.
func (p *parser) interpolate(s string) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch n := s[i+1]; {
		case n == '$':
			b.WriteByte('$')
			i++
		case isNameStart(n):
			j := i + 1
			for j < len(s) && isNameChar(s[j]) {
				j++
			}
			b.WriteString(p.expand(s[i+1 : j]))
			i = j - 1
		case n == '{':
			end := matchBrace(s, i+2)
			if end < 0 {
				return "", p.errf("a ${ is not closed by }")
			}
			inner := s[i+2 : end]
			if inner == "" || !isNameStart(inner[0]) || !nameThenOp(inner) {
				// Not Compose's: n8n-secrets' own ${<reference>}, kept.
				b.WriteString(s[i : end+1])
				i = end
				continue
			}
			v, err := p.braced(inner)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i = end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// nameThenOp reports whether inner is a name alone or a name followed by
// one of Compose's operators.
func nameThenOp(inner string) bool {
	j := 0
	for j < len(inner) && isNameChar(inner[j]) {
		j++
	}
	rest := inner[j:]
	if rest == "" {
		return true
	}
	rest = strings.TrimPrefix(rest, ":")
	return rest != "" && strings.IndexByte("-+?", rest[0]) >= 0
}

// matchBrace returns the index of the } that closes a ${ whose content
// starts at from, counting nested ${…}, or -1.
func matchBrace(s string, from int) int {
	depth := 1
	for i := from; i < len(s); i++ {
		switch {
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
			i++
		case s[i] == '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// expand returns name's value, or "" with a warning when it is not set.
func (p *parser) expand(name string) string {
	v, ok := p.get(name)
	if !ok {
		p.warnings = append(p.warnings, Warning{Line: p.line, Var: name})
	}
	return v
}

// braced expands the content of ${…}: NAME, or NAME with :-, -, :+, +,
// :? or ? and a word, itself interpolated.
func (p *parser) braced(inner string) (string, error) {
	j := 0
	for j < len(inner) && isNameChar(inner[j]) {
		j++
	}
	name, op := inner[:j], inner[j:]
	if op == "" {
		return p.expand(name), nil
	}
	colon := strings.HasPrefix(op, ":")
	op = strings.TrimPrefix(op, ":")
	kind, word := op[0], op[1:]
	v, set := p.get(name)
	present := set && (!colon || v != "")
	switch kind {
	case '-':
		if present {
			return v, nil
		}
		return p.interpolate(word)
	case '+':
		if present {
			return p.interpolate(word)
		}
		return "", nil
	default: // '?'
		if present {
			return v, nil
		}
		return "", p.errf("%s must be set (${%s%s?…})", name, name, map[bool]string{true: ":", false: ""}[colon])
	}
}
