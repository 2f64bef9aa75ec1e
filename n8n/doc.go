// Package n8n is the guard that checks n8n's encryption-key invariants in
// the environment n8n is about to be started with, before it starts.
//
// n8n keeps one N8N_ENCRYPTION_KEY per cluster: every main, worker and
// webhook process must use the same one, or credentials written by one
// process cannot be read by another. Check looks for the ways this breaks:
// a missing key (a worker refuses to start, a webhook processor silently
// generates its own), a key that holds a file path or an unresolved
// reference, whitespace or quotes around the key, a settings file
// (<N8N_USER_FOLDER or HOME>/.n8n/config) that holds a different key,
// a fingerprint other than the one the operator expects, and secrets that
// workflow code could read from the environment.
//
// The package knows n8n, not secret stores: it never imports the project's
// inject package. main.go resolves the references, passes the child's
// environment (values already resolved) to Check, applies Report.SetEnv,
// logs the findings and refuses to exec when Report.Failed.
//
// Secret values never leave this package: findings, hints, errors and the
// Report's fields carry fingerprints (see Fingerprint), file paths, variable
// names and counts, never a key.
//
// What the checks rely on was read in n8n's own source (n8n-io/n8n):
//
//   - packages/core/src/instance-settings/instance-settings.ts: the
//     settings file is path.join(n8nFolder, "config"), parsed with JSON.parse;
//     a key in the environment that differs from the file's encryptionKey
//     (compared with !==, no trimming) stops n8n with "Mismatching encryption
//     keys"; with no key in the environment n8n silently uses the file's key;
//     with neither, a worker throws WorkerMissingEncryptionKey and any other
//     process (main, webhook, CLI commands) generates
//     randomBytes(24).toString("base64") and writes it with
//     JSON.stringify(settings, null, "\t") (mode 0600 only when
//     N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS is on). The instance type is
//     "worker" or "webhook" when process.argv[2] is that word, else "main".
//     Versions that read process.env.N8N_ENCRYPTION_KEY directly use a set but
//     empty variable as the key itself ("" ?? random is ""); later versions
//     treat it as missing.
//   - packages/@n8n/config/src/utils/utils.ts (getN8nFolder) and
//     configs/instance-settings-config.ts: the n8n folder is
//     path.join(N8N_USER_FOLDER ?? HOME ?? cwd, ".n8n"), with ?? so that a
//     set but empty N8N_USER_FOLDER means the current directory.
//   - packages/@n8n/config/src/decorators.ts: NAME_FILE is read with
//     readFileSync and not trimmed, so a trailing newline becomes part of the
//     key.
//   - packages/workflow/src/workflow-data-proxy-env-provider.ts: n8n 1.x
//     blocks $env only when N8N_BLOCK_ENV_ACCESS_IN_NODE === "true"; 2.x
//     blocks it unless the value is exactly "false"; newer versions expose
//     exactly the names in N8N_ENV_ACCESS_ALLOWLIST when it is set.
//   - packages/@n8n/config/src/configs/executions.config.ts (EXECUTIONS_MODE
//     "regular" or "queue") and multi-main-setup.config.ts
//     (N8N_MULTI_MAIN_SETUP_ENABLED, parsed as "true"/"1").
//   - docker/images/n8n/docker-entrypoint.sh: the image's entrypoint runs
//     n8n "$@" (older images: su-exec node "$@", the whole command).
package n8n
