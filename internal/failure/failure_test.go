package failure_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/failure"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
)

// TestOf: an error that is no Failure becomes one from its code, not
// logged yet, keeping the error; a Failure is itself.
func TestOf(t *testing.T) {
	err := fmt.Errorf("vault: secret/x: %w", inject.ErrPermission)
	f := failure.Of(err)
	if f.Logged || f.Err != err || len(f.Codes) != 1 || f.Codes[0] != inject.CodePermissionDenied || f.Exit() != 77 {
		t.Errorf("Of(permission) = %+v, exit %d", f, f.Exit())
	}
	logged := failure.Logged(inject.CodeSecretNotFound)
	if got := failure.Of(fmt.Errorf("wrapped: %w", logged)); got != failure.As(logged) || !got.Logged {
		t.Error("a wrapped Failure is not found")
	}
	u := settings.Usagef("the hint", "N8N_SECRETS_TIMEOUT: not a duration")
	if f := failure.Of(u); f.Codes[0] != inject.CodeUsage || f.Exit() != 64 || failure.HintOf(u) != "the hint" {
		t.Errorf("a usage error: %+v, hint %q", f, failure.HintOf(u))
	}
	if failure.HintOf(errors.New("x")) != "" {
		t.Error("a hint where there is none")
	}
}

// TestStatusAndSignal: a command's own status passes as it is; a signal
// wins over the codes; nil is 0.
func TestStatusAndSignal(t *testing.T) {
	if failure.Status(0) != nil || failure.Exit(nil) != 0 {
		t.Error("status 0 or nil is a failure")
	}
	if got := failure.Exit(failure.Status(75)); got != 75 {
		t.Errorf("status 75: exit %d", got)
	}
	f := &failure.Failure{Codes: []inject.Code{inject.CodeUsage}, Signal: syscall.SIGTERM}
	if f.Exit() != 143 || f.Error() != "stopped by terminated" {
		t.Errorf("signal: exit %d, %q", f.Exit(), f.Error())
	}
	if got := (&failure.Failure{}).Exit(); got != 65 {
		t.Errorf("a failure without a code: exit %d, want 65 (fail closed)", got)
	}
}

// TestTypedNilFailureFailsClosed: a nil *Failure returned as an error (a
// non-nil interface) is a command that says it failed without saying why:
// it exits 65 and reports itself, never 0 (fail open) and never a panic
// (a stack trace instead of the exit path's one line).
func TestTypedNilFailureFailsClosed(t *testing.T) {
	var f *failure.Failure
	var err error = f
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("a nil *Failure as an error panics: %v", r)
		}
	}()
	if code := failure.Exit(err); code != 65 {
		t.Errorf("exit %d, want 65", code)
	}
	g := failure.Of(err)
	if g == nil || g.Logged || g.Err != err {
		t.Errorf("Of = %+v: want a failure to report, not logged, keeping the error", g)
	}
	if msg := err.Error(); msg == "" {
		t.Error("no message to report")
	}
	// What the exit path asks of it to report it.
	_, _ = inject.CodeOf(err), failure.HintOf(err)
	if errors.Is(err, inject.ErrPermission) {
		t.Error("a nil *Failure wraps something")
	}
}
