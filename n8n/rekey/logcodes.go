package rekey

import "github.com/n8n-secrets/n8n-secrets/internal/logcode"

// Codes lists the log codes of this package, with their level, exit code
// and meaning: `n8n-secrets codes` and the README's tables of codes and exit
// codes are built from the packages' lists.
var Codes = []logcode.Code{
	{Name: CodeKeyDBMismatch, Level: "error", Exit: 78, Meaning: "values in n8n's database do not decrypt with the key (with neither key, for rekey): exit 78, n8n not started"},
	{Name: CodeKeyDBVerified, Level: "info", Meaning: "the key decrypts what was checked (the check before start, verify-key)"},
	{Name: CodeDBUnreachable, Level: "error or warn", Exit: 69, Meaning: "n8n's database did not answer: a warning before start under `N8N_SECRETS_VERIFY_KEY=auto`, exit 69 under `on` and for the key commands"},
	{Name: CodeDBAuth, Level: "error or warn", Exit: 77, Meaning: "n8n's database refused the credentials: exit 77 for the key commands"},
	{Name: CodeDBSettings, Level: "error or warn", Exit: 64, Meaning: "n8n's database variables (`DB_TYPE`, `DB_POSTGRESDB_*`, `DB_SQLITE_*`) are invalid, or the SQLite file does not exist"},
	{Name: CodeDBNoTables, Level: "error or warn", Exit: 64, Meaning: "the database the variables name holds none of n8n's tables (another database, schema or `DB_TABLE_PREFIX` than n8n's): nothing was verified, exit 64 for verify-key; before start a warning (an error under `on` for a worker or webhook processor)"},
	{Name: CodeDataKeyUnreadable, Level: "warn", Meaning: "before start: a data key of `deployment_key` that the key does not unwrap while the others do (n8n 2.40 starts and warns too); values under it cannot be read: `verify-key` names them"},
	{Name: CodeDBHotJournal, Level: "error or warn", Exit: 69, Meaning: "a hot rollback journal beside the SQLite database (an interrupted write): read-only commands cannot read it until a writer (n8n) rolls it back: exit 69; a warning before start under `auto`"},
	{Name: CodeDBInUse, Level: "error", Exit: 78, Meaning: "rekey refused: another process (n8n) holds the database; stop every node first: exit 78"},
	{Name: CodeDBError, Level: "error", Exit: 65, Meaning: "a query on n8n's database failed (schema or data not as n8n makes them): exit 65"},
	{Name: CodeRekeyRefused, Level: "error", Exit: 64, Meaning: "rekey cannot do what was asked on this database (`--rewrap-only` on legacy values, the same key twice): exit 64"},
	{Name: CodeRekeyCheckFailed, Level: "error", Exit: 65, Meaning: "re-encrypted values did not decrypt with the new key: the transaction was rolled back, nothing written"},
	{Name: CodeRekeyDone, Level: "info", Meaning: "rekey committed (`--apply`) or finished a dry run: `changes`, `n8n_key_fingerprint` of the new key"},
	{Name: CodeKeyOnArgv, Level: "error", Meaning: "a literal key on the command line (readable in /proc) was refused: give a reference"},
	{Name: CodeRekeyed, Level: "debug", Meaning: "one value re-encrypted: location and row id, never the value"},
	{Name: CodeBatch, Level: "debug", Meaning: "one batch of rows read by verify-key or rekey"},
}
