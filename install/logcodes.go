package install

import "github.com/n8n-secrets/n8n-secrets/internal/logcode"

// Codes lists the log codes of this package, with their level, exit code
// and meaning: `n8n-secrets codes` and the README's tables of codes and exit
// codes are built from the packages' lists.
var Codes = []logcode.Code{
	{Name: CodeInstalled, Level: "info", Meaning: "`install DIR` copied the binary: `path`, `bytes`, `sha256`, `replaced`, `version`"},
	{Name: CodeRefused, Level: "error", Exit: 73, Meaning: "`install DIR` refused: DIR is not a directory (or is a link), or what is there is not a copy of n8n-secrets: exit 73, nothing written"},
	{Name: CodeFailed, Level: "error", Exit: 73, Meaning: "`install DIR` could not read the binary or write the copy: exit 73, nothing left behind"},
	{Name: CodeNoExec, Level: "warn", Meaning: "`install DIR`: DIR is on a noexec mount, so the copy cannot be run from it"},
}
