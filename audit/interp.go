package audit

import (
	"strings"
)

// setting is what the files show of one value: its text when they show
// it, else the variable whose value the deployer provides. Where the text
// is written is kept, so that a literal that reaches a service through
// ${NAME} from a .env file is reported at its line in the .env file, and
// judged by the variable it lands in.
type setting struct {
	value string // the text, when host is ""
	// host names the first variable left to the deployer's environment
	// ("${N8N_VERSION}"); "" when the files give the whole value.
	host string
	// lit is where the first non-empty part of the text is written; via
	// says how it arrives when not in place ("ENCRYPTION_KEY in .env").
	lit Pos
	via string
	// dflt: the text comes from a default (${NAME:-default}, an ARG's
	// default), used only when the deployer does not set NAME.
	dflt bool
	// end is the provenance of the last non-empty part (an image's tag).
	end *setting
	// composed: the text comes from more than one place.
	composed bool
	// refused are the ${…} that hold no variable's name, in order: the
	// first that holds a reference (as the auditor's stores read it) is
	// where Compose refuses it ("Invalid template"), where n8n-secrets'
	// --env-file keeps it for the injector.
	refused []notName
}

// notName is a ${…} that holds no variable's name, and where it is.
type notName struct {
	pos  Pos
	text string
}

// tail returns the provenance of the value's last part: where an image's
// tag is written, for instance.
func (s setting) tail() setting {
	if s.end != nil {
		return *s.end
	}
	return s
}

// arrivedVia marks a value as brought in by via ("NAME in .env") where it
// was written in place.
func (s setting) arrivedVia(via string) setting {
	if !s.known() {
		return s
	}
	if s.via == "" {
		s.via = via
	}
	if s.end != nil && s.end.via == "" {
		e := *s.end
		e.via = via
		s.end = &e
	}
	return s
}

// known reports whether the files give the whole value.
func (s setting) known() bool { return s.host == "" }

// lookupFunc returns the value of a variable as far as the files show it;
// ok is false when the files do not set it.
type lookupFunc func(name string) (setting, bool)

// maxInterpDepth bounds nested defaults (${A:-${B:-${C}}}).
const maxInterpDepth = 16

// interpolate expands s as Docker Compose does: ${NAME}, ${NAME:-default},
// ${NAME-default}, ${NAME:?message}, ${NAME?message}, ${NAME:+alternative},
// ${NAME+alternative} (defaults and alternatives interpolated in turn),
// $NAME, and $$ for a literal $. Variables come from lookup; one it does not
// know is the deployer's (host). here is where s is written.
func interpolate(s string, here Pos, lookup lookupFunc) setting {
	var b interpBuilder
	b.expand(s, here, lookup, false, 0)
	return b.result()
}

// interpBuilder accumulates the parts of an interpolated value.
type interpBuilder struct {
	out      strings.Builder
	host     string
	lit      Pos
	via      string
	dflt     bool
	haveText bool
	last     setting
	composed bool
	refused  []notName
}

func (b *interpBuilder) result() setting {
	if b.host != "" {
		return setting{host: b.host, refused: b.refused}
	}
	last := b.last
	return setting{value: b.out.String(), lit: b.lit, via: b.via, dflt: b.dflt, end: &last, composed: b.composed, refused: b.refused}
}

// part records where a non-empty part of the text comes from: a value
// whose parts come from two places is composed.
func (b *interpBuilder) part(pos Pos, via string) {
	if !b.haveText {
		b.haveText, b.lit, b.via = true, pos, via
		return
	}
	if pos != b.lit || via != b.via {
		b.composed = true
	}
}

// text adds text written at pos (via: how it got there).
func (b *interpBuilder) text(s string, pos Pos, via string, dflt bool) {
	if s == "" {
		return
	}
	b.part(pos, via)
	b.dflt = b.dflt || dflt
	b.out.WriteString(s)
	b.last = setting{value: s, lit: pos, via: via, dflt: dflt}
}

// unknown records a variable left to the deployer.
func (b *interpBuilder) unknown(name string) {
	if b.host == "" {
		b.host = "${" + name + "}"
	}
}

// add adds a looked-up value.
func (b *interpBuilder) add(name string, s setting) {
	b.refused = append(b.refused, s.refused...)
	if !s.known() {
		if b.host == "" {
			b.host = s.host
		}
		return
	}
	if s.value == "" {
		return
	}
	b.part(s.lit, s.via)
	b.composed = b.composed || s.composed
	b.dflt = b.dflt || s.dflt
	b.out.WriteString(s.value)
	t := s.tail()
	b.last = setting{value: t.value, lit: t.lit, via: t.via, dflt: t.dflt}
}

func isNameStart(c byte) bool {
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
}

func isNameChar(c byte) bool { return isNameStart(c) || (c >= '0' && c <= '9') }

// expand interpolates s into b; dflt marks text that is a default.
func (b *interpBuilder) expand(s string, here Pos, lookup lookupFunc, dflt bool, depth int) {
	var lit strings.Builder
	flush := func() {
		b.text(lit.String(), here, "", dflt)
		lit.Reset()
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			lit.WriteByte(c)
			continue
		}
		switch n := s[i+1]; {
		case n == '$':
			lit.WriteByte('$')
			i++
		case n == '{':
			end := closingBrace(s, i+2)
			if end < 0 {
				lit.WriteString(s[i:])
				i = len(s)
				continue
			}
			flush()
			b.braced(s[i+2:end], here, lookup, dflt, depth)
			i = end
		case isNameStart(n):
			j := i + 1
			for j < len(s) && isNameChar(s[j]) {
				j++
			}
			flush()
			name := s[i+1 : j]
			if v, ok := lookup(name); ok {
				b.add(name, v)
			} else {
				b.unknown(name)
			}
			i = j - 1
		default:
			lit.WriteByte(c)
		}
	}
	flush()
}

// closingBrace returns the index of the "}" that closes a "${" whose
// content starts at from, counting nested "${…}", or -1.
func closingBrace(s string, from int) int {
	depth := 0
	for i := from; i < len(s); i++ {
		switch {
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
			i++
		case s[i] == '}':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

// braced interpolates the content of one ${…}.
func (b *interpBuilder) braced(content string, here Pos, lookup lookupFunc, dflt bool, depth int) {
	j := 0
	for j < len(content) && isNameChar(content[j]) {
		j++
	}
	name, rest := content[:j], content[j:]
	if name == "" || !isNameStart(name[0]) || depth >= maxInterpDepth {
		// Not a variable: Compose refuses the file; take it as text.
		b.notVariable(content, here, dflt)
		return
	}
	v, set := lookup(name)
	nonEmpty := set && (!v.known() || v.value != "")
	op := ""
	for _, o := range []string{":-", ":?", ":+", "-", "?", "+"} {
		if strings.HasPrefix(rest, o) {
			op, rest = o, rest[len(o):]
			break
		}
	}
	if op == "" && rest != "" {
		b.notVariable(content, here, dflt)
		return
	}
	switch op {
	case "":
		if set {
			b.add(name, v)
		} else {
			b.unknown(name)
		}
	case ":-", "-":
		use := set
		if op == ":-" {
			use = nonEmpty
		}
		if use {
			b.add(name, v)
		} else {
			b.expand(rest, here, lookup, true, depth+1)
		}
	case ":?", "?":
		if set {
			b.add(name, v)
		} else {
			b.unknown(name)
		}
	case ":+", "+":
		use := set
		if op == ":+" {
			use = nonEmpty
		}
		if use {
			b.expand(rest, here, lookup, dflt, depth+1)
		}
	}
}

// notVariable takes a ${…} that holds no variable's name as text, as
// n8n-secrets' --env-file does; Compose refuses it ("Invalid template").
// One that holds a reference (${vault://…}, as the injector reads it) is
// recorded as refused: the user meant $${…} in a Compose file.
func (b *interpBuilder) notVariable(content string, here Pos, dflt bool) {
	text := "${" + content + "}"
	b.refused = append(b.refused, notName{pos: here, text: text})
	b.text(text, here, "", dflt)
}

// envEntry is one line of a dotenv file.
type envEntry struct {
	name string
	pos  Pos
	setting
	bare bool // KEY alone, without "="
}

// parseDotenv reads a .env or env_file as Docker Compose does: KEY=VALUE
// lines, an optional "export " prefix, # comments (a " #" after an unquoted
// value too), values in single quotes taken as they are, values in double
// quotes with escapes and interpolation, unquoted values interpolated.
// ${NAME} in a value takes NAME from the lines above, then from outer. A
// line KEY alone (no "=") takes KEY from outer, else from the deployer's
// environment. Lines that hold no valid name are skipped, as Compose
// rejects them. Nothing of the content is kept but the values, which are
// never printed.
func parseDotenv(file string, data []byte, outer lookupFunc) []envEntry {
	return parseDotenvAt(data, dotenvPlace{label: baseName(file), at: func(line, col int) Pos { return Pos{File: file, Line: line, Col: col} }}, outer)
}

// dotenvPlace says where the lines of a dotenv text are written: label
// names it in messages ("ENCRYPTION_KEY in .env"), at maps a line and
// column of the text to the audited file (a text may be a value inside a
// YAML file). outerFirst looks a ${NAME} up in outer before the lines
// above, as Compose's env_file and n8n-secrets' --env-file do with the
// process environment.
type dotenvPlace struct {
	label      string
	at         func(line, col int) Pos
	outerFirst bool
}

// parseDotenvAt is parseDotenv for a text placed as place says.
func parseDotenvAt(data []byte, place dotenvPlace, outer lookupFunc) []envEntry {
	var out []envEntry
	index := map[string]int{}
	lookup := func(name string) (setting, bool) {
		if place.outerFirst && outer != nil {
			if s, ok := outer(name); ok {
				return s, true
			}
		}
		if i, ok := index[name]; ok {
			return out[i].setting.arrivedVia(name + " in " + place.label), true
		}
		if outer != nil && !place.outerFirst {
			return outer(name)
		}
		return setting{}, false
	}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		col := len(line) - len(trimmed) + 1
		if rest, ok := strings.CutPrefix(trimmed, "export "); ok {
			col += len(trimmed) - len(rest)
			trimmed = strings.TrimLeft(rest, " \t")
		}
		name, raw, hasValue := strings.Cut(trimmed, "=")
		name = strings.TrimRight(name, " \t")
		if !validEnvName(name) {
			continue
		}
		pos := place.at(i+1, col)
		e := envEntry{name: name, pos: pos}
		switch {
		case !hasValue:
			e.bare = true
			if v, ok := lookup(name); ok {
				e.setting = v
			} else {
				e.host = "${" + name + "}"
			}
		default:
			e.setting = dotenvValue(raw, pos, lookup)
		}
		if j, dup := index[name]; dup {
			out[j] = e
			continue
		}
		index[name] = len(out)
		out = append(out, e)
	}
	return out
}

// validEnvName reports whether a dotenv key is one Compose accepts.
func validEnvName(name string) bool {
	if name == "" || !isNameStart(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isNameChar(c) && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// dotenvValue reads one value of a dotenv line.
func dotenvValue(raw string, pos Pos, lookup lookupFunc) setting {
	v := strings.TrimLeft(raw, " \t")
	switch {
	case strings.HasPrefix(v, "'"):
		if end := strings.IndexByte(v[1:], '\''); end >= 0 {
			v = v[1 : end+1]
		} else {
			v = v[1:]
		}
		if v == "" {
			return setting{}
		}
		return setting{value: v, lit: pos}
	case strings.HasPrefix(v, `"`):
		var b strings.Builder
	scan:
		for i := 1; i < len(v); i++ {
			c := v[i]
			if c == '\\' && i+1 < len(v) {
				i++
				switch v[i] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case 'r':
					b.WriteByte('\r')
				default:
					b.WriteByte(v[i])
				}
				continue
			}
			if c == '"' {
				break scan
			}
			b.WriteByte(c)
		}
		return interpolate(b.String(), pos, lookup)
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	}
	return interpolate(strings.TrimRight(v, " \t"), pos, lookup)
}

// baseName returns the last element of a slash- or OS-separated path.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
