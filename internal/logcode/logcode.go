// Package logcode defines what a stable log code is: a typed value carrying
// its name (the "code" attribute of a log event, which an alert matches), the
// level of the events that carry it, the exit code it stands for when it
// stops a command, and a one-line meaning. A Code is made only by a Set, the
// list of a package's codes: each package declares its codes with its Set's
// New and exports the list as a function Codes. A code therefore cannot
// exist without its level, exit and meaning, nor be missing from its
// package's list. The command's table of codes, its `codes` output and the
// README's tables are built from those lists.
//
// It imports nothing of the project, so that every package can declare its
// codes with it.
package logcode

import (
	"log/slog"
	"slices"
)

// Code is one stable log code. Its zero value is no code; any other value
// comes from a Set's New. It logs (slog.LogValuer), prints (String) and
// marshals (encoding.TextMarshaler) as its name, so that a log line, a
// message or a JSON document holding a code holds exactly the name.
type Code struct {
	set     *Set // the set that declared it: two sets' codes differ
	name    string
	level   string
	exit    int
	meaning string
}

// Name is the code as logged, e.g. SECRET_NOT_FOUND.
func (c Code) Name() string { return c.name }

// Level is the level of the events that carry it ("info", "warn", "error",
// "debug", "error or warn", …), or "check" for a finding that check shows
// and does not log.
func (c Code) Level() string { return c.level }

// Exit is the exit code of a command stopped by a failure with this code: 0
// when the code stops nothing, ExitSignal for 128+N after signal N.
func (c Code) Exit() int { return c.exit }

// Meaning says what the code means, in one line (Markdown).
func (c Code) Meaning() string { return c.meaning }

// IsZero reports whether c is no code (the zero value); encoding/json's
// omitzero leaves such a field out.
func (c Code) IsZero() bool { return c == Code{} }

// String returns the code's name.
func (c Code) String() string { return c.name }

// LogValue logs the code as its name.
func (c Code) LogValue() slog.Value { return slog.StringValue(c.name) }

// MarshalText marshals the code as its name.
func (c Code) MarshalText() ([]byte, error) { return []byte(c.name), nil }

// Set is the list of one package's codes, in the order they are declared.
// Its zero value is an empty set, ready for use. New is meant for the
// initialization of package variables; a Set is not safe for concurrent
// New.
type Set struct {
	codes []Code
}

// New declares a code of the set with its level, exit code and meaning,
// and returns it. A name that is empty, not UPPER_SNAKE_CASE or already in
// the set, an empty level or an empty meaning panics: a code means one
// thing, and says what.
func (s *Set) New(name, level string, exit int, meaning string) Code {
	if !upperSnake(name) {
		panic("logcode: " + quote(name) + " is not an UPPER_SNAKE_CASE name")
	}
	for _, c := range s.codes {
		if c.name == name {
			panic("logcode: " + name + " declared twice")
		}
	}
	if level == "" || meaning == "" {
		panic("logcode: " + name + " lacks a level or a meaning")
	}
	c := Code{set: s, name: name, level: level, exit: exit, meaning: meaning}
	s.codes = append(s.codes, c)
	return c
}

// Share lists in the set a code that another package declares, for a code
// two packages log (the other package's list has it too), and returns it.
// A zero code, or a name already in the set, panics.
func (s *Set) Share(c Code) Code {
	if c.IsZero() {
		panic("logcode: a zero code shared")
	}
	for _, d := range s.codes {
		if d.name == c.name {
			panic("logcode: " + c.name + " declared twice")
		}
	}
	s.codes = append(s.codes, c)
	return c
}

// Codes returns the codes of the set in the order they were declared: a
// copy, which the caller may change.
func (s *Set) Codes() []Code { return slices.Clone(s.codes) }

// upperSnake reports whether name is words of A-Z and 0-9, joined by single
// underscores, starting with a letter.
func upperSnake(name string) bool {
	if name == "" || name[0] < 'A' || name[0] > 'Z' || name[len(name)-1] == '_' {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch ch := name[i]; {
		case ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		case ch == '_' && name[i-1] != '_':
		default:
			return false
		}
	}
	return true
}

// quote quotes a name for a panic message, at most 40 bytes of it.
func quote(name string) string {
	if len(name) > 40 {
		name = name[:40] + "…"
	}
	return "\"" + name + "\""
}

// ExitSignal is the Exit of a code whose exit code is 128+N, N the signal
// that stopped the command.
const ExitSignal = -1

// Exit is one exit code a command returns, and when.
type Exit struct {
	Code int
	// Signal is the signal whose 128+N this is, for the codes whose Exit
	// is ExitSignal; 0 otherwise.
	Signal int
	// When says in which cases (Markdown).
	When string
}

// Table concatenates lists into one, a code listed in several (shared,
// Set.Share) at its first place only. Two different codes of one name
// panic, since a code must mean one thing.
func Table(lists ...[]Code) []Code {
	var t []Code
	seen := map[string]Code{}
	for _, l := range lists {
		for _, c := range l {
			if d, dup := seen[c.name]; dup {
				if d != c {
					panic("logcode: " + c.name + " declared twice")
				}
				continue
			}
			seen[c.name] = c
			t = append(t, c)
		}
	}
	return t
}

// Index returns the codes of lists by name; two different codes of one
// name panic, since a code must mean one thing.
func Index(lists ...[]Code) map[string]Code {
	m := map[string]Code{}
	for _, c := range Table(lists...) {
		m[c.name] = c
	}
	return m
}

// rank orders exit codes by how pressing they are when several failures
// stop one command: a signal's (130, 143) first, then usage (64),
// permission (77), unavailable (69), data (65); any other ranks last.
func rank(exit int) int {
	switch {
	case exit > 128:
		return 5
	case exit == 64:
		return 4
	case exit == 77:
		return 3
	case exit == 69:
		return 2
	case exit == 65:
		return 1
	}
	return 0
}

// MostPressing returns the exit code that wins among exits: the highest
// ranked (a signal's, 64, 77, 69, 65), else the first; 0 for none. This
// keeps an operator's first look on what blocks everything.
func MostPressing(exits ...int) int {
	best := 0
	for _, e := range exits {
		if best == 0 || rank(e) > rank(best) {
			best = e
		}
	}
	return best
}

// ExitOf returns the exit code of a command stopped by failures with
// codes: the most pressing (MostPressing) of the exits they declare, a
// code that declares none counting as 65 (data), ExitSignal as 130
// (SIGINT's; the command's own exit after signal N is 128+N, which the
// caller knows); 0 for no code. It is the one mapping of codes to an exit
// code.
func ExitOf(codes ...Code) int {
	exits := make([]int, 0, len(codes))
	for _, c := range codes {
		switch e := c.Exit(); e {
		case 0:
			exits = append(exits, 65)
		case ExitSignal:
			exits = append(exits, 130)
		default:
			exits = append(exits, e)
		}
	}
	return MostPressing(exits...)
}
