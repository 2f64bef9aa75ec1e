package n8n

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
	CodeKeyMissing           = codes.New("N8N_KEY_MISSING", "error or warn", 78, "no `N8N_ENCRYPTION_KEY`: an error for a worker, a webhook processor or queue mode, a warning for a lone main")
	CodeKeyOnlyInSettings    = codes.New("N8N_KEY_ONLY_IN_SETTINGS", "error or warn", 78, "the key only in n8n's settings file: an error in a cluster")
	CodeKeyIsPath            = codes.New("N8N_KEY_IS_PATH", "error", 78, "the key holds a file path (n8n would take the path as the key): exit 78")
	CodeKeyIsReference       = codes.New("N8N_KEY_IS_REFERENCE", "error", 78, "the key holds an unresolved reference: exit 78")
	CodeKeyWhitespace        = codes.New("N8N_KEY_WHITESPACE", "error", 78, "white space around the key: exit 78")
	CodeKeyQuoted            = codes.New("N8N_KEY_QUOTED", "error or warn", 78, "quotes around the key")
	CodeKeyNotUTF8           = codes.New("N8N_KEY_NOT_UTF8", "error", 78, "the key is not valid UTF-8 (Node.js would change it): exit 78")
	CodeKeyWeak              = codes.New("N8N_KEY_WEAK", "warn", 0, "a key shorter than 16 characters")
	CodeFingerprintMismatch  = codes.New("N8N_KEY_FINGERPRINT_MISMATCH", "error", 78, "the key's fingerprint is not `N8N_SECRETS_EXPECT_KEY_FINGERPRINT`: exit 78")
	CodeSettingsKeyMismatch  = codes.New("N8N_SETTINGS_KEY_MISMATCH", "error", 78, "n8n's settings file holds another key (n8n: \"Mismatching encryption keys\"): exit 78")
	CodeSettingsInvalid      = codes.New("N8N_SETTINGS_INVALID", "error", 78, "n8n's settings file is not valid JSON: exit 78")
	CodeSettingsUnreadable   = codes.New("N8N_SETTINGS_UNREADABLE", "error", 78, "n8n's settings file cannot be read, or is not a regular file: exit 78")
	CodeSettingsReadable     = codes.New("N8N_SETTINGS_READABLE", "warn", 0, "n8n's settings file is readable by other users")
	CodeSettingsSyncPlanned  = codes.New("N8N_SETTINGS_SYNC_PLANNED", "info", 0, "with `N8N_SECRETS_N8N_SETTINGS=sync`, the settings file will be rewritten as the last step before exec (`check` never writes)")
	CodeSettingsSynced       = codes.New("N8N_SETTINGS_SYNCED", "info", 0, "the settings file was rewritten with the key: `path`, `old_fingerprint`, `n8n_key_fingerprint`")
	CodeSettingsSyncUnproved = codes.New("N8N_SETTINGS_SYNC_UNPROVED", "error", 78, "with `N8N_SECRETS_N8N_SETTINGS=sync`, the settings file holds another key, and `N8N_ENCRYPTION_KEY` was not proved against n8n's database (check off, database unreachable, no tables, nothing encrypted, a refused start): the file is kept, exit 78")
	CodeSettingsSyncFailed   = codes.New("N8N_SETTINGS_SYNC_FAILED", "error", 78, "the settings file could not be rewritten (left as it was): exit 78")
	CodeEnvAccessBlocked     = codes.New("N8N_ENV_ACCESS_BLOCKED", "info", 0, "`N8N_BLOCK_ENV_ACCESS_IN_NODE` was unset: set to `true` in the child")
	CodeEnvAccessAllowed     = codes.New("N8N_ENV_ACCESS_ALLOWED", "warn", 0, "workflow expressions and Code nodes can read injected secrets (`N8N_BLOCK_ENV_ACCESS_IN_NODE=false`, or an allow-list naming them)")
	CodeEnvAccessAmbiguous   = codes.New("N8N_ENV_ACCESS_AMBIGUOUS", "warn", 0, "`N8N_BLOCK_ENV_ACCESS_IN_NODE` is neither `true` nor `false`")
	CodeExecuteCommand       = codes.New("N8N_EXECUTE_COMMAND_ENABLED", "warn", 0, "workflows can use the Execute Command node, which reads the environment whatever `N8N_BLOCK_ENV_ACCESS_IN_NODE` says (`NODES_EXCLUDE` does not name it)")
)
