package main

// The help texts: the global one (n8n-secrets help) and each command's
// (n8n-secrets help CMD, CMD --help), made from the table of commands and
// the table of settings, so that a flag or a setting cannot be missing from
// them.

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/cmdline"
	"github.com/n8n-secrets/n8n-secrets/internal/environ"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
)

// runFunc runs a command once its arguments are parsed: args are its
// positional arguments, pos their positions on the command line.
type runFunc func(s *settings.Settings, env environ.Env, args []string, pos []int) error

// positional says what positional arguments a command takes.
type positional int

const (
	noArgs      positional = iota
	pathArgs               // any number, flags may follow them (audit)
	commandArgs            // the command to run, after the flags and an optional --
	commandName            // at most one: a command's name (help)
)

// command is one subcommand.
type command struct {
	name    string
	aliases []string
	usage   string // what follows "n8n-secrets NAME" in the usage line
	summary string // the global help's description, one or two short lines
	about   string // the command's own help, paragraphs
	// settings: the command takes the settings' flags, and validates them.
	settings bool
	args     positional
	// setup returns the command's own flags, bound to fresh options, and
	// the function that runs it with them.
	setup func() ([]*cmdline.Flag, runFunc)
}

// boolFlag returns a boolean flag that sets *p.
func boolFlag(name, help string, p *bool) *cmdline.Flag {
	return &cmdline.Flag{Name: name, Help: help, Set: func(v string, _ int) error {
		*p = v == "true"
		return nil
	}}
}

// choiceFlag returns a flag whose value must be one of allowed, set in *p.
func choiceFlag(name, help string, p *string, allowed ...string) *cmdline.Flag {
	return &cmdline.Flag{Name: name, Arg: strings.Join(allowed, "|"), Help: help,
		Set: func(v string, _ int) error {
			if !slices.Contains(allowed, v) {
				return fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
			}
			*p = v
			return nil
		}}
}

// commandList is every command, in the order of the help text.
var commandList []*command

func init() {
	commandList = []*command{
		runCommand, checkCommand, fingerprintCommand, keygenCommand, auditCommand,
		verifyKeyCommand, rekeyCommand, codesCommand, installCommand, versionCommand, helpCommand,
	}
}

// commandNamed returns the command name names (or an alias of), or nil.
func commandNamed(name string) *command {
	for _, c := range commandList {
		if c.name == name || slices.Contains(c.aliases, name) {
			return c
		}
	}
	return nil
}

var runCommand = &command{
	name: "run", aliases: []string{"exec"}, usage: "[flags] [--] CMD [ARGS...]",
	summary: "resolve, check, then exec CMD: the default, also without run",
	about: `Resolves every reference in the environment, runs the n8n guard, and
execs CMD with the values in its environment (n8n-secrets -- CMD does the
same). With --mode supervise it stays CMD's parent instead.
"exec" is another name of run.`,
	settings: true, args: commandArgs,
	setup: func() ([]*cmdline.Flag, runFunc) {
		return nil, func(s *settings.Settings, env environ.Env, args []string, _ []int) error {
			return execMode(s, env, args)
		}
	},
}

var versionCommand = &command{
	name: "version", summary: "print the version (also --version)",
	about: "Prints the version of n8n-secrets.",
	setup: func() ([]*cmdline.Flag, runFunc) {
		return nil, func(*settings.Settings, environ.Env, []string, []int) error { return versionCmd() }
	},
}

var helpCommand = &command{
	name: "help", usage: "[COMMAND]", summary: "print this text, or a command's help",
	about: "Prints the help of n8n-secrets, or of COMMAND.", args: commandName,
	setup: func() ([]*cmdline.Flag, runFunc) {
		return nil, func(s *settings.Settings, _ environ.Env, args []string, pos []int) error {
			if len(args) == 0 {
				printHelp(os.Stdout)
				return nil
			}
			c := commandNamed(args[0])
			if c == nil {
				return unknownCommand(args[0], pos[0])
			}
			printCommandHelp(os.Stdout, c)
			return nil
		}
	},
}

// usageLine returns "n8n-secrets NAME USAGE".
func (c *command) usageLine() string {
	return strings.TrimSpace("n8n-secrets " + c.name + " " + c.usage)
}

// printCommandHelp writes a command's help: its usage, what it does, its
// own flags and, when it takes them, where the settings' flags are.
func printCommandHelp(w io.Writer, c *command) {
	usage := strings.ReplaceAll(c.usageLine(), "\n", "\n"+strings.Repeat(" ", len("Usage: n8n-secrets "+c.name+" ")))
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", usage, c.about)
	flags, _ := c.setup()
	if len(flags) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		printFlags(w, flags)
	}
	if c.settings {
		fmt.Fprintln(w, "\nIt also takes every settings flag (each also a variable N8N_SECRETS_<NAME>):")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for i := range settings.Table {
			d := &settings.Table[i]
			fmt.Fprintf(tw, "  %s\t%s\n", flagSyntax(d.Flag, d.Arg), d.VarName())
		}
		_ = tw.Flush()
		fmt.Fprintln(w, "n8n-secrets help lists what each one does.")
	}
}

func flagSyntax(name, arg string) string {
	if arg == "" {
		return "--" + name
	}
	return "--" + name + " " + arg
}

func printFlags(w io.Writer, flags []*cmdline.Flag) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range flags {
		fmt.Fprintf(tw, "  %s\t%s\n", flagSyntax(f.Name, f.Arg), plain(f.Help))
	}
	_ = tw.Flush()
}

// plain drops the Markdown backticks of a help line.
func plain(s string) string { return strings.ReplaceAll(s, "`", "") }

// printHelp writes the global help.
func printHelp(w io.Writer) {
	fmt.Fprint(w, helpIntro)
	fmt.Fprintln(w, "\nUsage:")
	row := func(left, right string) {
		lines := strings.Split(right, "\n")
		if len(left) > 39 {
			fmt.Fprintf(w, "  %s\n", left)
		} else {
			fmt.Fprintf(w, "  %-39s  %s\n", left, lines[0])
			lines = lines[1:]
		}
		for _, l := range lines {
			fmt.Fprintf(w, "  %-39s  %s\n", "", l)
		}
	}
	row("n8n-secrets [flags] -- CMD [ARGS...]", "resolve, check, then exec CMD (the default use)")
	for _, c := range commandList {
		line := c.usageLine()
		if len(c.aliases) > 0 {
			line = strings.Replace(line, c.name, c.name+"|"+strings.Join(c.aliases, "|"), 1)
		}
		first, more, _ := strings.Cut(line, "\n")
		if more != "" {
			fmt.Fprintf(w, "  %s\n", first)
			line = strings.Repeat(" ", len("n8n-secrets "+c.name)) + more
		}
		row(line, c.summary)
	}
	row("n8n-secrets COMMAND --help", "a command's own help (also: n8n-secrets help COMMAND)")
	fmt.Fprint(w, helpReferencesHead)
	storesHelp(w, stores)
	fmt.Fprint(w, helpReferences)
	fmt.Fprintln(w, "\nSettings (each a variable N8N_SECRETS_<NAME> and a flag; the flag wins):")
	printSettings(w, "")
	fmt.Fprintln(w, "\nSupervise mode's settings (--mode supervise):")
	printSettings(w, settings.GroupSupervise)
	fmt.Fprint(w, helpStores)
}

// printSettings writes the help's rows for the settings of group: the
// flag, the variable and the default, then what it does, wrapped.
func printSettings(w io.Writer, group string) {
	for i := range settings.Table {
		d := &settings.Table[i]
		if d.Group != group {
			continue
		}
		def := ""
		if d.Def != "" && d.Def != "false" {
			def = "default " + d.Def
		}
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  %-29s %-35s %s", flagSyntax(d.Flag, d.Arg), d.VarName(), def), " "))
		help := plain(d.Help)
		if d.Allowed != nil && !strings.Contains(help, strings.Join(d.Allowed, ", ")) && !strings.Contains(help, d.Allowed[0]+",") {
			help = strings.Join(d.Allowed, ", ") + ": " + help
		}
		for _, l := range wrap(help, 88) {
			fmt.Fprintf(w, "      %s\n", l)
		}
	}
}

// wrap splits s into lines of at most width bytes, at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(lines, line)
}

const helpIntro = `n8n-secrets: put secrets from Vault, AWS Secrets Manager and Parameter Store,
Azure Key Vault, Google Secret Manager and mounted files into a command's
environment, in memory only, check n8n's encryption-key invariants, and exec
the command.
`

const helpReferencesHead = `
In a Dockerfile built on n8nio/n8n:
  ENTRYPOINT ["tini", "--", "/usr/local/bin/n8n-secrets", "--", "/docker-entrypoint.sh"]

References (a variable whose whole value starts with a scheme; file: names are
relative to the secrets dir, /run/secrets):
`

const helpReferences = `  N8N_ENCRYPTION_KEY=vault://secret/n8n/core#encryption_key
  DB_POSTGRESDB_PASSWORD=awssm://prod/n8n/db#password
  NAME_FILE=/absolute/path                         NAME gets the file's contents; NAME_FILE is removed
  ${<reference>} inside a value                    DB_URL=postgres://n8n:${vault://secret/n8n/db#password}@db/n8n
                                                   ($${ is a literal ${ in such a value)

  Selector: #key takes a top-level key of a JSON object, #/a/b is a JSON pointer.
  Without one, vault takes the secret's only key, awssm and file the whole value.
  Every scheme takes ?optional=true: a missing secret removes the variable.
  File contents lose one trailing newline. Anything malformed is an error.
  Another tool's reference as a whole value (op://, ref+vault://, sm://, an
  AWS ARN) is passed on as it is, with a warning.
`

const helpStores = `

Vault: VAULT_ADDR, VAULT_TOKEN or VAULT_TOKEN_FILE (default <dir>/vault_token),
  VAULT_AUTH_METHOD=token|approle|jwt|kubernetes, VAULT_AUTH_MOUNT, VAULT_AUTH_ROLE,
  VAULT_ROLE_ID[_FILE], VAULT_SECRET_ID[_FILE], VAULT_SECRET_ID_RESPONSE_WRAPPING_PATH,
  VAULT_JWT_FILE, VAULT_NAMESPACE,
  VAULT_CACERT, VAULT_CAPATH, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY, VAULT_TLS_SERVER_NAME,
  VAULT_SKIP_VERIFY.
AWS: the SDK's default chain (environment, profiles, IRSA, ECS task role, IMDS).
Provider credentials and N8N_SECRETS_* are removed from the child unless passed through.

Exit codes before exec (after exec the code is the command's):
  64 usage or settings   65 bad reference, missing secret or key, bad data
  69 store or database unreachable   77 authentication or permission
  78 the n8n guard refused, the key does not match n8n's database, or rekey found it in use
  126 command not executable   127 command not found   130/143 stopped by SIGINT/SIGTERM
Supervise mode: the command's code (128+N when it died of signal N); 75 when
  N8N_SECRETS_ON_CHANGE=exit stopped it for new values.
`

// storesHelp writes the help's lines for each store, from its
// declaration: the grammar, the options and what the store can do.
func storesHelp(w io.Writer, ss inject.Stores) {
	for _, st := range ss {
		fmt.Fprintf(w, "  %s\n", st.Syntax)
		for _, o := range st.Options {
			fmt.Fprintf(w, "       %s=: %s\n", o.Name, o.Meaning)
		}
		if ab := st.Abilities(); len(ab) > 0 {
			fmt.Fprintf(w, "       can: %s\n", strings.Join(ab, ", "))
		}
	}
}

// storesTable returns the README's table of the stores, from their
// declarations (TestReadmeStoresTable keeps the README in step).
func storesTable(ss inject.Stores) string {
	var b strings.Builder
	b.WriteString("| store | reference | options | abilities | variables removed from the child |\n|---|---|---|---|---|\n")
	for _, st := range ss {
		var opts []string
		for _, o := range st.Options {
			opts = append(opts, "`"+o.Name+"=`: "+o.Meaning)
		}
		creds := "none"
		if len(st.CredentialVars) > 0 {
			creds = "`" + strings.Join(st.CredentialVars, "`, `") + "`"
		}
		cell := strings.NewReplacer("|", `\|`).Replace
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s |\n", st.Scheme, cell(st.Syntax), cell(dashIfEmpty(strings.Join(opts, "; "))),
			dashIfEmpty(strings.Join(st.Abilities(), ", ")), creds)
	}
	return b.String()
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
