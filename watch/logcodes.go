package watch

import "github.com/n8n-secrets/n8n-secrets/internal/logcode"

// Codes lists the log codes of this package, with their level, exit code
// and meaning: `n8n-secrets codes` and the README's tables of codes and exit
// codes are built from the packages' lists.
var Codes = []logcode.Code{
	{Name: CodeSecretChanged, Level: "info", Meaning: "a store serves a new version of a secret: `vars`, `scheme`, `path`"},
	{Name: CodeWatchFailed, Level: "warn", Meaning: "a store could not tell whether a secret changed, or does not answer at all (once until it recovers; asked again on a backoff): `error_code`, `retry_in_s`"},
	{Name: CodeWatchRecovered, Level: "info", Meaning: "asking a store about a secret works again (`down_s` after an outage)"},
	{Name: CodeWatchDenied, Level: "warn", Meaning: "the store refuses to describe a secret (Vault metadata, AWS `ListSecrets`): changes are detected by reading it"},
	{Name: CodeWatchByFetch, Level: "debug", Meaning: "the store keeps no versions of a secret (KV v1): changes are detected by reading it"},
	{Name: CodeLeaseRenewed, Level: "info", Meaning: "a dynamic secret's lease was renewed: `vars`, `ttl_s`"},
	{Name: CodeLeaseRenewFailed, Level: "warn", Meaning: "renewing a lease failed; tried again before it ends: `expires_in_s`"},
	{Name: CodeLeaseMaxTTL, Level: "warn", Meaning: "a lease reached its maximum TTL: new values are fetched before it ends"},
	{Name: CodeLeaseLost, Level: "error", Meaning: "the store no longer holds a lease the command uses: new values are fetched at once"},
	{Name: CodeLeaseRefetch, Level: "info", Meaning: "values whose leases end are fetched anew, for a restart before they expire: `vars`, `reason`"},
	{Name: CodeLeaseRevoked, Level: "info", Meaning: "a lease no process uses any more was revoked"},
	{Name: CodeLeaseRevokeFailed, Level: "warn", Meaning: "revoking a lease failed: it ends with its TTL"},
	{Name: CodeCredentialRenewed, Level: "info", Meaning: "the store's login token was renewed: `ttl_s`"},
	{Name: CodeCredentialRenewFailed, Level: "warn", Meaning: "renewing, or replacing, the store's login token failed; tried again"},
	{Name: CodeCredentialMaxTTL, Level: "warn", Meaning: "the login token reached its maximum TTL: a new login follows before it ends"},
	{Name: CodeCredentialRelogin, Level: "info", Meaning: "logged in again; the leased secrets read with the old token are fetched anew"},
	{Name: CodeCredentialNoExpiry, Level: "debug", Meaning: "the store's login token does not expire: nothing to renew"},
	{Name: CodeCredentialExpiring, Level: "error", Meaning: "a token given by the user cannot be replaced and will expire: `expires_in_s`"},
	{Name: CodeLeaseGone, Level: "debug", Meaning: "a lease no process uses had already ended: nothing to revoke"},
	{Name: CodeLeaseRevokeDeferred, Level: "info", Meaning: "the store refused to revoke a lease now: it ends with the login token, revoked at exit"},
	{Name: CodeSecretRecovered, Level: "info", Meaning: "a secret that failed to resolve resolves again: `failed_s`"},
}
