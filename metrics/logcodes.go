package metrics

import "github.com/n8n-secrets/n8n-secrets/internal/logcode"

// Codes lists the log codes of this package, with their level, exit code
// and meaning: `n8n-secrets codes` and the README's tables of codes and exit
// codes are built from the packages' lists.
var Codes = []logcode.Code{
	{Name: CodeListening, Level: "info", Meaning: "the metrics endpoint (`N8N_SECRETS_METRICS_ADDR`) listens: `addr`, `path`"},
	{Name: CodeServeFailed, Level: "warn", Meaning: "the metrics endpoint stopped serving; the command runs on without it"},
}
