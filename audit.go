package main

import (
	"errors"
	"os"

	"github.com/n8n-secrets/n8n-secrets/internal/environ"
	"github.com/n8n-secrets/n8n-secrets/internal/failure"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
	"github.com/n8n-secrets/n8n-secrets/start"

	"github.com/n8n-secrets/n8n-secrets/audit"
	"github.com/n8n-secrets/n8n-secrets/internal/cmdline"
)

// exitFindings is audit's exit code when it found something at or above
// the --fail-on severity (as linters do: 0 clean, 1 findings).
const exitFindings = 1

var auditCommand = &command{
	name: "audit", usage: "[--format table|json|sarif] [--fail-on error|warning|info] [PATH...]",
	summary: "check deployment files (Compose, Swarm, Kubernetes,\nDockerfiles, .env, Vault policies); exit 1 on findings",
	about: `Reads deployment files (Compose, Swarm stacks, Kubernetes manifests,
Dockerfiles, .env files, Vault policies) under each PATH (the current
directory by default) and reports what the checklist finds, each with a
stable code, the file, line and column, and a hint. Reads files only; exit 0
when clean, 1 on findings at or above --fail-on, 64 on a usage error.`,
	args: pathArgs,
	setup: func() ([]*cmdline.Flag, runFunc) {
		format, failOn := "table", "error"
		return []*cmdline.Flag{
				choiceFlag("format", "the report's format", &format, "table", "json", "sarif"),
				choiceFlag("fail-on", "the least severity that makes the exit code 1", &failOn, "error", "warning", "info"),
			}, func(s *settings.Settings, _ environ.Env, paths []string, pos []int) error {
				return auditCmd(s, format, failOn, paths, pos)
			}
	},
}

// auditCmd runs the checks of package audit over deployment files (the
// current directory by default) and prints them on stdout. It reads files
// only, under the settings' deadline, and writes nothing.
func auditCmd(s *settings.Settings, format, failOn string, paths []string, pos []int) error {
	min, err := audit.ParseSeverity(failOn)
	if err != nil {
		return settings.Usagef("", "audit: --fail-on must be error, warning or info")
	}
	// A path that does not exist may be anything pasted in the wrong
	// place: it is named by its position, never repeated.
	for i, p := range paths {
		if _, err := os.Lstat(p); err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return settings.Usagef("give files or directories of deployment files", "audit: argument %d: %v", pos[i], err)
		}
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	r := start.Begin(s.Timeout)
	defer r.Done()
	rep, err := audit.Run(r.Ctx, stores, paths)
	if err != nil {
		if err := r.Signaled(); err != nil {
			return err
		}
		return settings.Usagef("give files or directories of deployment files", "%v", err)
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
		return err
	}
	if rep.Count(min) > 0 {
		return failure.Status(exitFindings)
	}
	return nil
}
