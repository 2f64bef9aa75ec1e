package rekey

import "github.com/n8n-secrets/n8n-secrets/internal/logcode"

// codes is the set of this package's log codes, in the order of the
// README's table of codes.
var codes logcode.Set

// Codes returns the log codes of this package, with their level, exit code
// and meaning, in the order they are declared: `n8n-secrets codes` and the
// README's tables of codes and exit codes are built from the packages' lists.
func Codes() []logcode.Code { return codes.Codes() }

// Log event codes of verify-key, rekey and the check before start: stable,
// for alerts to match. The commands (verifykey.go, rekey.go, guard.go) log
// them.
var (
	// CodeKeyDBMismatch: values in n8n's database do not decrypt with the
	// key (or, for rekey, with neither key).
	CodeKeyDBMismatch = codes.New("N8N_KEY_DB_MISMATCH", "error", 78, "values in n8n's database do not decrypt with the key (with neither key, for rekey): exit 78, n8n not started")
	// CodeKeyDBVerified: the key decrypts what was checked.
	CodeKeyDBVerified = codes.New("N8N_KEY_DB_VERIFIED", "info", 0, "the key decrypts what was checked (the check before start, verify-key)")
	// CodeDBUnreachable: n8n's database did not answer before the deadline.
	CodeDBUnreachable = codes.New("N8N_DB_UNREACHABLE", "error or warn", 69, "n8n's database did not answer: a warning before start under `N8N_SECRETS_VERIFY_KEY=auto`, exit 69 under `on` and for the key commands")
	// CodeDBAuth: n8n's database refused the credentials.
	CodeDBAuth = codes.New("N8N_DB_AUTH_FAILED", "error or warn", 77, "n8n's database refused the credentials: exit 77 for the key commands")
	// CodeDBSettings: n8n's database variables are invalid, or the SQLite
	// file does not exist.
	CodeDBSettings = codes.New("N8N_DB_SETTINGS", "error or warn", 64, "n8n's database variables (`DB_TYPE`, `DB_POSTGRESDB_*`, `DB_SQLITE_*`) are invalid, or the SQLite file does not exist")
	// CodeDBNoTables: the database the variables name holds no n8n
	// tables (another database, DB_TABLE_PREFIX or DB_POSTGRESDB_SCHEMA
	// than n8n's, or n8n never started on it): nothing was verified.
	CodeDBNoTables = codes.New("N8N_DB_NO_TABLES", "error or warn", 64, "the database the variables name holds none of n8n's tables (another database, schema or `DB_TABLE_PREFIX` than n8n's): nothing was verified, exit 64 for verify-key; before start a warning (an error under `on` for a worker or webhook processor)")
	// CodeDataKeyUnreadable: a data key of deployment_key that the key
	// does not unwrap, while the others unwrap: n8n 2.40 starts and warns
	// too; values under that data key cannot be read.
	CodeDataKeyUnreadable = codes.New("N8N_DATA_KEY_UNREADABLE", "warn", 0, "before start: a data key of `deployment_key` that the key does not unwrap while the others do (n8n 2.40 starts and warns too); values under it cannot be read: `verify-key` names them")
	// CodeDBHotJournal: an interrupted write left a hot rollback journal
	// beside a SQLite database; a read-only open cannot read until a
	// writer (n8n) rolls it back.
	CodeDBHotJournal = codes.New("N8N_DB_HOT_JOURNAL", "error or warn", 69, "a hot rollback journal beside the SQLite database (an interrupted write): read-only commands cannot read it until a writer (n8n) rolls it back: exit 69; a warning before start under `auto`")
	// CodeDBInUse: rekey refused because another process (n8n) holds the
	// database.
	CodeDBInUse = codes.New("N8N_DB_IN_USE", "error", 78, "rekey refused: another process (n8n) holds the database; stop every node first: exit 78")
	// CodeDBError: a query failed (schema or data not as n8n makes them).
	CodeDBError = codes.New("N8N_DB_ERROR", "error", 65, "a query on n8n's database failed (schema or data not as n8n makes them): exit 65")
	// CodeRekeyRefused: rekey cannot do what was asked on this database.
	CodeRekeyRefused = codes.New("N8N_REKEY_REFUSED", "error", 64, "rekey cannot do what was asked on this database (`--rewrap-only` on legacy values, the same key twice): exit 64")
	// CodeRekeyCheckFailed: re-encrypted values did not verify with the
	// new key; the transaction was rolled back.
	CodeRekeyCheckFailed = codes.New("N8N_REKEY_CHECK_FAILED", "error", 65, "re-encrypted values did not decrypt with the new key: the transaction was rolled back, nothing written")
	// CodeRekeyDone: rekey wrote and committed (info), or finished a dry run.
	CodeRekeyDone = codes.New("N8N_REKEY_DONE", "info", 0, "rekey committed (`--apply`) or finished a dry run: `changes`, `n8n_key_fingerprint` of the new key")
	// CodeKeyOnArgv: a literal key was given on the command line (refused).
	CodeKeyOnArgv = codes.New("N8N_KEY_ON_ARGV", "error", 0, "a literal key on the command line (readable in /proc) was refused: give a reference")
	// CodeRekeyed is a debug event per value re-encrypted (location, id).
	CodeRekeyed = codes.New("N8N_REKEY_VALUE", "debug", 0, "one value re-encrypted: location and row id, never the value")
	// CodeBatch is a debug event per batch of rows read.
	CodeBatch = codes.New("N8N_REKEY_BATCH", "debug", 0, "one batch of rows read by verify-key or rekey")
)
