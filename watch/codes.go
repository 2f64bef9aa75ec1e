package watch

// Log codes of the events a Keeper logs, stable for alerts to match.
const (
	// CodeSecretChanged: a store serves a new version of a secret.
	CodeSecretChanged = "SECRET_CHANGED"
	// CodeWatchFailed: asking a store whether a secret changed failed; tried again at the next refresh.
	CodeWatchFailed = "SECRET_WATCH_FAILED"
	// CodeWatchRecovered: asking a store whether a secret changed works again.
	CodeWatchRecovered = "SECRET_WATCH_RECOVERED"
	// CodeUpdateRefused: a secret's new value did not resolve; the command keeps its last good value, the secret is tried again on its backoff.
	CodeUpdateRefused = "UPDATE_REFUSED"
	// CodeSecretRecovered: a secret that failed to resolve resolves again.
	CodeSecretRecovered = "SECRET_RECOVERED"
	// CodeWatchDenied: the store refuses to describe a secret; changes are detected by reading it.
	CodeWatchDenied = "SECRET_WATCH_DENIED"
	// CodeWatchByFetch: the store keeps no versions of a secret; changes are detected by reading it.
	CodeWatchByFetch = "SECRET_WATCH_BY_FETCH"
	// CodeLeaseRenewed: a dynamic secret's lease was renewed.
	CodeLeaseRenewed = "LEASE_RENEWED"
	// CodeLeaseRenewFailed: renewing a lease failed; tried again before it expires.
	CodeLeaseRenewFailed = "LEASE_RENEW_FAILED"
	// CodeLeaseMaxTTL: a lease cannot be extended any further; new values are fetched before it expires.
	CodeLeaseMaxTTL = "LEASE_MAX_TTL"
	// CodeLeaseLost: the store no longer holds a lease the command uses; new values are fetched at once.
	CodeLeaseLost = "LEASE_LOST"
	// CodeLeaseRefetch: values whose leases end are fetched anew, for a restart before they expire.
	CodeLeaseRefetch = "LEASE_REFETCH"
	// CodeLeaseRevoked: a lease no running process uses was revoked.
	CodeLeaseRevoked = "LEASE_REVOKED"
	// CodeLeaseGone: a lease no process uses had already ended: nothing to revoke.
	CodeLeaseGone = "LEASE_GONE"
	// CodeLeaseRevokeDeferred: the store refused to revoke a lease now; it ends with the login token, revoked at exit.
	CodeLeaseRevokeDeferred = "LEASE_REVOKE_DEFERRED"
	// CodeLeaseRevokeFailed: revoking a lease failed; it ends with its TTL.
	CodeLeaseRevokeFailed = "LEASE_REVOKE_FAILED"
	// CodeCredentialRenewed: a store's login credential (a Vault token) was renewed.
	CodeCredentialRenewed = "CREDENTIAL_RENEWED"
	// CodeCredentialRenewFailed: renewing, or replacing, a store's login credential failed; tried again.
	CodeCredentialRenewFailed = "CREDENTIAL_RENEW_FAILED"
	// CodeCredentialMaxTTL: a login credential cannot be extended any further; a new login follows before it expires.
	CodeCredentialMaxTTL = "CREDENTIAL_MAX_TTL"
	// CodeCredentialRelogin: logged in to a store again, replacing a credential at its maximum TTL.
	CodeCredentialRelogin = "CREDENTIAL_RELOGIN"
	// CodeCredentialNoExpiry: a store's login credential does not expire (a Vault root token): nothing to renew.
	CodeCredentialNoExpiry = "CREDENTIAL_NO_EXPIRY"
	// CodeCredentialExpiring: a login credential given by the user cannot be replaced and will expire.
	CodeCredentialExpiring = "CREDENTIAL_EXPIRING"
	// CodeCleanupFailed: releasing a provider at exit (revoking its login token) failed.
	CodeCleanupFailed = "PROVIDER_CLEANUP_FAILED"
)
