// Package cmdline parses a command line against a list of flags, and
// reports every mistake by the argument's position and the flag's name,
// never by the argument's text: an argument may be a key pasted in the
// wrong place, and an error message is output (logs, CI transcripts).
//
// The syntax is the standard library flag package's: -name or --name,
// -name=value or -name value, a boolean flag alone or with =true/=false,
// "--" to end the flags; -h, -help and --help ask for help. Unlike package
// flag, a value is never quoted back, and flags may follow positional
// arguments when the caller allows it.
package cmdline

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/internal/suggest"
)

// ErrHelp is returned when the arguments ask for help (-h, -help, --help).
var ErrHelp = errors.New("help requested")

// Flag is one flag a command takes.
type Flag struct {
	Name string // without dashes: "timeout"
	// Arg is the value's placeholder in usage texts ("DURATION"); empty
	// for a boolean flag, which takes no value or =true/=false.
	Arg  string
	Help string // one line
	// Set receives the value (for a boolean, "true" or "false") and the
	// argument's position (1 for the first argument). Its error is
	// reported with the position and the flag's name: it must not repeat
	// the value.
	Set func(value string, pos int) error
}

// Bool reports whether f is a boolean flag.
func (f *Flag) Bool() bool { return f.Arg == "" }

// Options tell Parse how positional arguments are handled.
type Options struct {
	// Interleaved lets flags follow positional arguments ("audit dir
	// --format json"); otherwise the first positional argument ends the
	// flags, as in package flag, and it and everything after it are
	// returned as they are.
	Interleaved bool
	// Offset is added to positions in errors: the position of args[0] on
	// the whole command line, less one.
	Offset int
}

// Result is what Parse found besides the flags it set.
type Result struct {
	// Args are the positional arguments, in order.
	Args []string
	// Pos holds each positional argument's position.
	Pos []int
	// Dashed reports whether "--" ended the flags (Args are what followed
	// it, and what came before it when Interleaved).
	Dashed bool
	// DashPos is the position just after "--" when Dashed.
	DashPos int
}

// Error is a mistake in the arguments. Its text names the argument's
// position and, for a flag, the flag's name: never the argument's text.
type Error struct {
	Pos  int    // 1 for the first argument
	Flag string // the flag's name as defined, "" when no known flag
	Msg  string // the kind of problem
	Hint string // what to do, if anything
}

func (e *Error) Error() string {
	if e.Flag != "" {
		return fmt.Sprintf("argument %d (--%s): %s", e.Pos, e.Flag, e.Msg)
	}
	return fmt.Sprintf("argument %d: %s", e.Pos, e.Msg)
}

// plainFlag is what a flag name may look like to be named in a message:
// lower-case words with dashes, short. Anything else (a key pasted after
// a dash) is referred to by its position only.
var plainFlag = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// Printable returns name when it looks like a flag's name someone typed
// (lower-case words and dashes, at most 24 characters), else "".
func Printable(name string) string {
	if len(name) <= 24 && plainFlag.MatchString(name) {
		return name
	}
	return ""
}

// Parse parses args against flags, calling each flag's Set in order, and
// returns the positional arguments. Errors are *Error, or ErrHelp.
func Parse(args []string, flags []*Flag, opts Options) (Result, error) {
	byName := map[string]*Flag{}
	for _, f := range flags {
		byName[f.Name] = f
	}
	var res Result
	for i := 0; i < len(args); i++ {
		a, pos := args[i], opts.Offset+i+1
		if a == "--" {
			res.Dashed, res.DashPos = true, pos+1
			for j := i + 1; j < len(args); j++ {
				res.Args = append(res.Args, args[j])
				res.Pos = append(res.Pos, opts.Offset+j+1)
			}
			return res, nil
		}
		if len(a) < 2 || a[0] != '-' {
			if !opts.Interleaved {
				for j := i; j < len(args); j++ {
					res.Args = append(res.Args, args[j])
					res.Pos = append(res.Pos, opts.Offset+j+1)
				}
				return res, nil
			}
			res.Args = append(res.Args, a)
			res.Pos = append(res.Pos, pos)
			continue
		}
		name := strings.TrimPrefix(a[1:], "-")
		value, hasValue := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, value, hasValue = k, v, true
		}
		if name == "h" || name == "help" {
			return res, ErrHelp
		}
		f := byName[name]
		if f == nil {
			if p := Printable(name); p != "" {
				return res, &Error{Pos: pos, Msg: "unknown flag --" + p, Hint: nearest(p, flags)}
			}
			return res, &Error{Pos: pos, Msg: "not a flag this command takes (a value meant for a flag goes after the flag's name)"}
		}
		if f.Bool() {
			if hasValue {
				b, err := strconv.ParseBool(value)
				if err != nil {
					return res, &Error{Pos: pos, Flag: f.Name, Msg: "takes no value, or =true or =false"}
				}
				value = strconv.FormatBool(b)
			} else {
				value = "true"
			}
		} else if !hasValue {
			if i+1 >= len(args) {
				return res, &Error{Pos: pos, Flag: f.Name, Msg: "needs a value (" + f.Arg + ")"}
			}
			i++
			value = args[i]
			pos = opts.Offset + i + 1
		}
		if err := f.Set(value, pos); err != nil {
			var ce *Error
			if errors.As(err, &ce) {
				return res, err
			}
			return res, &Error{Pos: pos, Flag: f.Name, Msg: err.Error()}
		}
	}
	return res, nil
}

// nearest returns a hint naming the flag name was probably meant to be.
func nearest(name string, flags []*Flag) string {
	names := make([]string, len(flags))
	for i, f := range flags {
		names[i] = f.Name
	}
	if n := suggest.Nearest(name, 2, names...); n != "" {
		return "did you mean --" + n + "?"
	}
	return ""
}
