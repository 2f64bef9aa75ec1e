package inject

import "github.com/n8n-secrets/n8n-secrets/internal/logcode"

// Codes lists the log codes of this package, with their level, exit code
// and meaning: `n8n-secrets codes` and the README's tables of codes and exit
// codes are built from the packages' lists.
var Codes = []logcode.Code{
	{Name: CodeRetrying, Level: "warn", Meaning: "a transient fault is retried; `cause` is its code (`PROVIDER_UNAVAILABLE`), `attempt` its number"},
	{Name: string(CodeBadReference), Level: "error", Exit: 65, Meaning: "a malformed reference, or a value one typo away from one (`vualt://`): exit 65"},
	{Name: string(CodeSecretNotFound), Level: "error", Exit: 65, Meaning: "the secret, version or file does not exist: exit 65"},
	{Name: string(CodeKeyNotFound), Level: "error", Exit: 65, Meaning: "the selected key or JSON pointer does not exist (or is JSON `null`): exit 65"},
	{Name: string(CodeBadData), Level: "error", Exit: 65, Meaning: "the value cannot be used: a NUL byte, not JSON for a selector, a directory, a loop of links: exit 65"},
	{Name: string(CodeTooLarge), Level: "error", Exit: 65, Meaning: "a value larger than Linux passes in an environment variable (128 KiB), or an environment too large in all: exit 65"},
	{Name: string(CodeConflict), Level: "error", Exit: 65, Meaning: "`NAME` and `NAME_FILE` both set: exit 65"},
	{Name: string(CodePermissionDenied), Level: "error", Exit: 77, Meaning: "the store refused access to the secret: exit 77"},
	{Name: string(CodeAuthFailed), Level: "error", Exit: 77, Meaning: "logging in to the store failed, or its credentials were refused: exit 77"},
	{Name: string(CodeProviderUnavailable), Level: "error", Exit: 69, Meaning: "the store did not answer before the deadline (network errors, 5xx, 429, sealed): exit 69"},
	{Name: string(CodeProviderError), Level: "error", Exit: 65, Meaning: "the store refused the request for another reason (a 4xx that says nothing more): exit 65"},
	{Name: string(CodeNotConfigured), Level: "error", Exit: 64, Meaning: "the store is not configured, or its settings are wrong (no address, `http://` refused, an untrusted certificate): exit 64"},
	{Name: string(CodeUsage), Level: "error", Exit: 64, Meaning: "a usage or settings error: exit 64"},
	{Name: string(CodeCanceled), Level: "error", Exit: logcode.ExitSignal, Meaning: "SIGTERM or SIGINT stopped the start: exit 143 or 130"},
}
