package n8n

import "github.com/n8n-secrets/n8n-secrets/internal/logcode"

// Codes lists the log codes of this package, with their level, exit code
// and meaning: `n8n-secrets codes` and the README's tables of codes and exit
// codes are built from the packages' lists.
var Codes = []logcode.Code{
	{Name: CodeKeyMissing, Level: "error or warn", Exit: 78, Meaning: "no `N8N_ENCRYPTION_KEY`: an error for a worker, a webhook processor or queue mode, a warning for a lone main"},
	{Name: CodeKeyOnlyInSettings, Level: "error or warn", Exit: 78, Meaning: "the key only in n8n's settings file: an error in a cluster"},
	{Name: CodeKeyIsPath, Level: "error", Exit: 78, Meaning: "the key holds a file path (n8n would take the path as the key): exit 78"},
	{Name: CodeKeyIsReference, Level: "error", Exit: 78, Meaning: "the key holds an unresolved reference: exit 78"},
	{Name: CodeKeyWhitespace, Level: "error", Exit: 78, Meaning: "white space around the key: exit 78"},
	{Name: CodeKeyQuoted, Level: "error or warn", Exit: 78, Meaning: "quotes around the key"},
	{Name: CodeKeyNotUTF8, Level: "error", Exit: 78, Meaning: "the key is not valid UTF-8 (Node.js would change it): exit 78"},
	{Name: CodeKeyWeak, Level: "warn", Meaning: "a key shorter than 16 characters"},
	{Name: CodeFingerprintMismatch, Level: "error", Exit: 78, Meaning: "the key's fingerprint is not `N8N_SECRETS_EXPECT_KEY_FINGERPRINT`: exit 78"},
	{Name: CodeSettingsKeyMismatch, Level: "error", Exit: 78, Meaning: "n8n's settings file holds another key (n8n: \"Mismatching encryption keys\"): exit 78"},
	{Name: CodeSettingsInvalid, Level: "error", Exit: 78, Meaning: "n8n's settings file is not valid JSON: exit 78"},
	{Name: CodeSettingsUnreadable, Level: "error", Exit: 78, Meaning: "n8n's settings file cannot be read, or is not a regular file: exit 78"},
	{Name: CodeSettingsReadable, Level: "warn", Meaning: "n8n's settings file is readable by other users"},
	{Name: CodeSettingsSyncPlanned, Level: "info", Meaning: "with `N8N_SECRETS_N8N_SETTINGS=sync`, the settings file will be rewritten as the last step before exec (`check` never writes)"},
	{Name: CodeSettingsSynced, Level: "info", Meaning: "the settings file was rewritten with the key: `path`, `old_fingerprint`, `n8n_key_fingerprint`"},
	{Name: CodeSettingsSyncUnproved, Level: "error", Exit: 78, Meaning: "with `N8N_SECRETS_N8N_SETTINGS=sync`, the settings file holds another key, and `N8N_ENCRYPTION_KEY` was not proved against n8n's database (check off, database unreachable, no tables, nothing encrypted, a refused start): the file is kept, exit 78"},
	{Name: CodeSettingsSyncFailed, Level: "error", Exit: 78, Meaning: "the settings file could not be rewritten (left as it was): exit 78"},
	{Name: CodeEnvAccessBlocked, Level: "info", Meaning: "`N8N_BLOCK_ENV_ACCESS_IN_NODE` was unset: set to `true` in the child"},
	{Name: CodeEnvAccessAllowed, Level: "warn", Meaning: "workflow expressions and Code nodes can read injected secrets (`N8N_BLOCK_ENV_ACCESS_IN_NODE=false`, or an allow-list naming them)"},
	{Name: CodeEnvAccessAmbiguous, Level: "warn", Meaning: "`N8N_BLOCK_ENV_ACCESS_IN_NODE` is neither `true` nor `false`"},
	{Name: CodeExecuteCommand, Level: "warn", Meaning: "workflows can use the Execute Command node, which reads the environment whatever `N8N_BLOCK_ENV_ACCESS_IN_NODE` says (`NODES_EXCLUDE` does not name it)"},
}
