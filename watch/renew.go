package watch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Leases and credentials are renewed at about two thirds of their time to
// live (jittered, so that the nodes of a cluster spread their requests).
// When one can be extended no further, the values that depend on it are
// fetched anew at about two thirds of what is left, and at least
// Options.Lead before the end, which leaves the time of a restart with new
// values. A renewal or a fetch that fails is tried again on a backoff,
// never later than a quarter of the time the values have left.

type leaseState struct {
	lease    inject.Lease // as issued: Duration is the full one
	scheme   string
	s        *secret
	vars     []string
	expires  time.Time
	next     time.Time // when to renew it, or to fetch its values anew
	final    bool      // it cannot be extended any further
	failures int       // renewals failed in a row

	refetchTold bool // LEASE_REFETCH was logged for it
}

type credentialState struct {
	scheme   string
	r        inject.CredentialRenewer
	next     time.Time
	expires  time.Time
	relogin  bool // next time, log in again instead of renewing
	failures int
	code     inject.Code // of the failure last logged
	lastOK   time.Time
}

// track records the leases of fetched values.
func (k *Keeper) track(results []inject.Result, now time.Time) {
	for _, r := range results {
		if r.Err != nil || r.Removed || r.Lease == nil || r.Lease.ID == "" || k.leases[r.Lease.ID] != nil {
			continue
		}
		s := k.byKey[r.Ref.FetchKey()]
		ls := &leaseState{lease: *r.Lease, scheme: r.Ref.Scheme, s: s, expires: now.Add(seconds(r.Lease.Duration))}
		if s != nil {
			ls.vars = s.vars
		}
		ls.next = now.Add(twoThirds(ls.expires.Sub(now)))
		if _, ok := k.opts.Providers[ls.scheme].(inject.Renewer); !ok || !r.Lease.Renewable {
			ls.final = true
			ls.next = now.Add(k.refetchIn(ls.expires.Sub(now)))
		}
		k.leases[r.Lease.ID] = ls
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

// leaseOf returns the state of the lease results hold, or nil.
func (k *Keeper) leaseOf(results []inject.Result) *leaseState {
	for _, r := range results {
		if r.Err == nil && !r.Removed && r.Lease != nil && k.leases[r.Lease.ID] != nil {
			return k.leases[r.Lease.ID]
		}
	}
	return nil
}

// leasedTarget reports whether the values s should have hold a lease:
// its renewal, not a watch, keeps it current.
func (k *Keeper) leasedTarget(s *secret) bool {
	for _, r := range s.target() {
		if r.Err == nil && !r.Removed && r.Lease != nil && r.Lease.ID != "" {
			return true
		}
	}
	return false
}

// leaseEnd returns when the lease of the values the command runs with
// ends, or zero.
func leaseEnd(k *Keeper, s *secret) time.Time {
	if ls := k.leaseOf(s.applied); ls != nil {
		return ls.expires
	}
	return time.Time{}
}

// refetchDue reports whether s's target values hold a lease that must be
// replaced, and from when.
func (k *Keeper) refetchDue(s *secret) (time.Time, bool) {
	ls := k.leaseOf(s.target())
	if ls == nil || !ls.final {
		return time.Time{}, false
	}
	at := ls.next
	if s.failing() && s.retryAt.After(at) {
		at = s.retryAt
	}
	return at, true
}

// Due returns when Renew has something to do next; zero when nothing.
func (k *Keeper) Due() time.Time {
	var due time.Time
	earlier := func(t time.Time) {
		if !t.IsZero() && (due.IsZero() || t.Before(due)) {
			due = t
		}
	}
	for _, c := range k.creds {
		earlier(c.next)
	}
	for _, ls := range k.leases {
		if !ls.final {
			earlier(ls.next)
		}
	}
	for _, s := range k.secrets {
		if at, ok := k.refetchDue(s); ok {
			earlier(at)
		}
	}
	return due
}

// Renew renews the credentials and leases that are due, fetches anew the
// values whose lease (or the credential they were read with) can be
// extended no further, and returns what changed, or nil.
func (k *Keeper) Renew(ctx context.Context) *Change {
	ctx, cancel := context.WithTimeout(ctx, k.opts.Timeout)
	defer cancel()
	now := time.Now()
	reason := "lease"
	schemes := make([]string, 0, len(k.creds))
	for s := range k.creds {
		schemes = append(schemes, s)
	}
	sort.Strings(schemes)
	for _, scheme := range schemes {
		c := k.creds[scheme]
		if c.next.IsZero() || now.Before(c.next) {
			continue
		}
		if k.renewCredential(ctx, c, now) {
			reason = "credential"
		}
	}

	ids := make([]string, 0, len(k.leases))
	for id := range k.leases {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if ls := k.leases[id]; !ls.final && !now.Before(ls.next) {
			k.renewLease(ctx, ls, now)
		}
	}

	var refetch []*secret
	var vars []string
	deadline := time.Time{}
	for _, s := range k.secrets {
		if at, ok := k.refetchDue(s); ok && !now.Before(at) {
			refetch = append(refetch, s)
			vars = append(vars, s.vars...)
			if end := leaseEnd(k, s); !end.IsZero() && (deadline.IsZero() || end.Before(deadline)) {
				deadline = end
			}
		}
	}
	c := &roundChange{}
	if len(refetch) > 0 {
		sort.Strings(vars)
		// Once per lease: a retry after a failed fetch is logged by the
		// fetch's own failure, once.
		level := k.log.Debug
		for _, s := range refetch {
			if ls := k.leaseOf(s.target()); ls != nil && !ls.refetchTold {
				ls.refetchTold, level = true, k.log.Info
			}
		}
		level("fetching new values before the leases of the current ones end", "code", CodeLeaseRefetch,
			"vars", vars, "reason", reason, "expires_in_s", int(time.Until(deadline).Seconds()))
		k.fetch(ctx, refetch, nil, now, c)
	}
	k.release(ctx, true)
	k.publish()
	return c.result(reason, now, deadline)
}

// renewLease renews one lease, or marks it final when it cannot be
// renewed any further.
func (k *Keeper) renewLease(ctx context.Context, ls *leaseState, now time.Time) {
	r := k.opts.Providers[ls.scheme].(inject.Renewer) // final otherwise
	type out struct {
		l   inject.Lease
		err error
	}
	o, answered := callCtx(ctx, func() out { l, err := r.Renew(ctx, ls.lease); return out{l, err} })
	if !answered {
		o.err = fmt.Errorf("%s: no answer: %w", ls.scheme, ctx.Err())
	}
	attrs := []any{"vars", ls.vars, "scheme", ls.scheme}
	switch {
	case o.err == nil:
		ls.failures = 0
		ls.expires = now.Add(seconds(o.l.Duration))
		if o.l.Renewable {
			ls.next = now.Add(twoThirds(seconds(o.l.Duration)))
			k.log.Info("lease renewed", append(attrs, "code", CodeLeaseRenewed, "ttl_s", o.l.Duration)...)
			return
		}
		ls.final = true
		ls.next = now.Add(k.refetchIn(seconds(o.l.Duration)))
		k.log.Warn("lease renewed to its maximum TTL: new values will be fetched before it ends",
			append(attrs, "code", CodeLeaseMaxTTL, "ttl_s", o.l.Duration, "refetch_in_s", int(time.Until(ls.next).Seconds()))...)
	case errors.Is(o.err, inject.ErrNotFound):
		ls.final, ls.next, ls.expires = true, now, now
		k.countErr(o.err)
		k.log.Error("the store no longer holds this lease: fetching new values now",
			append(attrs, "code", CodeLeaseLost, "error", o.err.Error())...)
	default:
		k.countErr(o.err)
		if errors.Is(o.err, inject.ErrAuth) {
			k.credentialRefused(ls.scheme)
		}
		ls.failures++
		left := ls.expires.Sub(now)
		if left <= 0 {
			ls.final, ls.next = true, now
		} else {
			ls.next = now.Add(min(k.opts.Backoff.delay(ls.failures), max(left/4, 500*time.Millisecond)))
		}
		msg, level := "lease renewal failed: trying again before it expires", k.log.Warn
		if ls.failures > 1 {
			level = k.log.Debug
		}
		level(msg, append(attrs, "code", CodeLeaseRenewFailed, "error_code", inject.CodeOf(o.err), "error", o.err.Error(),
			"expires_in_s", int(left.Seconds()), "retry_in_s", ceilSeconds(time.Until(ls.next)))...)
	}
}

// credentialRefused records that the store refused the credential (a
// revoked or expired token): the next renewal logs in again, as soon as
// the credential's own backoff allows.
func (k *Keeper) credentialRefused(scheme string) {
	c := k.creds[scheme]
	if c == nil || c.relogin {
		return
	}
	c.relogin = true
	if c.failures == 0 || c.next.IsZero() {
		c.next = time.Now()
	}
}

// renewCredential renews (or replaces) a provider's login credential. It
// returns true when a new login replaced it: the leases read with the old
// one are then marked to be fetched anew before it expires.
func (k *Keeper) renewCredential(ctx context.Context, c *credentialState, now time.Time) bool {
	relogin := c.relogin
	type out struct {
		l   *inject.Lease
		err error
	}
	o, answered := callCtx(ctx, func() out { l, err := c.r.RenewCredential(ctx, relogin); return out{l, err} })
	if !answered {
		o.err = fmt.Errorf("%s: no answer: %w", c.scheme, ctx.Err())
	}
	attrs := []any{"scheme", c.scheme}
	if o.err != nil {
		k.countErr(o.err)
		if errors.Is(o.err, inject.ErrNotRenewable) {
			c.next = time.Time{}
			k.log.Error("the store's login credential cannot be replaced and will expire: fetches and renewals fail after that",
				append(attrs, "code", CodeCredentialExpiring, "error", o.err.Error(), "expires_in_s", int(time.Until(c.expires).Seconds()))...)
			return false
		}
		c.failures++
		delay := k.opts.Backoff.delay(c.failures)
		if left := c.expires.Sub(now); left > 0 {
			// Still valid: try again well before it ends.
			delay = min(delay, max(left/4, time.Second))
		}
		if !relogin && (errors.Is(o.err, inject.ErrPermission) || errors.Is(o.err, inject.ErrAuth)) {
			// The store no longer takes the credential (it expired, or
			// was revoked): log in again, at once the first time.
			c.relogin = true
			if c.failures == 1 {
				delay = 0
			}
		}
		c.next = now.Add(delay)
		code := inject.CodeOf(o.err)
		level := k.log.Warn
		if c.code == code {
			level = k.log.Debug
		}
		c.code = code
		level("renewing the store's login credential failed: trying again",
			append(attrs, "code", CodeCredentialRenewFailed, "relogin", relogin, "error_code", code,
				"error", o.err.Error(), "retry_in_s", ceilSeconds(delay))...)
		return false
	}
	oldExpiry := c.expires
	c.relogin, c.failures, c.code, c.lastOK = false, 0, inject.Code{}, now
	if o.l == nil {
		c.next = time.Time{}
		k.log.Debug("the store's login credential does not expire", append(attrs, "code", CodeCredentialNoExpiry)...)
		return false
	}
	ttl := seconds(o.l.Duration)
	c.expires = now.Add(ttl)
	c.next = now.Add(twoThirds(ttl))
	if !o.l.Renewable {
		c.relogin = true
		c.next = now.Add(k.refetchIn(ttl))
		k.log.Warn("the store's login credential reached its maximum TTL: logging in again before it ends",
			append(attrs, "code", CodeCredentialMaxTTL, "ttl_s", o.l.Duration, "relogin_in_s", int(time.Until(c.next).Seconds()))...)
	} else if !relogin {
		k.log.Info("login credential renewed", append(attrs, "code", CodeCredentialRenewed, "ttl_s", o.l.Duration)...)
	}
	if !relogin {
		return false
	}
	// The leases read with the old credential end with it: fetch their
	// values anew, before it expires.
	var vars []string
	for _, ls := range k.leases {
		if ls.scheme != c.scheme {
			continue
		}
		ls.final, ls.next = true, now
		if !oldExpiry.IsZero() && oldExpiry.Before(ls.expires) {
			ls.expires = oldExpiry
		}
		vars = append(vars, ls.vars...)
	}
	sort.Strings(vars)
	k.log.Info("logged in to the store again", append(attrs, "code", CodeCredentialRelogin, "ttl_s", o.l.Duration,
		"refetch", vars)...)
	return len(vars) > 0
}
