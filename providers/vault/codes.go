package vault

// Log event codes of the Vault provider: every event it logs carries one
// as its "code" attribute, so that an alert can match it.
const (
	// CodeMount: the mount holding a path was looked up (debug).
	CodeMount = "VAULT_MOUNT"
	// CodeLogin: the provider logged in with its auth method (info).
	CodeLogin = "VAULT_LOGIN"
	// CodeTokenRevoked: the token obtained by logging in was revoked before exec (info).
	CodeTokenRevoked = "VAULT_TOKEN_REVOKED"
	// CodeTokenKept: the login token was not revoked, because leased secrets were read with it (warning).
	CodeTokenKept = "VAULT_TOKEN_KEPT"
	// CodeResponseWarning: Vault's answer to a read carried warnings, logged as they are (warning).
	CodeResponseWarning = "VAULT_RESPONSE_WARNING"
	// CodeEnvIgnored: a VAULT_* variable that Vault's client library would act on is set, and has no effect (warning).
	CodeEnvIgnored = "VAULT_ENV_IGNORED"
	// CodeTLSVerifyOff: VAULT_SKIP_VERIFY turns the server's certificate check off (warning).
	CodeTLSVerifyOff = "VAULT_TLS_VERIFY_OFF"
	// CodeNamespaceIgnored: VAULT_NAMESPACE is set, but the server is open-source Vault, which ignores namespaces (warning).
	CodeNamespaceIgnored = "VAULT_NAMESPACE_IGNORED"
	// CodeSecretIDUnwrapped: a response-wrapped AppRole secret id was checked and unwrapped (info).
	CodeSecretIDUnwrapped = "VAULT_SECRET_ID_UNWRAPPED"
	// CodeWrapPathMismatch: a wrapped secret id was not created at VAULT_SECRET_ID_RESPONSE_WRAPPING_PATH, and was not unwrapped (error).
	CodeWrapPathMismatch = "VAULT_WRAP_PATH_MISMATCH"
	// CodeLimitedToken: the token's uses are limited (num_uses): no speculative reads (debug), or supervise mode will spend them (warning).
	CodeLimitedToken = "VAULT_TOKEN_USES_LIMITED"
)
