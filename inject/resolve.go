package inject

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Resolver fetches the values of requests. Each distinct secret
// (Reference.FetchKey) is fetched once however many variables use it; fetches
// run concurrently, at most Concurrency at a time; transient failures
// (ErrUnavailable) are retried with jittered exponential backoff until the
// context's deadline; any other failure is final at once.
type Resolver struct {
	// Providers maps a scheme ("vault", …) to its provider. A reference
	// to a scheme with no provider fails with PROVIDER_NOT_CONFIGURED.
	Providers map[string]Provider
	// Concurrency bounds the fetches in flight; <= 0 means 16. A batch
	// call counts as one.
	Concurrency int
	// Backoff sets the retry delays; the zero value means 100 ms doubling
	// up to 2 s, each delay drawn uniformly from [d/2, d].
	Backoff Backoff
	// Attempts bounds the attempts of each fetch (a batch call counts as
	// one per secret in it); 0 means as many as the deadline allows.
	// Supervise mode fetches once per round and keeps its own backoff per
	// secret.
	Attempts int
	// KeepSoftDeleted makes an optional secret that is deleted but still
	// recoverable (ErrSoftDeleted) a failure rather than a missing secret:
	// supervise mode keeps the value the command has until the secret is
	// restored or really gone.
	KeepSoftDeleted bool
	// FailFast stops the other fetches once one variable has failed for
	// good: the start fails anyway, so it need not wait for slow stores.
	// Their variables then report CANCELED and are left out of the errors.
	FailFast bool
	// Logger receives a warning per retry; nil discards.
	Logger *slog.Logger
}

// Backoff is the retry schedule: Initial, doubled each attempt, at most Max.
type Backoff struct {
	Initial, Max time.Duration
}

func (b Backoff) delay(attempt int) time.Duration {
	d, maxD := b.Initial, b.Max
	if d <= 0 {
		d = 100 * time.Millisecond
	}
	if maxD <= 0 {
		maxD = 2 * time.Second
	}
	for i := 1; i < attempt && d < maxD; i++ {
		d *= 2
	}
	d = min(d, maxD)
	return d/2 + rand.N(d/2+1)
}

// Result is the outcome for one request.
type Result struct {
	Request
	Value    Secret        // the value, when Err is nil and Removed is false
	Removed  bool          // optional and missing: the variable is left out
	Version  string        // the version the store reported, if any
	Stamp    string        // the value's stamp for change detection (see Watcher), never logged
	Lease    *Lease        // the lease of a dynamic secret, if any
	Duration time.Duration // the fetch's duration, shared by deduplicated variables
	Attempts int           // fetch attempts made
	Err      *VarError     // the failure, naming the variable
	// Vars are the variables an env-from request gives (Request.EnvFrom),
	// when Err is nil and Removed is false.
	Vars []EnvVar
}

type fetch struct {
	key      Reference
	required bool // some variable needs it (not optional)
	payload  Payload
	err      error
	dur      time.Duration
	attempts int
}

var errFailFast = errors.New("not fetched: another variable failed")

// Resolve fetches every request and returns one Result per request, in the
// same order, and the failures (one *VarError per failed variable, in that
// order). It fails closed: a variable fails unless its value was fetched,
// selected and holds no NUL byte, or it is optional and missing.
func (r *Resolver) Resolve(ctx context.Context, reqs []Request) ([]Result, []error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	fetches := map[Reference]*fetch{}
	byProvider := map[string][]*fetch{}
	var order []string
	for _, q := range reqs {
		k := q.Ref.FetchKey()
		if f := fetches[k]; f != nil {
			f.required = f.required || !q.Ref.Optional
			continue
		}
		f := &fetch{key: k, required: !q.Ref.Optional}
		fetches[k] = f
		if byProvider[k.Scheme] == nil {
			order = append(order, k.Scheme)
		}
		byProvider[k.Scheme] = append(byProvider[k.Scheme], f)
	}

	n := r.Concurrency
	if n <= 0 {
		n = 16
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	done := func(fs ...*fetch) {
		if !r.FailFast {
			return
		}
		for _, f := range fs {
			missing := errors.Is(f.err, ErrNotFound) || errors.Is(f.err, ErrKeyNotFound)
			if f.err != nil && !transient(f.err) && !errors.Is(f.err, errFailFast) && (f.required || !missing) {
				cancel(errFailFast)
			}
		}
	}
	for _, scheme := range order {
		fs := byProvider[scheme]
		p := r.Providers[scheme]
		switch bp, batch := p.(BatchProvider); {
		case p == nil:
			for _, f := range fs {
				f.err = fmt.Errorf("%w: no provider for %s references", ErrNotConfigured, scheme)
			}
		case batch && len(fs) > 1:
			wg.Go(func() {
				r.fetchBatch(ctx, sem, bp, fs)
				done(fs...)
			})
		default:
			for _, f := range fs {
				wg.Go(func() {
					r.fetchOne(ctx, sem, p, f)
					done(f)
				})
			}
		}
	}
	wg.Wait()

	results := make([]Result, len(reqs))
	var errs []error
	for i, q := range reqs {
		f := fetches[q.Ref.FetchKey()]
		res := Result{Request: q, Duration: f.dur, Attempts: f.attempts, Version: f.payload.Version, Stamp: f.payload.Stamp, Lease: f.payload.Lease}
		err := f.err
		switch {
		case err == nil && q.EnvFrom:
			res.Vars, err = selectEnvFrom(f.payload, q.Ref)
		case err == nil:
			res.Value, err = Select(f.payload, q.Ref)
		}
		switch {
		case err == nil || errors.Is(err, errFailFast):
		case q.EnvFrom:
			err = fmt.Errorf("item %d: %w", q.Part, err)
		case q.Template != nil:
			err = fmt.Errorf("reference %d in ${…}: %w", q.Part, err)
		}
		if err == nil && bytes.IndexByte(res.Value.Reveal(), 0) >= 0 {
			err = fmt.Errorf("%w: value holds a NUL byte, which an environment variable cannot hold", ErrBadData)
		}
		switch {
		case err == nil:
		case q.Ref.Optional && (errors.Is(err, ErrNotFound) || errors.Is(err, ErrKeyNotFound)) &&
			!(r.KeepSoftDeleted && errors.Is(err, ErrSoftDeleted)):
			res.Removed, res.Value = true, Secret{}
		case errors.Is(err, errFailFast):
			res.Err = varErr(q.Var, err)
		default:
			res.Err = varErr(q.Var, err)
			errs = append(errs, res.Err)
		}
		results[i] = res
	}
	return results, errs
}

// selectEnvFrom returns the variables of an env-from secret: the JSON
// object its selector picks (the whole secret without one).
func selectEnvFrom(p Payload, ref Reference) ([]EnvVar, error) {
	v := p.Value
	if ref.Selector != "" {
		var err error
		if v, err = Select(p, ref); err != nil {
			return nil, err
		}
	}
	return envFromVars(v.Reveal())
}

// Call runs fn and returns its result, or ctx's error as soon as ctx ends:
// work that ignores its context (a blocked read of a FIFO or a dead mount, a
// stuck connection) must not hold the start past the deadline or a signal.
// The abandoned call goes on in its goroutine, holding an OS thread while
// it sits in a system call, until it returns, which may be never. Exec mode
// execs or exits soon after; supervise mode lives as long as the command,
// so what can block for ever must not be called again while it is stuck:
// files are read through ReadFile, which never starts a second read of a
// path whose first read has not returned. The error when ctx ends wraps
// ctx.Err().
func Call[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := fn()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("no answer: %w", ctx.Err())
	}
}

// transient reports whether err is worth another attempt.
func transient(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// acquire takes a slot of sem, or fails when ctx ends first.
func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait sleeps for the backoff of attempt, or returns false when ctx ends
// first.
func (r *Resolver) wait(ctx context.Context, attempt int) bool {
	t := time.NewTimer(r.Backoff.delay(attempt))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// giveUp turns the last transient error into the final one once ctx ended.
func giveUp(ctx context.Context, attempts int, last error) error {
	if errors.Is(context.Cause(ctx), errFailFast) {
		return errFailFast
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("stopped before the secret was fetched: %w", context.Canceled)
	}
	if last == nil {
		return fmt.Errorf("%w: deadline reached before the first attempt", ErrUnavailable)
	}
	if !errors.Is(last, ErrUnavailable) {
		last = fmt.Errorf("%w: %w", ErrUnavailable, last)
	}
	return fmt.Errorf("gave up at the deadline after %d attempts: %w", attempts, last)
}

func (r *Resolver) logRetry(ref Reference, attempt int, err error) {
	if r.Logger != nil {
		r.Logger.Warn("retrying", "code", CodeRetrying, "scheme", ref.Scheme, "path", ref.Path(), "attempt", attempt,
			"cause", CodeOf(err), "error", err.Error())
	}
}

func (r *Resolver) fetchOne(ctx context.Context, sem chan struct{}, p Provider, f *fetch) {
	start := time.Now()
	defer func() { f.dur = time.Since(start) }()
	var last error
	for {
		if acquire(ctx, sem) != nil {
			f.err = giveUp(ctx, f.attempts, last)
			return
		}
		f.attempts++
		var err error
		f.payload, err = Call(ctx, func() (Payload, error) { return p.Fetch(ctx, f.key) })
		<-sem
		if err != nil && ctx.Err() != nil {
			// Report the last real fault rather than the deadline that
			// cut the attempt short, when there was one.
			if last == nil || errors.Is(err, ErrUnavailable) {
				last = err
			}
			f.err = giveUp(ctx, f.attempts, last)
			return
		}
		last = err
		if last == nil || !transient(last) || (r.Attempts > 0 && f.attempts >= r.Attempts) {
			f.err = last
			return
		}
		r.logRetry(f.key, f.attempts, last)
		if !r.wait(ctx, f.attempts) {
			f.err = giveUp(ctx, f.attempts, last)
			return
		}
	}
}

func (r *Resolver) fetchBatch(ctx context.Context, sem chan struct{}, bp BatchProvider, fs []*fetch) {
	start := time.Now()
	pending := fs
	last := map[*fetch]error{}
	finish := func(again []*fetch) {
		for _, f := range again {
			f.err = giveUp(ctx, f.attempts, last[f])
		}
	}
	for attempt := 1; ; attempt++ {
		if acquire(ctx, sem) != nil {
			finish(pending)
			break
		}
		refs := make([]Reference, len(pending))
		for i, f := range pending {
			refs[i] = f.key
			f.attempts++
		}
		res, err := Call(ctx, func() ([]BatchResult, error) { return bp.FetchBatch(ctx, refs), nil })
		<-sem
		if err != nil {
			for _, f := range pending {
				if last[f] == nil {
					last[f] = err
				}
			}
			finish(pending)
			break
		}
		var again []*fetch
		for i, f := range pending {
			var br BatchResult
			if i < len(res) {
				br = res[i]
			} else {
				br.Err = fmt.Errorf("%w: provider returned no result", ErrUnavailable)
			}
			f.dur = time.Since(start)
			if br.Err != nil && (transient(br.Err) || ctx.Err() != nil) {
				last[f] = br.Err
				again = append(again, f)
				continue
			}
			f.payload, f.err = br.Payload, br.Err
		}
		if len(again) == 0 {
			break
		}
		if r.Attempts > 0 && attempt >= r.Attempts {
			for _, f := range again {
				f.err = last[f]
			}
			break
		}
		if ctx.Err() != nil {
			finish(again)
			break
		}
		r.logRetry(again[0].key, attempt, last[again[0]])
		if !r.wait(ctx, attempt) {
			finish(again)
			break
		}
		pending = again
	}
	for _, f := range fs {
		f.dur = time.Since(start)
	}
}
