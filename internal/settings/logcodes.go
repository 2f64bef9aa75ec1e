package settings

import "github.com/n8n-secrets/n8n-secrets/internal/logcode"

// codes are the log codes of this package's events.
var codes logcode.Set

// Codes lists the log codes of this package, in the order they were
// declared.
func Codes() []logcode.Code { return codes.Codes() }

// CodeEnvFileVarUnset: a .env file interpolates a variable that is not
// set: it is taken as empty, as Compose does.
var CodeEnvFileVarUnset = codes.New("ENV_FILE_VAR_UNSET", "warn", 0, "a `--env-file` file interpolates a variable that is not set: taken as empty, as Compose does; `file`, `line`, `var`")
