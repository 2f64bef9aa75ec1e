// Package watch keeps the secrets of a supervised command current. It asks
// the stores which versions they serve (inject.Watcher, else by fetching
// again and comparing), renews the leases of dynamic secrets and the
// stores' own login credentials (inject.Renewer, inject.CredentialRenewer),
// says when values that can no longer be renewed must be fetched again,
// and revokes the leases that no running process uses any more
// (inject.Revoker).
//
// It knows nothing of processes or of n8n: the main package turns what a
// Keeper reports into restarts of the command (package supervise).
//
// A Keeper is used by one goroutine at a time, supervise's worker; it has
// no locks. Every event it logs carries a stable code (see codes.go) and
// names variables, never values.
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
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
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
	// Timeout is the deadline of each round: a resolution, a watch, a
	// renewal, the release at exit.
	Timeout time.Duration
	// Lead is how long a restart with new values takes at most (the
	// command's grace period after TERM, the splay, a resolution): values
	// whose lease cannot be extended are reported at least that long
	// before it ends, when there is that much time left.
	Lead time.Duration
	// Logger receives the events; nil discards them.
	Logger *slog.Logger
}

// Set is the outcome of one resolution: the values a command runs with.
type Set struct {
	Results []inject.Result
	leases  []string // ids of the leases its values hold
}

// Change says which secrets have new versions.
type Change struct {
	Keys     []inject.Reference // fetch keys of the secrets that changed
	Vars     []string           // the variables that read them
	Detected time.Time
}

// Expiry says which leased secrets must be fetched again, and by when.
type Expiry struct {
	Reason   string             // "lease" or "credential"
	Keys     []inject.Reference // fetch keys to fetch again
	Vars     []string           // the variables that read them
	Deadline time.Time          // when the values now in use stop working
}

// missing is the stamp of an optional secret that did not exist.
const missing = "\x00missing"

// Keeper keeps one command's secrets current. Use New.
type Keeper struct {
	opts    Options
	log     *slog.Logger
	keyVars map[inject.Reference][]string // fetch key → the variables reading it

	current *Set
	live    map[*Set]bool // current, and sets proposed and not yet settled

	seen     map[inject.Reference]string // acknowledged stamps
	told     map[inject.Reference]string // stamps of the last change logged
	pollOnly map[inject.Reference]bool   // compared by fetching, not by watching
	warned   map[inject.Reference]string // code of the last watch failure logged

	leases map[string]*leaseState      // by lease id
	creds  map[string]*credentialState // by scheme
}

type leaseState struct {
	lease    inject.Lease // as issued: Duration is the full one
	scheme   string
	key      inject.Reference
	vars     []string
	expires  time.Time
	next     time.Time // when to renew it, or report it; zero: never
	final    bool      // it cannot be extended any further
	replaced bool      // a proposed set holds a fresh value instead
}

type credentialState struct {
	scheme  string
	r       inject.CredentialRenewer
	next    time.Time
	expires time.Time
	relogin bool // next time, log in again instead of renewing
}

// New returns a Keeper for the command that runs with initial, the results
// of the first resolution of opts.Requests with opts.Providers.
func New(opts Options, initial []inject.Result) *Keeper {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	k := &Keeper{
		opts: opts, log: log,
		keyVars:  map[inject.Reference][]string{},
		live:     map[*Set]bool{},
		seen:     map[inject.Reference]string{},
		told:     map[inject.Reference]string{},
		pollOnly: map[inject.Reference]bool{},
		warned:   map[inject.Reference]string{},
		leases:   map[string]*leaseState{},
		creds:    map[string]*credentialState{},
	}
	for _, q := range opts.Requests {
		key := q.Ref.FetchKey()
		k.keyVars[key] = append(k.keyVars[key], q.Var)
	}
	now := time.Now()
	set := &Set{Results: initial}
	k.track(set, initial, now)
	k.current = set
	k.live[set] = true
	k.Acknowledge(set)
	for scheme, p := range opts.Providers {
		if r, ok := p.(inject.CredentialRenewer); ok {
			k.creds[scheme] = &credentialState{scheme: scheme, r: r, next: now}
		}
	}
	return k
}

// track records the leases of fetched results, held by set.
func (k *Keeper) track(set *Set, fetched []inject.Result, now time.Time) {
	for _, r := range fetched {
		if r.Err != nil || r.Removed || r.Lease == nil || r.Lease.ID == "" {
			continue
		}
		id := r.Lease.ID
		if !slices.Contains(set.leases, id) {
			set.leases = append(set.leases, id)
		}
		if k.leases[id] != nil {
			continue
		}
		ls := &leaseState{lease: *r.Lease, scheme: r.Ref.Scheme, key: r.Ref.FetchKey(), vars: k.keyVars[r.Ref.FetchKey()],
			expires: now.Add(seconds(r.Lease.Duration))}
		ls.next = now.Add(twoThirds(ls.expires.Sub(now)))
		if _, ok := k.opts.Providers[ls.scheme].(inject.Renewer); !ok || !r.Lease.Renewable {
			ls.final = true
			ls.next = now.Add(k.refetchIn(ls.expires.Sub(now)))
		}
		k.leases[id] = ls
	}
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// twoThirds returns about two thirds of d, jittered by ±10%, at least
// half a second: when to act on something that lasts d.
func twoThirds(d time.Duration) time.Duration {
	return max(time.Duration(float64(d)*2/3*(0.9+0.2*rand.Float64())), 500*time.Millisecond)
}

// refetchIn is when to replace values whose lease cannot be extended and
// ends in left: at about two thirds of it, but at least Lead before the
// end, and at once when there is less time than that.
func (k *Keeper) refetchIn(left time.Duration) time.Duration {
	return max(min(twoThirds(left), left-k.opts.Lead), 0)
}

// retryIn is when to try again something that failed, with left before
// it expires.
func retryIn(left time.Duration) time.Duration {
	return min(max(left/4, time.Second), 30*time.Second)
}

// leased reports whether the current values of key hold a lease.
func (k *Keeper) leased(key inject.Reference) bool {
	for _, id := range k.current.leases {
		if k.leases[id] != nil && k.leases[id].key == key {
			return true
		}
	}
	return false
}

// Current returns the set the command runs with.
func (k *Keeper) Current() *Set { return k.current }

// stampOf returns the stamp of key in results: the provider's Stamp or
// Version, or, for a key compared by fetching, a digest of the values.
func (k *Keeper) stampOf(key inject.Reference, results []inject.Result) string {
	if k.pollOnly[key] {
		return valueStamp(key, results)
	}
	for _, r := range results {
		if r.Ref.FetchKey() != key || r.Err != nil {
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

// valueStamp digests the values the variables reading key got.
func valueStamp(key inject.Reference, results []inject.Result) string {
	h := sha256.New()
	for _, r := range results {
		if r.Ref.FetchKey() != key {
			continue
		}
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

// Acknowledge records set's versions as seen: Changed reports only what
// changes after them. Call it once set's values are handled (applied, or
// dropped on purpose), not when they were refused, so that a refused
// change is tried again at the next round.
func (k *Keeper) Acknowledge(set *Set) {
	for key := range k.keyVars {
		if s := k.stampOf(key, set.Results); s != "" || k.seen[key] != "" {
			k.seen[key] = s
		}
	}
}

// callCtx runs fn, returning when it does or when ctx ends: a watcher that
// ignores its context (a blocked read of a FIFO where a secret file should
// be) must not hold the round past its deadline.
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

// Changed asks the stores whether a secret has a new version since the
// last acknowledged one, and returns what changed, or nil. Secrets held by
// a lease are not watched (their renewal is), nor those pinned to a
// version. A failure to ask is logged (once, until it changes) and counts
// as no change.
func (k *Keeper) Changed(ctx context.Context) *Change {
	ctx, cancel := context.WithTimeout(ctx, k.opts.Timeout)
	defer cancel()
	byScheme := map[string][]inject.Reference{}
	var poll []inject.Reference
	for key := range k.keyVars {
		if key.Version != "" || k.leased(key) {
			continue
		}
		if _, ok := k.opts.Providers[key.Scheme].(inject.Watcher); ok && !k.pollOnly[key] {
			byScheme[key.Scheme] = append(byScheme[key.Scheme], key)
		} else {
			k.startPolling(key, "", nil)
			poll = append(poll, key)
		}
	}
	var changed []inject.Reference
	observed := map[inject.Reference]string{}
	schemes := make([]string, 0, len(byScheme))
	for s := range byScheme {
		schemes = append(schemes, s)
	}
	sort.Strings(schemes)
	for _, scheme := range schemes {
		keys := byScheme[scheme]
		sortRefs(keys)
		w := k.opts.Providers[scheme].(inject.Watcher)
		res, ok := callCtx(ctx, func() []inject.WatchResult { return w.Watch(ctx, keys) })
		for i, key := range keys {
			var r inject.WatchResult
			switch {
			case !ok:
				r.Err = fmt.Errorf("%s: no answer: %w", scheme, ctx.Err())
			case i < len(res):
				r = res[i]
			default:
				r.Err = fmt.Errorf("%s: %w: no result for %s", scheme, inject.ErrUnavailable, key.Path)
			}
			switch {
			case r.Err == nil && r.Stamp == "":
				k.startPolling(key, "", nil)
				poll = append(poll, key)
			case r.Err == nil:
				k.recovered(key)
				if r.Stamp != k.seen[key] {
					changed = append(changed, key)
					observed[key] = r.Stamp
				}
			case errors.Is(r.Err, inject.ErrNotFound):
				k.recovered(key)
				if k.seen[key] != missing {
					changed = append(changed, key)
					observed[key] = missing
				}
			case errors.Is(r.Err, inject.ErrPermission):
				k.startPolling(key, "denied", r.Err)
				poll = append(poll, key)
			default:
				k.watchFailed(key, r.Err)
			}
		}
	}
	polled, polledStamps := k.poll(ctx, poll)
	changed = append(changed, polled...)
	maps.Copy(observed, polledStamps)
	if len(changed) == 0 {
		return nil
	}
	sortRefs(changed)
	c := &Change{Keys: changed, Detected: time.Now()}
	for _, key := range changed {
		c.Vars = append(c.Vars, k.keyVars[key]...)
		// Once per new version: a refused change is looked at again at
		// every refresh, and logged as refused each time, not as new.
		if k.told[key] != observed[key] {
			k.told[key] = observed[key]
			k.log.Info("new version", "code", CodeSecretChanged, "vars", k.keyVars[key], "scheme", key.Scheme, "path", key.Path)
		}
	}
	sort.Strings(c.Vars)
	return c
}

// startPolling makes key compared by fetching from now on, its baseline
// the values the command runs with.
func (k *Keeper) startPolling(key inject.Reference, why string, err error) {
	if k.pollOnly[key] {
		return
	}
	k.pollOnly[key] = true
	k.seen[key] = valueStamp(key, k.current.Results)
	attrs := []any{"vars", k.keyVars[key], "scheme", key.Scheme, "path", key.Path}
	if why == "denied" {
		k.log.Warn("the store refuses to describe this secret: new versions are detected by reading it again",
			append(attrs, "code", CodeWatchDenied, "error", err.Error())...)
		return
	}
	k.log.Debug("the store tells no versions of this secret: new values are detected by reading it again",
		append(attrs, "code", CodeWatchByFetch)...)
}

// watchFailed logs a failure to watch key, once until it changes.
func (k *Keeper) watchFailed(key inject.Reference, err error) {
	code := string(inject.CodeOf(err))
	if k.warned[key] == code {
		return
	}
	k.warned[key] = code
	k.log.Warn("cannot tell whether this secret changed; trying again at the next refresh", "code", CodeWatchFailed,
		"vars", k.keyVars[key], "scheme", key.Scheme, "path", key.Path, "error_code", code, "error", err.Error())
}

func (k *Keeper) recovered(key inject.Reference) {
	if k.warned[key] != "" {
		delete(k.warned, key)
		k.log.Info("watching this secret works again", "code", CodeWatchRecovered, "vars", k.keyVars[key],
			"scheme", key.Scheme, "path", key.Path)
	}
}

// poll fetches keys and returns those whose values differ from the
// acknowledged ones, with the stamps of their new values.
func (k *Keeper) poll(ctx context.Context, keys []inject.Reference) ([]inject.Reference, map[inject.Reference]string) {
	if len(keys) == 0 {
		return nil, nil
	}
	var reqs []inject.Request
	for _, q := range k.opts.Requests {
		if slices.Contains(keys, q.Ref.FetchKey()) {
			reqs = append(reqs, q)
		}
	}
	r := &inject.Resolver{Providers: k.opts.Providers, Concurrency: k.opts.Concurrency}
	results, _ := r.Resolve(ctx, reqs)
	var changed []inject.Reference
	stamps := map[inject.Reference]string{}
	for _, key := range keys {
		failed := false
		for _, res := range results {
			if res.Ref.FetchKey() == key && res.Err != nil && !errors.Is(res.Err, inject.ErrNotFound) {
				k.watchFailed(key, res.Err)
				failed = true
				break
			}
		}
		if failed {
			continue
		}
		k.recovered(key)
		if st := valueStamp(key, results); st != k.seen[key] {
			changed = append(changed, key)
			stamps[key] = st
		}
	}
	return changed, stamps
}

// sortRefs sorts fetch keys, for stable logs and requests.
func sortRefs(refs []inject.Reference) {
	slices.SortFunc(refs, func(a, b inject.Reference) int {
		return cmp.Or(cmp.Compare(a.Scheme, b.Scheme), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Version, b.Version),
			cmp.Compare(a.Stage, b.Stage), cmp.Compare(a.Region, b.Region))
	})
}

// Resolve fetches the secrets again for a new set of values. The leased
// secrets whose leases are healthy keep their values (a new lease would
// mean a new database user for nothing), unless refetch names them; those
// whose leases cannot be extended any more are always fetched anew.
//
// The new set holds new leases: the caller must hand it to Propose, or to
// Drop (which revokes them), also when Resolve failed.
func (k *Keeper) Resolve(ctx context.Context, refetch []inject.Reference) (*Set, []error) {
	ctx, cancel := context.WithTimeout(ctx, k.opts.Timeout)
	defer cancel()
	keep := map[string]inject.Result{} // by request (Request.ID)
	for _, r := range k.current.Results {
		if r.Lease == nil || r.Err != nil || slices.Contains(refetch, r.Ref.FetchKey()) {
			continue
		}
		if ls := k.leases[r.Lease.ID]; ls != nil && !ls.final && time.Now().Before(ls.expires) {
			keep[r.ID()] = r // a template's parts share a variable
		}
	}
	var reqs []inject.Request
	for _, q := range k.opts.Requests {
		if _, ok := keep[q.ID()]; !ok {
			reqs = append(reqs, q)
		}
	}
	res := &inject.Resolver{Providers: k.opts.Providers, Concurrency: k.opts.Concurrency, FailFast: true, Logger: k.log}
	fetched, errs := res.Resolve(ctx, reqs)
	set := &Set{}
	i := 0
	for _, q := range k.opts.Requests {
		if r, ok := keep[q.ID()]; ok {
			set.Results = append(set.Results, r)
			if !slices.Contains(set.leases, r.Lease.ID) {
				set.leases = append(set.leases, r.Lease.ID)
			}
			continue
		}
		set.Results = append(set.Results, fetched[i])
		i++
	}
	k.track(set, fetched, time.Now())
	return set, errs
}

// Propose records set as the values a restart will bring: its leases are
// kept alive, and the leases it replaces are reported no more.
func (k *Keeper) Propose(set *Set) {
	k.live[set] = true
	for _, id := range k.current.leases {
		if ls := k.leases[id]; ls != nil && ls.final && !slices.Contains(set.leases, id) {
			ls.replaced, ls.next = true, time.Time{}
		}
	}
}

// Adopt records that the command now runs with set: the leases of the
// previous values that set does not hold are revoked.
func (k *Keeper) Adopt(ctx context.Context, set *Set) {
	delete(k.live, k.current)
	k.current = set
	k.live[set] = true
	k.release(ctx)
}

// Drop records that set will not be used: its own leases are revoked.
func (k *Keeper) Drop(ctx context.Context, set *Set) {
	delete(k.live, set)
	k.release(ctx)
}

// release revokes every tracked lease that no live set holds.
func (k *Keeper) release(ctx context.Context) {
	held := map[string]bool{}
	for s := range k.live {
		for _, id := range s.leases {
			held[id] = true
		}
	}
	var gone []string
	for id := range k.leases {
		if !held[id] {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	ctx, cancel := context.WithTimeout(ctx, k.opts.Timeout)
	defer cancel()
	for _, id := range gone {
		k.revoke(ctx, id)
	}
}

// revoke ends one lease and forgets it.
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
	if err != nil {
		k.log.Warn("lease not revoked: it ends with its TTL", "code", CodeLeaseRevokeFailed, "vars", ls.vars,
			"scheme", ls.scheme, "error_code", string(inject.CodeOf(err)), "error", err.Error(),
			"expires_in_s", int(time.Until(ls.expires).Seconds()))
		return
	}
	k.log.Info("lease revoked", "code", CodeLeaseRevoked, "vars", ls.vars, "scheme", ls.scheme)
}

// Close revokes every lease and releases the providers (a Vault token it
// logged in with is revoked): the command has exited for good.
func (k *Keeper) Close(ctx context.Context) {
	clear(k.live)
	k.release(ctx)
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
				"error_code", string(inject.CodeOf(err)), "error", err.Error())
		}
	}
}

// Equal reports whether two sets give every variable the same value.
func Equal(a, b *Set) bool {
	if len(a.Results) != len(b.Results) {
		return false
	}
	for i := range a.Results {
		x, y := a.Results[i], b.Results[i]
		if x.Var != y.Var || x.Removed != y.Removed || !bytes.Equal(x.Value.Reveal(), y.Value.Reveal()) {
			return false
		}
	}
	return true
}
