package inject

import (
	"context"
	"errors"
	"fmt"

	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
)

// Sentinel errors that providers wrap to classify a failure. The resolver
// maps them to a [Code] and an exit code; an error that wraps none of them is
// a permanent provider failure (PROVIDER_ERROR).
var (
	// ErrNotFound: the secret, or the version asked for, does not exist.
	ErrNotFound = errors.New("secret not found")
	// ErrKeyNotFound: the secret exists but the selected key or pointer does not.
	ErrKeyNotFound = errors.New("key not found")
	// ErrPermission: the store refused access to this secret.
	ErrPermission = errors.New("permission denied")
	// ErrAuth: logging in to the store failed, or the credentials were rejected.
	ErrAuth = errors.New("authentication failed")
	// ErrUnavailable: a transient fault (connection refused, 5xx, 429,
	// sealed, throttled) that is worth retrying until the deadline.
	ErrUnavailable = errors.New("provider unavailable")
	// ErrBadData: the value cannot be used (not JSON for a selector, a NUL
	// byte, a value of the wrong type).
	ErrBadData = errors.New("bad data")
	// ErrBadReference: the reference itself is malformed.
	ErrBadReference = errors.New("bad reference")
	// ErrNotConfigured: no provider is configured for the reference's scheme.
	ErrNotConfigured = errors.New("provider not configured")
	// ErrSoftDeleted: the secret, or its current version, is deleted but
	// can still be restored (a KV v2 version deleted and not destroyed, an
	// AWS secret scheduled for deletion). Providers wrap it together with
	// ErrNotFound: at start it is a missing secret; supervise mode keeps
	// the last good value instead of removing an optional variable (see
	// Resolver.KeepSoftDeleted).
	ErrSoftDeleted = errors.New("deleted, still recoverable")
)

// Code is a stable identifier of a failure, carried by every error event so
// that an alert can match it: a logcode.Code, declared with its level, exit
// code and meaning in a package's list (this package's in logcodes.go).
type Code = logcode.Code

// Exit codes before exec (after exec the code is the child's).
const (
	ExitUsage       = 64 // usage or settings error
	ExitData        = 65 // bad reference, missing secret or key, bad data
	ExitUnavailable = 69 // a provider unreachable until the deadline
	ExitNoPerm      = 77 // authentication failed or permission denied
	ExitConfig      = 78 // the n8n guard refused to start
	ExitNotExec     = 126
	ExitNotFound    = 127
)

// CodeOf classifies err by the sentinel it wraps.
func CodeOf(err error) Code {
	var ve *VarError
	switch {
	case err == nil:
		return Code{}
	case errors.As(err, &ve):
		return ve.Code
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	case errors.Is(err, ErrBadReference):
		return CodeBadReference
	case errors.Is(err, ErrNotConfigured):
		return CodeNotConfigured
	case errors.Is(err, ErrNotFound):
		return CodeSecretNotFound
	case errors.Is(err, ErrKeyNotFound):
		return CodeKeyNotFound
	case errors.Is(err, ErrPermission):
		return CodePermissionDenied
	case errors.Is(err, ErrAuth):
		return CodeAuthFailed
	case errors.Is(err, ErrBadData):
		return CodeBadData
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return CodeProviderUnavailable
	default:
		return CodeProviderError
	}
}

// VarError is a failure to resolve one variable. Its message starts with the
// variable's name; it never contains a secret value.
type VarError struct {
	Var  string // the variable, e.g. N8N_ENCRYPTION_KEY
	Code Code
	Err  error
}

func (e *VarError) Error() string { return e.Var + ": " + e.Err.Error() }

func (e *VarError) Unwrap() error { return e.Err }

// varErr wraps err for variable name, classifying it.
func varErr(name string, err error) *VarError {
	return &VarError{Var: name, Code: CodeOf(err), Err: err}
}

// badRef returns an ErrBadReference-wrapping error with a formatted reason.
func badRef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadReference}, args...)...)
}

// ExitCodeOf returns the exit code for a set of failures, by their codes
// (logcode.ExitOf, the one mapping): the most pressing one wins, in the
// order usage (64), permission (77), unavailable (69), data (65). This
// keeps an operator's first look on what blocks everything.
func ExitCodeOf(errs []error) int {
	codes := make([]Code, 0, len(errs))
	for _, err := range errs {
		codes = append(codes, CodeOf(err))
	}
	return logcode.ExitOf(codes...)
}

// WithHint returns err carrying hint: advice to the operator on what to do
// about this particular failure, which is shown instead of the generic hint
// of its code. A hint, like an error, never holds a secret value.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hintError{err: err, hint: hint}
}

// HintOf returns the hint that err carries (the outermost one), or "".
func HintOf(err error) string {
	var h *hintError
	if errors.As(err, &h) {
		return h.hint
	}
	return ""
}

type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }

func (e *hintError) Unwrap() error { return e.err }
