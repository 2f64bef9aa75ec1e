package inject

import "context"

// Provider fetches secrets from one backend (Vault, AWS Secrets Manager,
// files, …). Providers live in their own packages and import this one.
type Provider interface {
	// Fetch returns the secret that ref names. It ignores ref.Selector and
	// ref.Optional: the resolver applies those. It is called at most once per
	// distinct ref.FetchKey() and attempt, from many goroutines at once.
	//
	// Errors must wrap one of the sentinels to be classified: ErrNotFound
	// when the secret or the version asked for does not exist,
	// ErrPermission when access is refused, ErrAuth when the provider's own
	// credentials fail, ErrUnavailable for transient faults that are worth
	// retrying (connection refused, 5xx, 429, throttling, a sealed or standby
	// server), ErrBadData for a value that cannot be used. Any other error is
	// permanent and fails at once. Errors are prefixed with the provider's
	// name ("vault: read secret/n8n/core: …") and never contain a value.
	Fetch(ctx context.Context, ref Reference) (Payload, error)
}

// BatchProvider is implemented by providers that can fetch many secrets in
// one round trip. The resolver hands it every distinct reference of its
// scheme at once (and, on a retry, those whose result was transient).
type BatchProvider interface {
	Provider
	// FetchBatch returns one result per ref, in the same order, with the
	// same error contract as Fetch for each. It splits and parallelises
	// calls as the backend needs.
	FetchBatch(ctx context.Context, refs []Reference) []BatchResult
}

// BatchResult is one outcome of a BatchProvider.FetchBatch call.
type BatchResult struct {
	Payload Payload
	Err     error
}

// Closer is implemented by providers that hold something to release before
// the child is exec'd, such as a Vault token obtained by logging in, which
// is revoked. Close is called once, after resolution, whether it succeeded
// or not.
type Closer interface {
	Close(ctx context.Context) error
}

// Payload is what a provider returns for one secret.
type Payload struct {
	// Value is the secret's bytes. For a key-value store (Object true) it is
	// the JSON object of the secret's keys.
	Value Secret
	// Object marks Value as a JSON object of named keys, as Vault's KV
	// stores them: with no selector, the secret must have exactly one key,
	// whose value is taken. Otherwise, no selector takes Value whole.
	Object bool
	// Version is the version the store reports (for logs), if any.
	Version string
	// Stamp identifies the value for change detection, where Version does
	// not (a file's content digest): see Watcher. It is never logged.
	Stamp string
	// Lease describes a lease on a dynamic secret, if any.
	Lease *Lease
}

// Lease is the lease of a dynamic secret (Vault database credentials, …),
// or of a provider's own credential (see CredentialRenewer), which
// supervise mode renews (see Renewer).
type Lease struct {
	ID        string // the store's lease id; empty for a credential
	Duration  int    // seconds left when the lease was issued or renewed
	Renewable bool
}

// RequestCounter is implemented by providers that can say how many requests
// they sent to their backend: logins, lookups, reads (speculative ones
// included) and revocations, so that `check` reports the real round trips.
type RequestCounter interface {
	Requests() int64
}
