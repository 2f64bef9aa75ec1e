package main

import (
	"errors"

	"github.com/n8n-secrets/n8n-secrets/internal/environ"
	"github.com/n8n-secrets/n8n-secrets/internal/failure"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
	"github.com/n8n-secrets/n8n-secrets/start"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/install"
	"github.com/n8n-secrets/n8n-secrets/internal/cmdline"
)

var installCommand = &command{
	name: "install", usage: "DIR",
	summary: "copy this binary into DIR/n8n-secrets (an init container's volume)",
	about: `Copies this binary into DIR as DIR/n8n-secrets (mode 0755, atomically),
for an image that does not contain it: the init container of a Kubernetes
pod copies it into a volume it shares with the n8n container, whose image
stays as published and runs the copy as its command:

  initContainers:
    - name: n8n-secrets
      image: <the scratch "binary" image of docker/Dockerfile>
      args: ["install", "/opt/n8n-secrets"]

It replaces only a copy of its own (a Go program of the n8n-secrets module):
a symbolic link, a directory or another program there is refused (exit 73),
and nothing is written. DIR itself must be a directory, not a link.`,
	args: pathArgs,
	setup: func() ([]*cmdline.Flag, runFunc) {
		return nil, func(s *settings.Settings, _ environ.Env, args []string, pos []int) error {
			return installCmd(s, args, pos)
		}
	},
}

// exitCantCreate is install's exit code when it refused or failed to write
// the copy (sysexits' EX_CANTCREAT).
const exitCantCreate = 73

// installCmd runs `n8n-secrets install DIR`: the work is package install's.
// It logs INSTALLED with the copy's path, size and SHA-256, under the
// settings' deadline.
func installCmd(s *settings.Settings, args []string, pos []int) error {
	const hint = "n8n-secrets install DIR"
	switch {
	case len(args) == 0:
		return settings.Usagef(hint, "install: no directory given")
	case len(args) > 1:
		return settings.Usagef(hint, "install: argument %d: install takes one directory", pos[1])
	}
	log := s.Logger()
	r := start.Begin(s.Timeout)
	defer r.Done()
	// A signal stops the copy, and the temporary file is removed.
	r.WatchSignals()
	res, err := inject.Call(r.Ctx, func() (install.Result, error) { return install.Install(r.Ctx, args[0], install.Options{}) })
	if err != nil {
		if err := r.Signaled(); err != nil {
			return err
		}
		code := install.CodeFailed
		if errors.Is(err, install.ErrRefused) {
			code = install.CodeRefused
		}
		f := failure.Logged(code)
		log.Error("install", "code", code, "error", err.Error(), "exit", failure.Exit(f))
		return f
	}
	if res.NoExec {
		log.Warn("the directory is on a noexec mount: the copy cannot be run from it", "code", install.CodeNoExec, "path", res.Path)
	}
	log.Info("installed", "code", install.CodeInstalled, "path", res.Path, "bytes", res.Size, "sha256", res.SHA256,
		"replaced", res.Replaced, "version", version)
	return nil
}
