package inject

import "github.com/n8n-secrets/n8n-secrets/internal/logcode"

// codes is the set of this package's log codes, in the order of the
// README's table of codes.
var codes logcode.Set

// Codes returns the log codes of this package, with their level, exit code
// and meaning, in the order they are declared: `n8n-secrets codes` and the
// README's tables of codes and exit codes are built from the packages' lists.
func Codes() []logcode.Code { return codes.Codes() }

// The log codes of this package.
var (
	// CodeRetrying is the code of the resolver's warning that a transient fault
	// is retried; the event's "cause" is the fault's own code. It is not a
	// failure: a rule alerting on failures matches the codes below.
	CodeRetrying = codes.New("RETRYING", "warn", 0, "a transient fault is retried; `cause` is its code (`PROVIDER_UNAVAILABLE`), `attempt` its number")
	// The codes of failures the core classifies (CodeOf); other packages
	// (the n8n guard) add their own.
	CodeBadReference        = codes.New("BAD_REFERENCE", "error", 65, "a malformed reference, or a value one typo away from one (`vualt://`): exit 65")
	CodeSecretNotFound      = codes.New("SECRET_NOT_FOUND", "error", 65, "the secret, version or file does not exist: exit 65")
	CodeKeyNotFound         = codes.New("KEY_NOT_FOUND", "error", 65, "the selected key or JSON pointer does not exist (or is JSON `null`): exit 65")
	CodeBadData             = codes.New("BAD_DATA", "error", 65, "the value cannot be used: a NUL byte, not JSON for a selector, a directory, a loop of links: exit 65")
	CodeTooLarge            = codes.New("VALUE_TOO_LARGE", "error", 65, "a value larger than Linux passes in an environment variable (128 KiB), or an environment too large in all: exit 65")
	CodeConflict            = codes.New("VARIABLE_CONFLICT", "error", 65, "`NAME` and `NAME_FILE` both set: exit 65")
	CodePermissionDenied    = codes.New("PERMISSION_DENIED", "error", 77, "the store refused access to the secret: exit 77")
	CodeAuthFailed          = codes.New("AUTH_FAILED", "error", 77, "logging in to the store failed, or its credentials were refused: exit 77")
	CodeProviderUnavailable = codes.New("PROVIDER_UNAVAILABLE", "error", 69, "the store did not answer before the deadline (network errors, 5xx, 429, sealed): exit 69")
	CodeProviderError       = codes.New("PROVIDER_ERROR", "error", 65, "the store refused the request for another reason (a 4xx that says nothing more): exit 65")
	CodeNotConfigured       = codes.New("PROVIDER_NOT_CONFIGURED", "error", 64, "the store is not configured, or its settings are wrong (no address, `http://` refused, an untrusted certificate): exit 64")
	CodeUsage               = codes.New("USAGE", "error", 64, "a usage or settings error: exit 64")
	CodeCanceled            = codes.New("CANCELED", "error", logcode.ExitSignal, "SIGTERM or SIGINT stopped the start: exit 143 or 130")
)
