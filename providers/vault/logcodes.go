package vault

import "github.com/n8n-secrets/n8n-secrets/internal/logcode"

// Codes lists the log codes of this package, with their level, exit code
// and meaning: `n8n-secrets codes` and the README's tables of codes and exit
// codes are built from the packages' lists.
var Codes = []logcode.Code{
	{Name: CodeLogin, Level: "info", Meaning: "logged in to Vault (AppRole, JWT, Kubernetes): `method`, `mount`, `ttl_s`"},
	{Name: CodeTokenRevoked, Level: "info", Meaning: "the login token was revoked before exec"},
	{Name: CodeTokenKept, Level: "warn", Meaning: "the login token was kept (dynamic secrets were read with it, and die with it): it expires with its TTL"},
	{Name: CodeMount, Level: "debug", Meaning: "what is mounted where a path is read (KV v1 or v2, another engine)"},
	{Name: CodeResponseWarning, Level: "warn", Meaning: "Vault's answer to a read carried warnings, logged as Vault wrote them"},
	{Name: CodeEnvIgnored, Level: "warn", Meaning: "a `VAULT_*` variable Vault's client library would act on is set, and has no effect here (the README's Vault section lists each)"},
	{Name: CodeTLSVerifyOff, Level: "warn", Meaning: "`VAULT_SKIP_VERIFY` turns the check of Vault's certificate off"},
	{Name: CodeTokenRoot, Level: "check", Meaning: "the Vault token holds the root policy"},
	{Name: CodeTokenNoExpiry, Level: "check", Meaning: "the Vault token never expires"},
	{Name: CodeTokenCanWrite, Level: "check", Meaning: "the Vault token may write, delete or destroy the secrets it reads"},
	{Name: CodeTokenCanList, Level: "check", Meaning: "the Vault token may list beyond the secrets it reads"},
	{Name: CodeTokenReadsBeyond, Level: "check", Meaning: "the Vault token may read secrets beyond the ones it reads"},
	{Name: CodeTokenCanAdmin, Level: "check", Meaning: "the Vault token may change policies, mounts or auth methods"},
	{Name: CodeNamespaceIgnored, Level: "warn", Meaning: "`VAULT_NAMESPACE` is set, but the server is open-source Vault, which ignores namespaces and serves the root namespace"},
	{Name: CodeSecretIDUnwrapped, Level: "info", Meaning: "a response-wrapped AppRole secret id was checked (`creation_path`) and unwrapped"},
	{Name: CodeWrapPathMismatch, Level: "error", Meaning: "a wrapped secret id was not created at `VAULT_SECRET_ID_RESPONSE_WRAPPING_PATH`: not unwrapped (`expected`, `found`)"},
	{Name: CodeLimitedToken, Level: "debug or warn", Meaning: "the Vault token's uses are limited (`num_uses`): no speculative reads; in supervise mode every request spends one"},
}
