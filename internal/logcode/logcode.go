// Package logcode defines what a stable log code is: a typed value carrying
// its name (the "code" attribute of a log event, which an alert matches), the
// level of the events that carry it, the exit code it stands for when it
// stops a command, and a one-line meaning. Each package that logs codes
// exports them as a list of Code values; the command's table of codes, its
// `codes` output and the README's tables are built from those lists.
//
// It imports nothing of the project, so that every package can declare its
// codes with it.
package logcode

// Code is one stable log code.
type Code struct {
	// Name is the code as logged, e.g. SECRET_NOT_FOUND.
	Name string `json:"code"`
	// Level is the level of the events that carry it ("info", "warn",
	// "error", "debug", "error or warn", …), or "check" for a finding
	// that check shows and does not log.
	Level string `json:"level"`
	// Exit is the exit code of a command stopped by a failure with this
	// code: 0 when the code stops nothing, ExitSignal for 128+N after
	// signal N.
	Exit int `json:"-"`
	// Meaning says what the code means, in one line (Markdown).
	Meaning string `json:"meaning"`
}

// String returns the code's name.
func (c Code) String() string { return c.Name }

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

// Index returns the codes of lists by name; a name declared twice panics,
// since a code must mean one thing.
func Index(lists ...[]Code) map[string]Code {
	m := map[string]Code{}
	for _, l := range lists {
		for _, c := range l {
			if _, dup := m[c.Name]; dup {
				panic("logcode: " + c.Name + " declared twice")
			}
			m[c.Name] = c
		}
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
