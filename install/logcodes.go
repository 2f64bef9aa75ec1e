package install

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
	// CodeInstalled: the binary was copied (info)
	CodeInstalled = codes.New("INSTALLED", "info", 0, "`install DIR` copied the binary: `path`, `bytes`, `sha256`, `replaced`, `version`")
	// CodeRefused: the target is not ours, or the directory is not one (error)
	CodeRefused = codes.New("INSTALL_REFUSED", "error", 73, "`install DIR` refused: DIR is not a directory (or is a link), or what is there is not a copy of n8n-secrets: exit 73, nothing written")
	// CodeFailed: reading the binary or writing the copy failed (error)
	CodeFailed = codes.New("INSTALL_FAILED", "error", 73, "`install DIR` could not read the binary or write the copy: exit 73, nothing left behind")
	// CodeNoExec: the directory is on a noexec mount (warn)
	CodeNoExec = codes.New("INSTALL_DIR_NOEXEC", "warn", 0, "`install DIR`: DIR is on a noexec mount, so the copy cannot be run from it")
)
