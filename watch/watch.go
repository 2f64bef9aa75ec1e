// Package watch keeps the secrets of a supervised command current. It asks
// the stores which versions they serve (inject.Watcher, else by fetching
// again and comparing), renews the leases of dynamic secrets and the
// stores' own login credentials (inject.Renewer, inject.CredentialRenewer),
// fetches anew the values whose leases cannot be extended any more, and
// revokes the leases that no running process uses any more
// (inject.Revoker).
//
// State is kept per secret (per fetch key), not per update: what the
// command runs with (applied), the newest good value that differs from it
// (next), the stamp of the newest value seen, and the last failure with
// its next retry. A secret that fails keeps its last good value and is
// tried again on its own backoff; it never holds up the others. A value
// that returns to what the command runs with clears next: the caller then
// drops a change it had scheduled. docs/supervise.md draws the states.
//
// It knows nothing of processes or of n8n: the main package turns the
// target values into new environments and restarts (package supervise).
//
// A Keeper is used by one goroutine at a time, supervise's worker; it has
// no locks. Snapshot is the exception: it may be called from any
// goroutine, and reads a value published at the end of every round. Every
// event it logs carries a stable code (see codes.go) and names variables,
// never values.
package watch

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Options configure a Keeper.
type Options struct {
	// Providers are the providers of the first resolution, by scheme. The
	// Keeper uses them for every later fetch, watch and renewal.
	Providers map[string]inject.Provider
	// Requests are the variables the command receives.
	Requests []inject.Request
	// Concurrency bounds the fetches in flight (see inject.Resolver).
	Concurrency int
	// Timeout is the deadline of each round: a refresh, a renewal, the
	// release at exit.
	Timeout time.Duration
	// Lead is how long a restart with new values takes at most (the
	// command's grace period after TERM, the splay, a resolution): values
	// whose lease cannot be extended are fetched anew at least that long
	// before it ends, when there is that much time left.
	Lead time.Duration
	// Backoff is the retry schedule of a secret, a store or a credential
	// that failed: doubling from Min to Max, each delay jittered down by up
	// to a quarter. The zero value means 1 s to 5 min, as Vault Agent's
	// auto-auth.
	Backoff Backoff
	// Hint returns what to do about a failure of a reference of scheme,
	// for the logs; nil gives the error's own hint.
	Hint func(err error, scheme string) string
	// Logger receives the events; nil discards them.
	Logger *slog.Logger
}

// Set is one set of values for the command: one result per request, in
// Options.Requests order.
type Set struct {
	Results []inject.Result
	leases  []string // ids of the leases its values hold
}

// Change says what a round found.
type Change struct {
	// Vars are the variables whose target value changed in this round: a
	// new value, or a return to the value the command runs with.
	Vars []string
	// Same are the variables of secrets with a new version whose value is
	// the one the command runs with.
	Same []string
	// Reason says what brought it: "rotation" (a refresh), "lease" (a
	// lease at its maximum lifetime, or lost), "credential" (a new login).
	Reason string
	// Detected is when the round found it.
	Detected time.Time
	// Deadline, when set, is when values the command runs with stop
	// working (the lease being replaced ends).
	Deadline time.Time
}

// missing is the stamp of an optional secret that did not exist.
const missing = "\x00missing"

// Keeper keeps one command's secrets current. Use New.
type Keeper struct {
	opts    Options
	log     *slog.Logger
	secrets []*secret // sorted by key
	byKey   map[inject.Reference]*secret
	keyOf   []*secret // by request index
	posOf   []int     // by request index: the position in its secret's values

	live   map[*Set]bool               // sets proposed and not yet settled
	stores map[string]*storeState      // by scheme
	leases map[string]*leaseState      // by lease id
	creds  map[string]*credentialState // by scheme

	errCounts map[string]int // failures by code name, since the start
	adopted   map[string]int // values the command was restarted with, by reason
	signaled  map[string]int // values the command was signaled for, by reason
	rounds    int
	snap      atomic.Pointer[Snapshot]
}

// secret is the state of one fetch key.
type secret struct {
	key  inject.Reference
	idx  []int // indexes in Options.Requests of the variables reading it
	vars []string

	applied []inject.Result // what the command runs with, per idx
	valueAt time.Time       // when applied's value was fetched
	next    *value          // the newest good value, when it differs from applied
	seen    string          // stamp of the newest good value fetched
	told    string          // stamp of the last SECRET_CHANGED logged

	pollOnly bool // compared by fetching, not by watching

	// The last failure, until a fetch or a watch succeeds again.
	err       error
	since     time.Time // first failure of the episode
	failures  int
	retryAt   time.Time
	failStamp string      // the stamp of the version whose fetch failed
	logged    inject.Code // code of the failure last logged
	watchCode inject.Code // code of the last watch failure logged

	okAt time.Time // the last successful watch or fetch
}

// value is a good value of a secret, per idx.
type value struct {
	results []inject.Result
	stamp   string
	fetched time.Time
}

func (s *secret) failing() bool { return s.err != nil }

// target returns the values the secret should have: next, else applied.
func (s *secret) target() []inject.Result {
	if s.next != nil {
		return s.next.results
	}
	return s.applied
}

// New returns a Keeper for the command that runs with initial, the results
// of the first resolution of opts.Requests with opts.Providers.
func New(opts Options, initial []inject.Result) *Keeper {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Backoff.Min <= 0 {
		opts.Backoff.Min = time.Second
	}
	if opts.Backoff.Max < opts.Backoff.Min {
		opts.Backoff.Max = max(5*time.Minute, opts.Backoff.Min)
	}
	k := &Keeper{
		opts: opts, log: log,
		byKey:     map[inject.Reference]*secret{},
		keyOf:     make([]*secret, len(opts.Requests)),
		posOf:     make([]int, len(opts.Requests)),
		live:      map[*Set]bool{},
		stores:    map[string]*storeState{},
		leases:    map[string]*leaseState{},
		creds:     map[string]*credentialState{},
		errCounts: map[string]int{},
		adopted:   map[string]int{},
		signaled:  map[string]int{},
	}
	now := time.Now()
	for i, q := range opts.Requests {
		key := q.Ref.FetchKey()
		s := k.byKey[key]
		if s == nil {
			s = &secret{key: key, valueAt: now, okAt: now}
			k.byKey[key] = s
			k.secrets = append(k.secrets, s)
		}
		k.keyOf[i], k.posOf[i] = s, len(s.idx)
		s.idx = append(s.idx, i)
		s.vars = append(s.vars, q.Var)
		if i < len(initial) {
			s.applied = append(s.applied, initial[i])
		} else {
			s.applied = append(s.applied, inject.Result{Request: q})
		}
	}
	slices.SortFunc(k.secrets, func(a, b *secret) int { return compareRefs(a.key, b.key) })
	for _, s := range k.secrets {
		s.seen = stampOf(s.applied)
		s.told = s.seen
		k.track(s.applied, now)
	}
	for scheme, p := range opts.Providers {
		if r, ok := p.(inject.CredentialRenewer); ok {
			k.creds[scheme] = &credentialState{scheme: scheme, r: r, next: now}
		}
	}
	k.publish()
	return k
}

// stampOf returns the stamp of one secret's values: the provider's Stamp
// or Version, missing for an optional secret that does not exist, "" when
// the store gave neither (the values are then compared).
func stampOf(results []inject.Result) string {
	for _, r := range results {
		if r.Err != nil {
			continue
		}
		switch {
		case r.Removed:
			return missing
		case r.Stamp != "":
			return r.Stamp
		default:
			return r.Version
		}
	}
	return ""
}

// valueStamp digests a secret's values, for a secret compared by fetching.
// It never leaves the process.
func valueStamp(results []inject.Result) string {
	h := sha256.New()
	for _, r := range results {
		h.Write([]byte(r.Var))
		h.Write([]byte{0})
		if r.Removed || r.Err != nil {
			h.Write([]byte(missing))
		} else {
			h.Write(r.Value.Reveal())
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sameValues reports whether two value lists of one secret give every
// variable the same value (or leave it out alike).
func sameValues(a, b []inject.Result) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Removed != b[i].Removed || !bytes.Equal(a[i].Value.Reveal(), b[i].Value.Reveal()) {
			return false
		}
	}
	return true
}

// compareRefs orders fetch keys, for stable logs and requests.
func compareRefs(a, b inject.Reference) int {
	return cmp.Or(cmp.Compare(a.Scheme, b.Scheme), cmp.Compare(a.Path(), b.Path()), cmp.Compare(a.Version(), b.Version()),
		cmp.Compare(locString(a), locString(b)))
}

// locString writes a reference's locator (the store's options included).
func locString(r inject.Reference) string {
	if r.Loc == nil {
		return ""
	}
	return r.Loc.String()
}

// set builds a Set from a chooser of values per secret.
func (k *Keeper) set(pick func(s *secret, req int) inject.Result) *Set {
	set := &Set{Results: make([]inject.Result, len(k.opts.Requests))}
	for i := range k.opts.Requests {
		r := pick(k.keyOf[i], i)
		set.Results[i] = r
		if r.Lease != nil && r.Lease.ID != "" && !r.Removed && r.Err == nil && !slices.Contains(set.leases, r.Lease.ID) {
			set.leases = append(set.leases, r.Lease.ID)
		}
	}
	return set
}

// Same reports whether two sets give every variable the same value (or
// leave it out alike).
func Same(a, b *Set) bool { return sameValues(a.Results, b.Results) }

// Digest identifies a set's values without keeping them (SHA-256 of the
// variables and values, in hex); it never leaves the process.
func (s *Set) Digest() string { return valueStamp(s.Results) }

// Applied returns the values the command runs with.
func (k *Keeper) Applied() *Set {
	return k.set(func(s *secret, i int) inject.Result { return s.applied[k.posOf[i]] })
}

// Target returns the values the command should run with: for each
// variable, the newest good value, except for the variables hold names,
// which keep the value the command runs with (nil holds none).
func (k *Keeper) Target(hold func(name string) bool) *Set {
	return k.set(func(s *secret, i int) inject.Result {
		if hold != nil && hold(k.opts.Requests[i].Var) {
			return s.applied[k.posOf[i]]
		}
		return s.target()[k.posOf[i]]
	})
}

// Propose records set as the values a restart will bring: its leases are
// kept alive until Adopt or Drop.
func (k *Keeper) Propose(set *Set) {
	k.live[set] = true
	k.publish()
}

// Adopt records that the command now runs with set, for reason (see
// Change.Reason). With revoke, the leases of the values the command no
// longer has are revoked; without (a command that was only signaled keeps
// its old environment), they are forgotten and end with their TTL.
func (k *Keeper) Adopt(ctx context.Context, set *Set, reason string, revoke bool) {
	delete(k.live, set)
	now := time.Now()
	for _, s := range k.secrets {
		vals := make([]inject.Result, len(s.idx))
		for j, i := range s.idx {
			vals[j] = set.Results[i]
		}
		if !sameValues(vals, s.applied) {
			s.valueAt = now
			if s.next != nil {
				s.valueAt = s.next.fetched
			}
		}
		s.applied = vals
		if s.next != nil && sameValues(s.next.results, s.applied) {
			s.next = nil
		}
	}
	if revoke {
		k.adopted[reason]++
	} else {
		k.signaled[reason]++
	}
	k.release(ctx, revoke)
	k.publish()
}

// Drop records that set will not be used: the leases only it holds are
// revoked.
func (k *Keeper) Drop(ctx context.Context, set *Set) {
	delete(k.live, set)
	k.release(ctx, true)
	k.publish()
}

// release revokes (or, without revoke, forgets) every tracked lease that
// no value of a secret and no live set holds.
func (k *Keeper) release(ctx context.Context, revoke bool) {
	held := map[string]bool{}
	hold := func(results []inject.Result) {
		for _, r := range results {
			if r.Lease != nil {
				held[r.Lease.ID] = true
			}
		}
	}
	for _, s := range k.secrets {
		hold(s.applied)
		if s.next != nil {
			hold(s.next.results)
		}
	}
	for set := range k.live {
		for _, id := range set.leases {
			held[id] = true
		}
	}
	var gone []string
	for id := range k.leases {
		if !held[id] {
			gone = append(gone, id)
		}
	}
	if len(gone) == 0 {
		return
	}
	sort.Strings(gone)
	ctx, cancel := context.WithTimeout(ctx, k.opts.Timeout)
	defer cancel()
	for _, id := range gone {
		if revoke {
			k.revoke(ctx, id)
		} else {
			delete(k.leases, id)
		}
	}
}

// revoke ends one lease and forgets it. LEASE_REVOKED is logged only when
// the store accepted the revocation.
func (k *Keeper) revoke(ctx context.Context, id string) {
	ls := k.leases[id]
	delete(k.leases, id)
	if ls == nil {
		return
	}
	r, ok := k.opts.Providers[ls.scheme].(inject.Revoker)
	if !ok {
		return
	}
	err, answered := callCtx(ctx, func() error { return r.Revoke(ctx, ls.lease) })
	if !answered {
		err = fmt.Errorf("%s: no answer: %w", ls.scheme, ctx.Err())
	}
	attrs := []any{"vars", ls.vars, "scheme", ls.scheme}
	switch {
	case err == nil:
		k.log.Info("lease revoked", append(attrs, "code", CodeLeaseRevoked)...)
	case errors.Is(err, inject.ErrNotFound):
		k.log.Debug("lease already ended: nothing to revoke", append(attrs, "code", CodeLeaseGone)...)
	case errors.Is(err, inject.ErrRevokeDeferred):
		k.log.Info("lease not revoked now: it ends with the store's login token, revoked at exit",
			append(attrs, "code", CodeLeaseRevokeDeferred, "error", err.Error())...)
	default:
		k.log.Warn("lease not revoked: it ends with its TTL", append(attrs, "code", CodeLeaseRevokeFailed,
			"error_code", inject.CodeOf(err), "error", err.Error(),
			"expires_in_s", int(time.Until(ls.expires).Seconds()))...)
	}
}

// Close revokes every lease and releases the providers (a Vault token it
// logged in with is revoked): the command has exited for good.
func (k *Keeper) Close(ctx context.Context) {
	clear(k.live)
	for _, s := range k.secrets {
		s.applied, s.next = nil, nil
	}
	k.release(ctx, true)
	ctx, cancel := context.WithTimeout(ctx, k.opts.Timeout)
	defer cancel()
	schemes := make([]string, 0, len(k.opts.Providers))
	for s := range k.opts.Providers {
		schemes = append(schemes, s)
	}
	sort.Strings(schemes)
	for _, scheme := range schemes {
		c, ok := k.opts.Providers[scheme].(inject.Closer)
		if !ok {
			continue
		}
		err, answered := callCtx(ctx, func() error { return c.Close(ctx) })
		if !answered {
			err = fmt.Errorf("%s: no answer: %w", scheme, ctx.Err())
		}
		if err != nil {
			k.log.Warn("provider cleanup failed", "code", CodeCleanupFailed, "scheme", scheme,
				"error_code", inject.CodeOf(err), "error", err.Error())
		}
	}
}

// callCtx runs fn, returning when it does or when ctx ends: a provider
// that ignores its context must not hold the round past its deadline. The
// providers themselves never start a second blocking read of what a first
// one still waits for (see inject.ReadFile), so an abandoned call costs at
// most one goroutine per stuck source, not one per round.
func callCtx[T any](ctx context.Context, fn func() T) (T, bool) {
	ch := make(chan T, 1)
	go func() { ch <- fn() }()
	select {
	case v := <-ch:
		return v, true
	case <-ctx.Done():
		var zero T
		return zero, false
	}
}
