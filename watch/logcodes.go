package watch

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
	// CodeSecretChanged: a store serves a new version of a secret.
	CodeSecretChanged = codes.New("SECRET_CHANGED", "info", 0, "a store serves a new version of a secret: `vars`, `scheme`, `path`")
	// CodeWatchFailed: asking a store whether a secret changed failed; tried again at the next refresh.
	CodeWatchFailed = codes.New("SECRET_WATCH_FAILED", "warn", 0, "a store could not tell whether a secret changed, or does not answer at all (once until it recovers; asked again on a backoff): `error_code`, `retry_in_s`")
	// CodeWatchRecovered: asking a store whether a secret changed works again.
	CodeWatchRecovered = codes.New("SECRET_WATCH_RECOVERED", "info", 0, "asking a store about a secret works again (`down_s` after an outage)")
	// CodeWatchDenied: the store refuses to describe a secret; changes are detected by reading it.
	CodeWatchDenied = codes.New("SECRET_WATCH_DENIED", "warn", 0, "the store refuses to describe a secret (Vault metadata, AWS `ListSecrets`): changes are detected by reading it")
	// CodeWatchByFetch: the store keeps no versions of a secret; changes are detected by reading it.
	CodeWatchByFetch = codes.New("SECRET_WATCH_BY_FETCH", "debug", 0, "the store keeps no versions of a secret (KV v1): changes are detected by reading it")
	// CodeLeaseRenewed: a dynamic secret's lease was renewed.
	CodeLeaseRenewed = codes.New("LEASE_RENEWED", "info", 0, "a dynamic secret's lease was renewed: `vars`, `ttl_s`")
	// CodeLeaseRenewFailed: renewing a lease failed; tried again before it expires.
	CodeLeaseRenewFailed = codes.New("LEASE_RENEW_FAILED", "warn", 0, "renewing a lease failed; tried again before it ends: `expires_in_s`")
	// CodeLeaseMaxTTL: a lease cannot be extended any further; new values are fetched before it expires.
	CodeLeaseMaxTTL = codes.New("LEASE_MAX_TTL", "warn", 0, "a lease reached its maximum TTL: new values are fetched before it ends")
	// CodeLeaseLost: the store no longer holds a lease the command uses; new values are fetched at once.
	CodeLeaseLost = codes.New("LEASE_LOST", "error", 0, "the store no longer holds a lease the command uses: new values are fetched at once")
	// CodeLeaseRefetch: values whose leases end are fetched anew, for a restart before they expire.
	CodeLeaseRefetch = codes.New("LEASE_REFETCH", "info", 0, "values whose leases end are fetched anew, for a restart before they expire: `vars`, `reason`")
	// CodeLeaseRevoked: a lease no running process uses was revoked.
	CodeLeaseRevoked = codes.New("LEASE_REVOKED", "info", 0, "a lease no process uses any more was revoked")
	// CodeLeaseRevokeFailed: revoking a lease failed; it ends with its TTL.
	CodeLeaseRevokeFailed = codes.New("LEASE_REVOKE_FAILED", "warn", 0, "revoking a lease failed: it ends with its TTL")
	// CodeCredentialRenewed: a store's login credential (a Vault token) was renewed.
	CodeCredentialRenewed = codes.New("CREDENTIAL_RENEWED", "info", 0, "the store's login token was renewed: `ttl_s`")
	// CodeCredentialRenewFailed: renewing, or replacing, a store's login credential failed; tried again.
	CodeCredentialRenewFailed = codes.New("CREDENTIAL_RENEW_FAILED", "warn", 0, "renewing, or replacing, the store's login token failed; tried again")
	// CodeCredentialMaxTTL: a login credential cannot be extended any further; a new login follows before it expires.
	CodeCredentialMaxTTL = codes.New("CREDENTIAL_MAX_TTL", "warn", 0, "the login token reached its maximum TTL: a new login follows before it ends")
	// CodeCredentialRelogin: logged in to a store again, replacing a credential at its maximum TTL.
	CodeCredentialRelogin = codes.New("CREDENTIAL_RELOGIN", "info", 0, "logged in again; the leased secrets read with the old token are fetched anew")
	// CodeCredentialNoExpiry: a store's login credential does not expire (a Vault root token): nothing to renew.
	CodeCredentialNoExpiry = codes.New("CREDENTIAL_NO_EXPIRY", "debug", 0, "the store's login token does not expire: nothing to renew")
	// CodeCredentialExpiring: a login credential given by the user cannot be replaced and will expire.
	CodeCredentialExpiring = codes.New("CREDENTIAL_EXPIRING", "error", 0, "a token given by the user cannot be replaced and will expire: `expires_in_s`")
	// CodeLeaseGone: a lease no process uses had already ended: nothing to revoke.
	CodeLeaseGone = codes.New("LEASE_GONE", "debug", 0, "a lease no process uses had already ended: nothing to revoke")
	// CodeLeaseRevokeDeferred: the store refused to revoke a lease now; it ends with the login token, revoked at exit.
	CodeLeaseRevokeDeferred = codes.New("LEASE_REVOKE_DEFERRED", "info", 0, "the store refused to revoke a lease now: it ends with the login token, revoked at exit")
	// CodeSecretRecovered: a secret that failed to resolve resolves again.
	CodeSecretRecovered = codes.New("SECRET_RECOVERED", "info", 0, "a secret that failed to resolve resolves again: `failed_s`")
	// CodeUpdateRefused: a secret's new value did not resolve; the command keeps its last good value, the secret is tried again on its backoff.
	// The command logs it too when the n8n guard refuses new values, and lists it among its own codes (logcode.Set.Share).
	CodeUpdateRefused = codes.New("UPDATE_REFUSED", "error or warn", 0, "a secret's new value did not resolve (once per failure; the secret is tried again on its own backoff, `retry_in_s`), or the guard refused new values: the command keeps running with the values it has")
	// CodeCleanupFailed: releasing a provider at exit (revoking its login token) failed.
	// The command logs it too when it releases a provider before exec, and lists it among its own codes.
	CodeCleanupFailed = codes.New("PROVIDER_CLEANUP_FAILED", "warn", 0, "a provider could not release what it held (a Vault login token not revoked)")
)
