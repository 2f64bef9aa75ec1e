package main

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/failure"
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
	"github.com/n8n-secrets/n8n-secrets/n8n/rekey"
	"github.com/n8n-secrets/n8n-secrets/n8n/store"
)

// TestExitOf: the one mapping from what stopped a command to its exit
// code (failure.Exit, through the exit path) gives the exits the README's
// table documents, as the separate mappings it replaced did (inject's
// Code.ExitCode and ExitCodeOf, the key commands' dbExit, the guard's
// 78-or-69, 128+signal).
func TestExitOf(t *testing.T) {
	code := func(name string) logcode.Code {
		c, ok := logcode.Index(codeTable())[name]
		if !ok {
			t.Fatalf("no code %s", name)
		}
		return c
	}
	codes := func(names ...string) []logcode.Code {
		var cs []logcode.Code
		for _, n := range names {
			cs = append(cs, code(n))
		}
		return cs
	}
	cases := []struct {
		name  string
		sig   syscall.Signal
		guard bool
		codes []string
		want  int
	}{
		{"SIGTERM wins over any failure", syscall.SIGTERM, false, []string{"USAGE"}, 143},
		{"SIGINT", syscall.SIGINT, false, nil, 130},
		{"CANCELED without a signal", 0, false, []string{"CANCELED"}, 130},
		{"usage before permission", 0, false, []string{"PERMISSION_DENIED", "USAGE"}, 64},
		{"permission before unavailable", 0, false, []string{"PROVIDER_UNAVAILABLE", "AUTH_FAILED", "SECRET_NOT_FOUND"}, 77},
		{"unavailable before data", 0, false, []string{"SECRET_NOT_FOUND", "PROVIDER_UNAVAILABLE"}, 69},
		{"not configured", 0, false, []string{"PROVIDER_NOT_CONFIGURED"}, 64},
		{"provider error is data", 0, false, []string{"PROVIDER_ERROR"}, 65},
		{"a code that declares no exit", 0, false, []string{"RETRYING"}, 65},
		{"command not found", 0, false, []string{"COMMAND_NOT_FOUND"}, 127},
		{"command not executable", 0, false, []string{"COMMAND_NOT_EXECUTABLE"}, 126},
		{"command lookup timed out", 0, false, []string{"COMMAND_LOOKUP_TIMEOUT"}, 69},
		{"install refused", 0, false, []string{"INSTALL_REFUSED"}, 73},
		{"the guard refuses", 0, true, []string{"N8N_KEY_MISSING"}, 78},
		{"the guard refuses, no code", 0, true, nil, 78},
		{"the guard: the database alone did not answer", 0, true, []string{rekey.CodeDBUnreachable.Name()}, 69},
		{"the guard: a hot journal alone", 0, true, []string{rekey.CodeDBHotJournal.Name()}, 69},
		{"the guard: the database and the key", 0, true, []string{"N8N_KEY_WEAK", rekey.CodeDBUnreachable.Name()}, 78},
		{"the guard: no tables", 0, true, []string{rekey.CodeDBNoTables.Name()}, 78},
		{"the guard: the database refused the login", 0, true, []string{rekey.CodeDBAuth.Name()}, 78},
		{"the settings file not rewritten", 0, false, []string{"N8N_SETTINGS_SYNC_FAILED"}, 78},
	}
	for _, tc := range cases {
		f := &failure.Failure{Signal: tc.sig, Refused: tc.guard, Codes: codes(tc.codes...), Logged: true}
		if got := exit(nil, f); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
	if got := exit(nil, nil); got != 0 {
		t.Errorf("nothing failed: exit %d", got)
	}
	if got := exit(nil, failure.Status(75)); got != 75 {
		t.Errorf("a command's own status: exit %d, want 75", got)
	}
	// The key commands' failures (packages store and rekey), by the code
	// rekey.CodeOf gives them.
	for _, tc := range []struct {
		err  error
		want int
	}{
		{rekey.ErrMismatch, 78}, {store.ErrHeld, 78},
		{store.ErrUnavailable, 69}, {store.ErrInterrupted, 69},
		{store.ErrAuth, 77},
		{store.ErrConfig, 64}, {rekey.ErrRefused, 64}, {rekey.ErrNoTables, 64},
		{rekey.ErrCheckFailed, 65}, {errors.New("a query failed"), 65},
	} {
		err := fmt.Errorf("at a place: %w", tc.err)
		if got := failure.Exit(failure.Logged(rekey.CodeOf(err))); got != tc.want {
			t.Errorf("%v (%s): exit %d, want %d", tc.err, rekey.CodeOf(err), got, tc.want)
		}
	}
	// An error not made a failure: classified by the core (inject.CodeOf),
	// or by its own code (a usage error).
	for _, tc := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("x: %w", inject.ErrNotFound), 65},
		{fmt.Errorf("x: %w", inject.ErrPermission), 77},
		{fmt.Errorf("x: %w", inject.ErrUnavailable), 69},
		{settings.Usagef("", "a usage error"), 64},
	} {
		if got := failure.Exit(tc.err); got != tc.want {
			t.Errorf("%v: exit %d, want %d", tc.err, got, tc.want)
		}
	}
}
