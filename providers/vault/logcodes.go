package vault

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
	// CodeLogin: the provider logged in with its auth method (info).
	CodeLogin = codes.New("VAULT_LOGIN", "info", 0, "logged in to Vault (AppRole, JWT, Kubernetes): `method`, `mount`, `ttl_s`")
	// CodeTokenRevoked: the token obtained by logging in was revoked before exec (info).
	CodeTokenRevoked = codes.New("VAULT_TOKEN_REVOKED", "info", 0, "the login token was revoked before exec")
	// CodeTokenKept: the login token was not revoked, because leased secrets were read with it (warning).
	CodeTokenKept = codes.New("VAULT_TOKEN_KEPT", "warn", 0, "the login token was kept (dynamic secrets were read with it, and die with it): it expires with its TTL")
	// CodeMount: the mount holding a path was looked up (debug).
	CodeMount = codes.New("VAULT_MOUNT", "debug", 0, "what is mounted where a path is read (KV v1 or v2, another engine)")
	// CodeResponseWarning: Vault's answer to a read carried warnings, logged as they are (warning).
	CodeResponseWarning = codes.New("VAULT_RESPONSE_WARNING", "warn", 0, "Vault's answer to a read carried warnings, logged as Vault wrote them")
	// CodeEnvIgnored: a VAULT_* variable that Vault's client library would act on is set, and has no effect (warning).
	CodeEnvIgnored = codes.New("VAULT_ENV_IGNORED", "warn", 0, "a `VAULT_*` variable Vault's client library would act on is set, and has no effect here (the README's Vault section lists each)")
	// CodeTLSVerifyOff: VAULT_SKIP_VERIFY turns the server's certificate check off (warning).
	CodeTLSVerifyOff = codes.New("VAULT_TLS_VERIFY_OFF", "warn", 0, "`VAULT_SKIP_VERIFY` turns the check of Vault's certificate off")
	// CodeTokenRoot: the token holds the root policy and can do anything.
	CodeTokenRoot = codes.New("VAULT_TOKEN_ROOT", "check", 0, "the Vault token holds the root policy")
	// CodeTokenNoExpiry: the token never expires.
	CodeTokenNoExpiry = codes.New("VAULT_TOKEN_NO_EXPIRY", "check", 0, "the Vault token never expires")
	// CodeTokenCanWrite: the token may change, delete or destroy the secrets it reads.
	CodeTokenCanWrite = codes.New("VAULT_TOKEN_CAN_WRITE", "check", 0, "the Vault token may write, delete or destroy the secrets it reads")
	// CodeTokenCanList: the token may list the secrets next to those it reads.
	CodeTokenCanList = codes.New("VAULT_TOKEN_CAN_LIST", "check", 0, "the Vault token may list beyond the secrets it reads")
	// CodeTokenReadsBeyond: the token may read secrets anywhere in a mount, not only those it uses.
	CodeTokenReadsBeyond = codes.New("VAULT_TOKEN_READS_BEYOND", "check", 0, "the Vault token may read secrets beyond the ones it reads")
	// CodeTokenCanAdmin: the token may change ACL policies, auth methods or mounts.
	CodeTokenCanAdmin = codes.New("VAULT_TOKEN_CAN_ADMIN", "check", 0, "the Vault token may change policies, mounts or auth methods")
	// CodeNamespaceIgnored: VAULT_NAMESPACE is set, but the server is open-source Vault, which ignores namespaces (warning).
	CodeNamespaceIgnored = codes.New("VAULT_NAMESPACE_IGNORED", "warn", 0, "`VAULT_NAMESPACE` is set, but the server is open-source Vault, which ignores namespaces and serves the root namespace")
	// CodeSecretIDUnwrapped: a response-wrapped AppRole secret id was checked and unwrapped (info).
	CodeSecretIDUnwrapped = codes.New("VAULT_SECRET_ID_UNWRAPPED", "info", 0, "a response-wrapped AppRole secret id was checked (`creation_path`) and unwrapped")
	// CodeWrapPathMismatch: a wrapped secret id was not created at VAULT_SECRET_ID_RESPONSE_WRAPPING_PATH, and was not unwrapped (error).
	CodeWrapPathMismatch = codes.New("VAULT_WRAP_PATH_MISMATCH", "error", 0, "a wrapped secret id was not created at `VAULT_SECRET_ID_RESPONSE_WRAPPING_PATH`: not unwrapped (`expected`, `found`)")
	// CodeLimitedToken: the token's uses are limited (num_uses): no speculative reads (debug), or supervise mode will spend them (warning).
	CodeLimitedToken = codes.New("VAULT_TOKEN_USES_LIMITED", "debug or warn", 0, "the Vault token's uses are limited (`num_uses`): no speculative reads; in supervise mode every request spends one")
)
