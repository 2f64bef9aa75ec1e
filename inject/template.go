package inject

import (
	"fmt"
	"strings"
)

// Template is a value that builds itself from references:
//
//	DB_POSTGRESDB_CONNECTION_URL=postgres://n8n:${vault://secret/n8n/db#password}@db/n8n
//
// A value is a template when it holds "${" followed by a known scheme (or
// by a scheme one typo away from one and "://", which then fails as a
// typo), not escaped as "$${": see [Stores.IsTemplate]. In a template every "${"
// opens a reference that the first "}" closes, "$${" stands for a literal
// "${", and any other text is kept as it is. A value without such a "${"
// is not a template and is left entirely alone ("$${" included). Resolved
// values are put in once and never scanned again: a value that yields
// "${…}" stays literal.
type Template struct {
	// Refs are the references, in the order they appear.
	Refs []Reference
	// text holds the literal parts: text[i] comes before Refs[i], and the
	// last one after the last reference (len(text) == len(Refs)+1).
	text []string
}

// IsTemplate reports whether value is a template: it holds "${", not
// escaped as "$${", followed by a known scheme, in any case, or by a near
// miss of one ("${vualt://").
// A value that is a reference as a whole (see [Stores.IsReference]) is not.
func (ss Stores) IsTemplate(value string) bool {
	if ss.IsReference(value) {
		return false
	}
	// Left to right, as ParseTemplate reads it: "$${" is an escape.
	for i := 0; i < len(value); {
		switch {
		case strings.HasPrefix(value[i:], "$${"):
			i += 3
		case strings.HasPrefix(value[i:], "${"):
			rest := value[i+2:]
			if ss.IsReference(rest) || ss.nearScheme(strings.SplitN(rest, "}", 2)[0]) != "" {
				return true
			}
			i += 2
		default:
			j := strings.IndexByte(value[i+1:], '$')
			if j < 0 {
				return false
			}
			i += 1 + j
		}
	}
	return false
}

// ParseTemplate parses a template value strictly: an unclosed "${", an
// empty one, one that does not hold a reference, or a malformed reference
// is an error. It does no I/O. Errors wrap [ErrBadReference] and name
// positions (byte offsets), never the value's text.
func (ss Stores) ParseTemplate(value string) (*Template, error) {
	t := &Template{}
	var lit strings.Builder
	for i := 0; i < len(value); {
		switch {
		case strings.HasPrefix(value[i:], "$${"):
			lit.WriteString("${")
			i += 3
		case strings.HasPrefix(value[i:], "${"):
			end := strings.IndexByte(value[i+2:], '}')
			if end < 0 {
				return nil, badRef("the ${ at byte %d is not closed by }", i)
			}
			inner := value[i+2 : i+2+end]
			n := len(t.Refs) + 1
			switch {
			case inner == "":
				return nil, badRef("empty ${} at byte %d", i)
			case strings.Contains(inner, "${"):
				return nil, badRef("a ${ inside the reference at byte %d: references do not nest", i)
			case !ss.IsReference(inner):
				if near := ss.nearScheme(inner); near != "" {
					return nil, badRef("the ${ at byte %d starts like a reference with a misspelled scheme: did you mean %s?", i, near)
				}
				return nil, badRef("the ${ at byte %d does not hold a reference (%s): write $${ for a literal ${", i, ss.known())
			}
			ref, err := ss.Parse(inner)
			if err != nil {
				return nil, fmt.Errorf("reference %d (the ${ at byte %d): %w", n, i, err)
			}
			t.text = append(t.text, lit.String())
			lit.Reset()
			t.Refs = append(t.Refs, ref)
			i += 2 + end + 1
		default:
			lit.WriteByte(value[i])
			i++
		}
	}
	t.text = append(t.text, lit.String())
	if len(t.Refs) == 0 {
		return nil, badRef("no reference in the value's ${…}")
	}
	return t, nil
}

// Render returns the template with values[i] in place of Refs[i].
func (t *Template) Render(values [][]byte) []byte {
	n := 0
	for _, s := range t.text {
		n += len(s)
	}
	for _, v := range values {
		n += len(v)
	}
	out := make([]byte, 0, n)
	for i, s := range t.text {
		out = append(out, s...)
		if i < len(values) && i < len(t.Refs) {
			out = append(out, values[i]...)
		}
	}
	return out
}
