package inject

import (
	"context"
	"errors"
)

// Optional provider interfaces for supervise mode, where n8n-secrets stays
// the parent of the command: they keep the secrets of a running child
// current. A provider implements those its backend supports; the caller
// falls back to fetching again (Watcher), or to nothing (Renewer, Revoker,
// CredentialRenewer) for a provider that does not.

// Watcher is implemented by providers that can tell which version of a
// secret the store serves now more cheaply than by fetching it: Vault's KV
// v2 metadata, the version ids AWS lists, a file's content digest.
type Watcher interface {
	// Watch returns one result per ref, in the same order. A result's Stamp
	// identifies the value the store would serve now for ref, and equals
	// the Stamp (or, where the provider sets no Stamp, the Version) of the
	// Payload a Fetch of ref returns when the value is the same. An empty
	// Stamp with a nil error means the provider cannot tell for this ref
	// (a KV v1 mount, a dynamic secret): the caller fetches it again to
	// compare.
	//
	// Errors follow Fetch's contract: ErrNotFound when the secret is gone,
	// ErrPermission when the store refuses to describe it (the caller then
	// fetches it to compare, which needs less permission), ErrUnavailable
	// for transient faults. Errors never contain a value.
	Watch(ctx context.Context, refs []Reference) []WatchResult
}

// WatchResult is one outcome of Watcher.Watch.
type WatchResult struct {
	Stamp string // opaque; may be a digest of the value, so it is never logged
	Err   error
}

// Renewer is implemented by providers whose secrets come with a lease that
// must be renewed to stay valid (Vault's dynamic secrets).
type Renewer interface {
	// Renew extends lease by its original Duration and returns the lease as
	// it stands after the renewal: Duration is then the time left, in
	// seconds, from now. A lease that has reached its maximum lifetime is
	// extended less than asked, or not at all: the caller must fetch the
	// secret again before that time.
	//
	// Errors: ErrNotFound when the lease no longer exists (it expired or
	// was revoked), ErrPermission when the store refuses the renewal,
	// ErrUnavailable for transient faults. Errors never contain a value.
	Renew(ctx context.Context, lease Lease) (Lease, error)
}

// Revoker is implemented by providers whose leases can be ended before
// they expire, once no running process uses their secrets.
type Revoker interface {
	// Revoke ends lease. It returns nil only when the store accepted the
	// revocation; ErrNotFound when the lease no longer exists;
	// ErrRevokeDeferred when the store refused but the lease ends with
	// the provider's own credential, which Close revokes. Other errors
	// follow Fetch's contract.
	Revoke(ctx context.Context, lease Lease) error
}

// ErrRevokeDeferred is returned by Revoker.Revoke when the store refused
// to revoke a lease that ends anyway with the provider's credential (a
// Vault login token revoked at exit).
var ErrRevokeDeferred = errors.New("revocation deferred to the login token's")

// CredentialRenewer is implemented by providers whose own credential
// expires (a Vault token): the leases of the secrets read with it end with
// it.
type CredentialRenewer interface {
	// RenewCredential renews the provider's credential, logging in first if
	// it has none, and returns its lease as it stands now, or nil when the
	// credential does not expire. With relogin true it logs in again
	// instead (the old credential is about to reach its maximum lifetime):
	// the secrets read with the old credential must then be fetched again.
	// A credential that cannot be replaced (a token given by the user)
	// fails with ErrNotRenewable.
	//
	// Errors otherwise follow Fetch's contract: ErrAuth when logging in
	// fails, ErrPermission when the renewal is refused, ErrUnavailable for
	// transient faults.
	RenewCredential(ctx context.Context, relogin bool) (*Lease, error)
}

// ErrNotRenewable is returned by CredentialRenewer.RenewCredential when the
// credential cannot be replaced by logging in again.
var ErrNotRenewable = errors.New("credential cannot be renewed any further")
