package watch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// ceilSeconds is d in whole seconds, rounded up: a retry in 0.4 s is "in
// 1 s", not "in 0 s".
func ceilSeconds(d time.Duration) int { return int((max(d, 0) + time.Second - 1) / time.Second) }

// Backoff is a retry schedule: Min, doubled at each failure, at most Max,
// each delay jittered down by up to a quarter (so that the nodes of a
// cluster that failed together do not retry together).
type Backoff struct {
	Min, Max time.Duration
}

// delay returns the wait after the n-th failure in a row (n >= 1).
func (b Backoff) delay(n int) time.Duration {
	d := b.Min
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return d - time.Duration(rand.Float64()*0.25*float64(d))
}

// storeState is a store's health as the watches see it: while every
// secret it was asked about failed with a transient fault (it is down or
// unreachable), it is asked again only on its backoff, and then about one
// secret first (a probe), so that an outage costs one request per step of
// the backoff, not one per secret per refresh.
type storeState struct {
	failures int
	retryAt  time.Time
	code     inject.Code
	since    time.Time
}

// transientErr reports whether err says nothing about the secret itself:
// the store did not answer, or answered that it cannot now.
func transientErr(err error) bool {
	return errors.Is(err, inject.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled)
}

// Refresh asks the stores whether their secrets changed, fetches those
// that did (and those compared by fetching, and those whose retry is due),
// and returns what changed, or nil. Secrets held by a lease are not
// watched (their renewal is), nor those pinned to a version. A failure
// concerns one secret: it keeps its last good value, is logged once, and
// is tried again on its own backoff.
func (k *Keeper) Refresh(ctx context.Context) *Change {
	ctx, cancel := context.WithTimeout(ctx, k.opts.Timeout)
	defer cancel()
	now := time.Now()
	k.rounds++
	c := &roundChange{}

	byScheme := map[string][]*secret{}
	var fetch []*secret
	for _, s := range k.secrets {
		if s.key.Version() != "" || k.leasedTarget(s) {
			continue
		}
		if _, ok := k.opts.Providers[s.key.Scheme].(inject.Watcher); ok && !s.pollOnly {
			byScheme[s.key.Scheme] = append(byScheme[s.key.Scheme], s)
			continue
		}
		k.startPolling(s, nil)
		if k.storeReady(s.key.Scheme, now) && (!s.failing() || !now.Before(s.retryAt)) {
			fetch = append(fetch, s)
		}
	}
	schemes := make([]string, 0, len(byScheme))
	for scheme := range byScheme {
		schemes = append(schemes, scheme)
	}
	sort.Strings(schemes)
	observed := map[*secret]string{}
	for _, scheme := range schemes {
		fetch = append(fetch, k.watchScheme(ctx, scheme, byScheme[scheme], now, observed)...)
	}
	k.fetch(ctx, fetch, observed, now, c)
	k.release(ctx, true)
	k.publish()
	return c.result("rotation", now, time.Time{})
}

// storeReady reports whether the store of scheme may be asked now.
func (k *Keeper) storeReady(scheme string, now time.Time) bool {
	st := k.stores[scheme]
	return st == nil || st.failures == 0 || !now.Before(st.retryAt)
}

// watchScheme asks one store about its secrets and returns those to fetch.
func (k *Keeper) watchScheme(ctx context.Context, scheme string, secrets []*secret, now time.Time, observed map[*secret]string) []*secret {
	st := k.stores[scheme]
	if st == nil {
		st = &storeState{}
		k.stores[scheme] = st
	}
	if st.failures > 0 && now.Before(st.retryAt) {
		return nil
	}
	w := k.opts.Providers[scheme].(inject.Watcher)
	ask := secrets
	if st.failures > 0 {
		ask = secrets[:1] // a probe: is the store back?
	}
	var fetch []*secret
	for len(ask) > 0 {
		keys := make([]inject.Reference, len(ask))
		for i, s := range ask {
			keys[i] = s.key
		}
		res, answered := callCtx(ctx, func() []inject.WatchResult { return w.Watch(ctx, keys) })
		got := make([]inject.WatchResult, len(ask))
		transient := 0
		var first error
		for i, s := range ask {
			switch {
			case !answered:
				got[i].Err = fmt.Errorf("%s: no answer: %w", scheme, ctx.Err())
			case i < len(res):
				got[i] = res[i]
			default:
				got[i].Err = fmt.Errorf("%s: %w: no result for %s", scheme, inject.ErrUnavailable, s.key.Path())
			}
			if got[i].Err != nil && transientErr(got[i].Err) {
				transient++
				first = cmp.Or(first, got[i].Err)
			}
		}
		if transient == len(ask) {
			k.storeFailed(scheme, st, secrets, first, now)
			return fetch
		}
		k.storeRecovered(scheme, st)
		var flaky, refused, back []*secret
		var refusedErr error
		for i, s := range ask {
			if got[i].Err != nil && transientErr(got[i].Err) {
				flaky = append(flaky, s)
				continue
			}
			if errors.Is(got[i].Err, inject.ErrAuth) {
				// The credential refused (Vault: "invalid token"): log
				// in again, and keep watching versions once it works.
				refused, refusedErr = append(refused, s), got[i].Err
				continue
			}
			if !s.watchCode.IsZero() && got[i].Err == nil {
				back = append(back, s)
			}
			if k.watched(s, got[i], now, observed) {
				fetch = append(fetch, s)
			}
		}
		k.watchesFailed(scheme, flaky, first)
		if len(refused) > 0 {
			k.credentialRefused(scheme)
			k.watchesFailed(scheme, refused, refusedErr)
		}
		k.watchesRecovered(scheme, back)
		if len(ask) == len(secrets) || ask[0] != secrets[0] || len(ask) != 1 {
			break
		}
		ask = secrets[1:] // the probe answered: ask about the rest
	}
	return fetch
}

// watched handles one secret's watch result and reports whether to fetch
// the secret.
func (k *Keeper) watched(s *secret, r inject.WatchResult, now time.Time, observed map[*secret]string) bool {
	stamp := r.Stamp
	switch {
	case r.Err == nil && r.Stamp == "":
		k.startPolling(s, nil)
		return !s.failing() || !now.Before(s.retryAt)
	case r.Err == nil:
	case errors.Is(r.Err, inject.ErrNotFound) && !errors.Is(r.Err, inject.ErrSoftDeleted):
		stamp = missing
	case errors.Is(r.Err, inject.ErrPermission):
		k.startPolling(s, r.Err)
		return true
	default:
		// Any other failure concerns this secret only.
		k.watchFailed(s, r.Err)
		k.countErr(r.Err)
		return false
	}
	s.okAt = now
	observed[s] = stamp
	if stamp == s.seen {
		if s.failing() {
			// The store holds again what was fetched last: nothing failed.
			k.recovered(s)
		}
		return false
	}
	if s.failing() && stamp == s.failStamp && now.Before(s.retryAt) {
		return false
	}
	return true
}

// startPolling makes s compared by fetching from now on. err is the
// store's refusal to describe it, or nil when the store keeps no versions.
func (k *Keeper) startPolling(s *secret, err error) {
	if s.pollOnly {
		return
	}
	s.pollOnly = true
	s.seen = valueStamp(s.target())
	s.told = s.seen
	attrs := []any{"vars", s.vars, "scheme", s.key.Scheme, "path", s.key.Path()}
	if err != nil {
		k.log.Warn("the store refuses to describe this secret: new versions are detected by reading it again",
			append(attrs, "code", CodeWatchDenied, "error", err.Error())...)
		return
	}
	k.log.Debug("the store tells no versions of this secret: new values are detected by reading it again",
		append(attrs, "code", CodeWatchByFetch)...)
}

// storeFailed records that a store answered no watch: every secret in
// secrets waits for the store's backoff.
func (k *Keeper) storeFailed(scheme string, st *storeState, secrets []*secret, err error, now time.Time) {
	st.failures++
	st.retryAt = now.Add(k.opts.Backoff.delay(st.failures))
	k.countErr(err)
	code := inject.CodeOf(err)
	if st.code == code {
		k.log.Debug("the store still does not answer", "code", CodeWatchFailed, "scheme", scheme,
			"error_code", code, "retry_in_s", ceilSeconds(time.Until(st.retryAt)))
		return
	}
	if st.code.IsZero() {
		st.since = now
	}
	st.code = code
	var vars []string
	for _, s := range secrets {
		vars = append(vars, s.vars...)
	}
	sort.Strings(vars)
	k.log.Warn("the store does not answer: the command keeps its values; asking again on a backoff", "code", CodeWatchFailed,
		"scheme", scheme, "vars", vars, "error_code", code, "error", err.Error(), "retry_in_s", ceilSeconds(time.Until(st.retryAt)))
}

func (k *Keeper) storeRecovered(scheme string, st *storeState) {
	if st.failures == 0 {
		return
	}
	if !st.code.IsZero() {
		k.log.Info("the store answers again", "code", CodeWatchRecovered, "scheme", scheme,
			"down_s", int(time.Since(st.since).Seconds()))
	}
	*st = storeState{}
}

// watchFailed logs a failure to watch s, once until it changes.
func (k *Keeper) watchFailed(s *secret, err error) {
	code := inject.CodeOf(err)
	if s.watchCode == code {
		return
	}
	s.watchCode = code
	k.log.Warn("cannot tell whether this secret changed; trying again at the next refresh", "code", CodeWatchFailed,
		"vars", s.vars, "scheme", s.key.Scheme, "path", s.key.Path(), "error_code", code, "error", err.Error())
}

// watchesFailed logs, in one line, the secrets of scheme whose watch
// failed with a transient fault in a round where the store answered for
// others (an outage that began during the round), once until it changes.
func (k *Keeper) watchesFailed(scheme string, secrets []*secret, err error) {
	if len(secrets) == 0 {
		return
	}
	code := inject.CodeOf(err)
	var vars []string
	for _, s := range secrets {
		k.countErr(err)
		if s.watchCode != code {
			s.watchCode = code
			vars = append(vars, s.vars...)
		}
	}
	if len(vars) == 0 {
		return
	}
	sort.Strings(vars)
	k.log.Warn("cannot tell whether these secrets changed; trying again at the next refresh", "code", CodeWatchFailed,
		"vars", vars, "scheme", scheme, "error_code", code, "error", err.Error())
}

// watchesRecovered logs, in one line, the secrets of scheme whose watch
// works again.
func (k *Keeper) watchesRecovered(scheme string, secrets []*secret) {
	var vars []string
	for _, s := range secrets {
		s.watchCode = inject.Code{}
		vars = append(vars, s.vars...)
	}
	if len(vars) == 0 {
		return
	}
	sort.Strings(vars)
	k.log.Info("watching these secrets works again", "code", CodeWatchRecovered, "vars", vars, "scheme", scheme)
}

// countErr counts a failure by its code, for the snapshot.
func (k *Keeper) countErr(err error) {
	if err != nil {
		k.errCounts[inject.CodeOf(err).Name()]++
	}
}

// roundChange gathers what one round changed.
type roundChange struct {
	vars, same []string
	deadline   time.Time
}

func (c *roundChange) result(reason string, now, deadline time.Time) *Change {
	if len(c.vars) == 0 && len(c.same) == 0 {
		return nil
	}
	sort.Strings(c.vars)
	sort.Strings(c.same)
	if deadline.IsZero() || (!c.deadline.IsZero() && c.deadline.Before(deadline)) {
		deadline = c.deadline
	}
	return &Change{Vars: c.vars, Same: c.same, Reason: reason, Detected: now, Deadline: deadline}
}

// fetch fetches secrets (once each, no retry: a failure waits for the
// secret's backoff) and records what each got.
func (k *Keeper) fetch(ctx context.Context, secrets []*secret, observed map[*secret]string, now time.Time, c *roundChange) {
	if len(secrets) == 0 {
		return
	}
	var reqs []inject.Request
	for _, s := range secrets {
		for _, i := range s.idx {
			reqs = append(reqs, k.opts.Requests[i])
		}
	}
	res := &inject.Resolver{Providers: k.opts.Providers, Concurrency: k.opts.Concurrency, Attempts: 1, KeepSoftDeleted: true}
	results, _ := res.Resolve(ctx, reqs)
	byScheme := map[string][2]int{} // transient failures, fetches
	flaky := map[string][]*secret{} // by scheme: newly failing with a transient fault
	var flakyErr error
	n := 0
	for _, s := range secrets {
		got := results[n : n+len(s.idx)]
		n += len(s.idx)
		tr := byScheme[s.key.Scheme]
		tr[1]++
		if err := firstErr(got); err != nil && transientErr(err) {
			tr[0]++
			if s.logged != inject.CodeOf(err) {
				flaky[s.key.Scheme] = append(flaky[s.key.Scheme], s)
				flakyErr = err
			}
		}
		byScheme[s.key.Scheme] = tr
		k.settle(ctx, s, got, observed[s], now, c)
	}
	// A store that did not answer: one line for its secrets, not one each.
	for scheme, ss := range flaky {
		var vars []string
		for _, s := range ss {
			vars = append(vars, s.vars...)
		}
		sort.Strings(vars)
		k.log.Warn("new values could not be fetched, the store does not answer: the command keeps the values it has",
			"code", CodeUpdateRefused, "scheme", scheme, "vars", vars, "error_code", inject.CodeOf(flakyErr),
			"retry_in_s", ceilSeconds(time.Until(ss[0].retryAt)))
	}
	// A store none of whose fetches answered is down: its secrets wait
	// for its backoff (the polled ones; the watched ones already do).
	for scheme, tr := range byScheme {
		if tr[0] == tr[1] && tr[1] > 0 {
			st := k.stores[scheme]
			if st == nil {
				st = &storeState{}
				k.stores[scheme] = st
			}
			if st.failures == 0 || !now.Before(st.retryAt) {
				st.failures++
				st.retryAt = now.Add(k.opts.Backoff.delay(st.failures))
				if st.since.IsZero() {
					st.since = now
				}
			}
		} else if st := k.stores[scheme]; st != nil && st.failures > 0 && tr[0] < tr[1] {
			k.storeRecovered(scheme, st)
		}
	}
}

// sameLease reports whether two value lists of one secret hold the same
// lease (or none).
func sameLease(a, b []inject.Result) bool {
	id := func(rs []inject.Result) string {
		for _, r := range rs {
			if r.Lease != nil {
				return r.Lease.ID
			}
		}
		return ""
	}
	return id(a) == id(b)
}

func firstErr(results []inject.Result) error {
	for _, r := range results {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// settle records the outcome of one secret's fetch: a failure keeps the
// last good value; a good value becomes next, or clears it when it is the
// one the command runs with.
func (k *Keeper) settle(ctx context.Context, s *secret, got []inject.Result, observed string, now time.Time, c *roundChange) {
	if err := firstErr(got); err != nil {
		k.failed(s, err, observed, now, leaseEnd(k, s))
		k.dropFetched(ctx, got)
		if errors.Is(err, inject.ErrAuth) {
			k.credentialRefused(s.key.Scheme)
		}
		return
	}
	stamp := stampOf(got)
	if s.pollOnly || stamp == "" {
		stamp = valueStamp(got)
	}
	if s.failing() {
		k.recovered(s)
	}
	s.okAt = now
	newVersion := stamp != s.seen
	s.seen = stamp
	switch {
	case sameValues(got, s.applied):
		if ls := k.leaseOf(s.applied); ls != nil && !sameLease(got, s.applied) {
			// The same values under a new lease (a leased KV secret read
			// again): the command needs nothing; the new lease replaces
			// the old one, which the release revokes.
			s.applied = got
			k.track(got, now)
		}
		if s.next != nil {
			s.next = nil
			c.vars = append(c.vars, s.vars...)
		} else if newVersion {
			c.same = append(c.same, s.vars...)
		}
	case s.next != nil && sameValues(got, s.next.results):
	default:
		s.next = &value{results: got, stamp: stamp, fetched: now}
		k.track(got, now)
		c.vars = append(c.vars, s.vars...)
		if end := leaseEnd(k, s); !end.IsZero() && (c.deadline.IsZero() || end.Before(c.deadline)) {
			c.deadline = end
		}
	}
	if newVersion && s.told != stamp {
		s.told = stamp
		k.log.Info("new version", "code", CodeSecretChanged, "vars", s.vars, "scheme", s.key.Scheme, "path", s.key.Path())
	}
}

// dropFetched tracks the leases of values fetched for nothing (the fetch
// failed for another variable of the secret), so that the release at the
// end of the round revokes them.
func (k *Keeper) dropFetched(ctx context.Context, got []inject.Result) {
	for _, r := range got {
		if r.Err == nil && r.Lease != nil && r.Lease.ID != "" && k.leases[r.Lease.ID] == nil {
			k.track([]inject.Result{r}, time.Now())
		}
	}
}

// failed records a failed fetch of s: it keeps its values, and is tried
// again on its backoff (sooner when the values it has end before). The
// failure is logged when an episode starts or its code changes; the same
// failure again is logged at debug level.
func (k *Keeper) failed(s *secret, err error, observed string, now, ends time.Time) {
	if !s.failing() {
		s.since = now
	}
	s.err = err
	s.failures++
	s.failStamp = observed
	delay := k.opts.Backoff.delay(s.failures)
	if ends.After(now) {
		// Values that still work: try again before they stop. Once they
		// have stopped, there is nothing left to save by hurrying.
		delay = min(delay, max(ends.Sub(now)/4, 500*time.Millisecond))
	}
	s.retryAt = now.Add(delay)
	k.countErr(err)
	code := inject.CodeOf(err)
	var ve *inject.VarError
	msg := err.Error()
	attrs := []any{"code", code, "vars", s.vars, "scheme", s.key.Scheme, "path", s.key.Path()}
	if errors.As(err, &ve) {
		attrs = append(attrs, "var", ve.Var)
		msg = ve.Err.Error()
	}
	attrs = append(attrs, "error", msg, "retry_in_s", ceilSeconds(delay))
	if s.logged == code {
		k.log.Debug("new value still not resolved: the command keeps its last good value", attrs...)
		return
	}
	s.logged = code
	if transientErr(err) {
		// The store did not answer: fetch logs one line for all.
		k.log.Debug("secret not fetched: the store does not answer", attrs...)
		return
	}
	hint := inject.HintOf(err)
	if k.opts.Hint != nil {
		hint = k.opts.Hint(err, s.key.Scheme)
	}
	if hint != "" {
		attrs = append(attrs, "hint", hint)
	}
	k.log.Error("secret not resolved: the command keeps its last good value", attrs...)
	k.log.Error("new values did not resolve: the command keeps running with the values it has", "code", CodeUpdateRefused,
		"vars", s.vars, "scheme", s.key.Scheme, "path", s.key.Path(), "error_code", code, "retry_in_s", ceilSeconds(delay))
}

// recovered ends s's failure episode.
func (k *Keeper) recovered(s *secret) {
	if !s.logged.IsZero() {
		k.log.Info("secret resolves again", "code", CodeSecretRecovered, "vars", s.vars, "scheme", s.key.Scheme,
			"path", s.key.Path(), "failed_s", int(time.Since(s.since).Seconds()))
	}
	s.err, s.failures, s.retryAt, s.failStamp, s.logged = nil, 0, time.Time{}, "", inject.Code{}
}
