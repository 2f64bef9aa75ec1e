// Command n8n-secrets resolves secret references in the environment
// (vault://, awssm://, azkv://, gcpsm://, awsssm://, file:, NAME_FILE),
// checks n8n's encryption-key invariants and execs the command with the
// values in its environment. In exec mode no value is written to disk and
// no process of its own stays behind; what does write says so (the
// settings file's sync, rekey --apply, install).
//
// This file parses the command line, reads the environment once
// (internal/environ) and the settings (internal/settings), and runs the
// command, one file per command; the start sequence they share is package
// start. The stores come from one list (package providers, the only
// importer of every provider). Whatever stops a command is returned as an
// error, which exit (exit.go) maps to the exit code and reports when it is
// not logged yet; exec.go execs.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/n8n-secrets/n8n-secrets/internal/cmdline"
	"github.com/n8n-secrets/n8n-secrets/internal/environ"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
	"github.com/n8n-secrets/n8n-secrets/internal/suggest"
	"github.com/n8n-secrets/n8n-secrets/providers"
	"github.com/n8n-secrets/n8n-secrets/start"
)

// stores are the stores this binary has (package providers declares each
// in its own package): the one list every command is given.
var stores = providers.Stores

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Environ()))
}

// run executes one invocation and returns the exit code. In exec mode it
// only returns when something failed: on success the process image is
// replaced by the command's.
//
// The command line is parsed first, against the settings' flags (before
// a command, and after it for the commands that take them); then the
// environment is read, once, and the settings from it (and the --env-file
// files, under it) with the flags given over them; then the command runs.
// Whatever stops it comes back as an error, which exit maps to the exit
// code.
func run(args, environList []string) int {
	start.Version = version
	env := environ.New(environList)
	var given []settings.FlagValue
	s, err := dispatch(args, env, &given)
	if s == nil {
		// A mistake found before the settings were read: reported in the
		// log format the variables and flags ask for.
		s, _ = settings.FromEnv(env, given)
	}
	return exit(s, err)
}

// dispatch parses the command line, reads the settings and runs the
// command. It returns the settings it read (nil when it failed before) and
// what stopped the command.
func dispatch(args []string, env environ.Env, given *[]settings.FlagValue) (*settings.Settings, error) {
	showVersion := false
	global := append(settings.Flags(given), boolFlag("version", "print the version", &showVersion))
	res, err := cmdline.Parse(args, global, cmdline.Options{})
	if errors.Is(err, cmdline.ErrHelp) {
		printHelp(os.Stdout)
		return nil, nil
	}
	if err != nil {
		return nil, argError("", err)
	}
	if showVersion {
		return nil, versionCmd()
	}
	c, rest, offset := runCommand, res.Args, 0
	switch {
	case res.Dashed:
		// n8n-secrets [flags] -- CMD: the default mode.
	case len(res.Args) == 0:
		return nil, settings.Usagef("run a command as: n8n-secrets [flags] -- CMD [ARGS…]; see n8n-secrets --help", "no command given")
	default:
		if c = commandNamed(res.Args[0]); c == nil {
			return nil, unknownCommand(res.Args[0], res.Pos[0])
		}
		rest, offset = res.Args[1:], res.Pos[0]
	}
	own, runFn := c.setup()
	cargs, cpos := res.Args, res.Pos
	if !res.Dashed {
		flags := own
		if c.settings {
			flags = append(settings.Flags(given), own...)
		}
		r, err := cmdline.Parse(rest, flags, cmdline.Options{Interleaved: c.args == pathArgs, Offset: offset})
		if errors.Is(err, cmdline.ErrHelp) {
			printCommandHelp(os.Stdout, c)
			return nil, nil
		}
		if err != nil {
			return nil, argError(c.name, err)
		}
		cargs, cpos = r.Args, r.Pos
		if err := c.checkArgs(r); err != nil {
			return nil, err
		}
	}
	if !c.settings {
		// Only the settings a command without settings flags uses (the log
		// format, the deadline), from the environment.
		s, err := settings.FromEnv(env, *given)
		if err != nil {
			return s, err
		}
		return s, runFn(s, env, cargs, cpos)
	}
	s, env, err := settings.Load(env, *given)
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		return s, err
	}
	return s, runFn(s, env, cargs, cpos)
}

// checkArgs checks the positional arguments a command was given.
func (c *command) checkArgs(r cmdline.Result) error {
	hint := "see n8n-secrets " + c.name + " --help"
	switch {
	case c.args == noArgs && len(r.Args) > 0:
		return settings.Usagef(hint, "%s: argument %d: %s takes no arguments", c.name, r.Pos[0], c.name)
	case c.args == commandName && len(r.Args) > 1:
		return settings.Usagef(hint, "%s: argument %d: one command name at most", c.name, r.Pos[1])
	case c.args == commandArgs && len(r.Args) == 0:
		return settings.Usagef("n8n-secrets "+c.name+" [flags] [--] CMD [ARGS…]", "%s: no command given", c.name)
	}
	return nil
}

// argError turns an error of the command line into a usage error, for
// the command cmd ("" before one).
func argError(cmd string, err error) error {
	hint, prefix := "see n8n-secrets --help", ""
	if cmd != "" {
		hint, prefix = "see n8n-secrets "+cmd+" --help", cmd+": "
	}
	var ce *cmdline.Error
	if errors.As(err, &ce) && ce.Hint != "" {
		hint = ce.Hint + "; " + hint
	}
	return settings.Usagef(hint, "%s%v", prefix, err)
}

// unknownCommand is the error for a first argument that is no command: it
// names the argument's position, never its text (it may be a key pasted
// in the wrong place).
func unknownCommand(name string, pos int) error {
	hint := "to run a program, put -- before it (n8n-secrets [flags] -- CMD [ARGS…]) or use n8n-secrets run CMD [ARGS…]"
	if near := nearestCommand(name); near != "" {
		hint = "did you mean n8n-secrets " + near + "? Or " + hint
	}
	return settings.Usagef(hint, "argument %d: unknown command", pos)
}

func versionCmd() error {
	fmt.Printf("n8n-secrets %s\n", version)
	return nil
}

// nearestCommand returns the subcommand name was probably meant to be
// ("chek" gives "check"), or "".
func nearestCommand(name string) string {
	var names []string
	for _, c := range commandList {
		names = append(names, c.name)
		names = append(names, c.aliases...)
	}
	return suggest.Nearest(name, 2, names...)
}
