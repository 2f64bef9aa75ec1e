package main

import (
	"errors"
	"flag"
	"io"
	"os"

	"github.com/n8n-secrets/n8n-secrets/audit"
)

// exitFindings is audit's exit code when it found something at or above
// the --fail-on severity (as linters do: 0 clean, 1 findings).
const exitFindings = 1

// auditCmd runs `n8n-secrets audit [--format table|json|sarif]
// [--fail-on error|warning|info] [PATH…]`: the checks of package audit over
// deployment files (the current directory by default), printed on stdout.
// It reads files only, under the settings' deadline, and writes nothing.
func auditCmd(s *settings, args []string) int {
	format, failOn := "table", "error"
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&format, "format", format, "")
	fs.StringVar(&failOn, "fail-on", failOn, "")
	// Flags may follow paths (audit examples/ --format sarif).
	var paths []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return fail(s, usagef("n8n-secrets audit [--format table|json|sarif] [--fail-on error|warning|info] [PATH…]", "audit: see the usage"))
			}
			return fail(s, usagef("see n8n-secrets --help", "audit: %v", err))
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			paths = append(paths, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		paths, args = append(paths, rest[0]), rest[1:]
	}
	if format != "table" && format != "json" && format != "sarif" {
		return fail(s, usagef("", "audit: --format must be table, json or sarif"))
	}
	min, err := audit.ParseSeverity(failOn)
	if err != nil {
		return fail(s, usagef("", "audit: --fail-on must be error, warning or info"))
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	ctx, sigs, done := begin(s)
	defer done()
	rep, err := audit.Run(ctx, paths)
	if err != nil {
		if sig := sigs.received(); sig != 0 {
			return 128 + int(sig)
		}
		return fail(s, usagef("give files or directories of deployment files", "%v", err))
	}
	switch format {
	case "json":
		err = rep.WriteJSON(os.Stdout)
	case "sarif":
		err = rep.WriteSARIF(os.Stdout, version)
	default:
		err = rep.WriteTable(os.Stdout)
	}
	if err != nil {
		return fail(s, err)
	}
	if rep.Count(min) > 0 {
		return exitFindings
	}
	return 0
}
