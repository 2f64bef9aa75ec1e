package watch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Leases and credentials are renewed at about two thirds of their time to
// live (jittered, so that the nodes of a cluster spread their requests).
// When one can be extended no further, the values that depend on it are
// reported (Renew returns an Expiry) at about two thirds of what is left,
// and at least Options.Lead before the end, which leaves the time of a
// restart with new values.

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
		if !ls.replaced {
			earlier(ls.next)
		}
	}
	return due
}

// Renew renews the credentials and leases that are due, and returns an
// Expiry when values must be fetched again because their lease (or the
// credential they were read with) cannot be extended any further.
func (k *Keeper) Renew(ctx context.Context) *Expiry {
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

	var exp *Expiry
	ids := make([]string, 0, len(k.leases))
	for id := range k.leases {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		ls := k.leases[id]
		if ls.replaced || ls.next.IsZero() || now.Before(ls.next) {
			continue
		}
		if !ls.final {
			k.renewLease(ctx, ls, now)
		}
		if !ls.final || now.Before(ls.next) {
			continue
		}
		// Final and due: the values must be fetched anew. Ask again a
		// little later unless a proposed set replaces them.
		ls.next = now.Add(retryIn(ls.expires.Sub(now)))
		if exp == nil {
			exp = &Expiry{Reason: reason, Deadline: ls.expires}
		}
		if ls.expires.Before(exp.Deadline) {
			exp.Deadline = ls.expires
		}
		if !slices.Contains(exp.Keys, ls.key) {
			exp.Keys = append(exp.Keys, ls.key)
			exp.Vars = append(exp.Vars, ls.vars...)
		}
	}
	if exp != nil {
		sortRefs(exp.Keys)
		sort.Strings(exp.Vars)
		k.log.Info("fetching new values before the leases of the current ones end", "code", CodeLeaseRefetch,
			"vars", exp.Vars, "reason", exp.Reason, "expires_in_s", int(time.Until(exp.Deadline).Seconds()))
	}
	return exp
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
		k.log.Error("the store no longer holds this lease: fetching new values now",
			append(attrs, "code", CodeLeaseLost, "error", o.err.Error())...)
	default:
		left := ls.expires.Sub(now)
		if left <= 0 {
			ls.final, ls.next = true, now
		} else {
			ls.next = now.Add(retryIn(left))
		}
		k.log.Warn("lease renewal failed: trying again before it expires",
			append(attrs, "code", CodeLeaseRenewFailed, "error_code", string(inject.CodeOf(o.err)), "error", o.err.Error(),
				"expires_in_s", int(left.Seconds()))...)
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
		if errors.Is(o.err, inject.ErrNotRenewable) {
			c.next = time.Time{}
			k.log.Error("the store's login credential cannot be replaced and will expire: fetches and renewals fail after that",
				append(attrs, "code", CodeCredentialExpiring, "error", o.err.Error(), "expires_in_s", int(time.Until(c.expires).Seconds()))...)
			return false
		}
		left := c.expires.Sub(now)
		c.next = now.Add(retryIn(max(left, 4*time.Second)))
		if !relogin && (errors.Is(o.err, inject.ErrPermission) || errors.Is(o.err, inject.ErrAuth)) {
			// The store no longer takes the credential (it expired, or
			// was revoked): log in again.
			c.relogin, c.next = true, now
		}
		k.log.Warn("renewing the store's login credential failed: trying again",
			append(attrs, "code", CodeCredentialRenewFailed, "relogin", relogin, "error_code", string(inject.CodeOf(o.err)),
				"error", o.err.Error())...)
		return false
	}
	oldExpiry := c.expires
	c.relogin = false
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
		if ls.scheme != c.scheme || ls.replaced {
			continue
		}
		ls.final, ls.next = true, now
		if oldExpiry.Before(ls.expires) {
			ls.expires = oldExpiry
		}
		vars = append(vars, ls.vars...)
	}
	sort.Strings(vars)
	k.log.Info("logged in to the store again", append(attrs, "code", CodeCredentialRelogin, "ttl_s", o.l.Duration,
		"refetch", vars)...)
	return len(vars) > 0
}
