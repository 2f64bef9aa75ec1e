package metrics

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
	// CodeListening: the metrics endpoint listens (`addr`, the address bound, its port chosen when 0 was asked).
	CodeListening = codes.New("METRICS_LISTENING", "info", 0, "the metrics endpoint (`N8N_SECRETS_METRICS_ADDR`) listens: `addr`, `path`")
	// CodeServeFailed: the metrics endpoint stopped serving; the command runs on without it.
	CodeServeFailed = codes.New("METRICS_SERVE_FAILED", "warn", 0, "the metrics endpoint stopped serving; the command runs on without it")
)
