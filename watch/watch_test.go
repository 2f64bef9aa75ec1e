package watch

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// store is a fake backend: values and versions by path, leases handed out
// by fetches. Small structs, no mocking framework.
type store struct {
	mu       sync.Mutex
	values   map[string]string
	versions map[string]int
	fetches  int
	leaseTTL int // seconds; 0: no leases
	leaseN   int
	renew    func(l inject.Lease) (inject.Lease, error)
	revoked  []string
	closed   bool
	watchErr error
	cred     func(relogin bool) (*inject.Lease, error)
	relogins int
}

func newStore(values map[string]string) *store {
	s := &store{values: values, versions: map[string]int{}}
	for p := range values {
		s.versions[p] = 1
	}
	return s
}

func (s *store) put(path, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[path] = v
	s.versions[path]++
}

// plain only fetches.
type plain struct{ *store }

func (p plain) Fetch(_ context.Context, ref inject.Reference) (inject.Payload, error) {
	s := p.store
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches++
	v, ok := s.values[ref.Path]
	if !ok {
		return inject.Payload{}, fmt.Errorf("fake: %w", inject.ErrNotFound)
	}
	pl := inject.Payload{Value: inject.NewSecret([]byte(v)), Version: fmt.Sprint(s.versions[ref.Path])}
	if s.leaseTTL > 0 {
		s.leaseN++
		pl.Lease = &inject.Lease{ID: fmt.Sprintf("lease-%d", s.leaseN), Duration: s.leaseTTL, Renewable: true}
	}
	return pl, nil
}

// watching fetches and tells versions.
type watching struct{ plain }

func (w watching) Watch(_ context.Context, refs []inject.Reference) []inject.WatchResult {
	s := w.store
	s.mu.Lock()
	defer s.mu.Unlock()
	res := make([]inject.WatchResult, len(refs))
	for i, ref := range refs {
		switch v, ok := s.versions[ref.Path]; {
		case s.watchErr != nil:
			res[i].Err = s.watchErr
		case !ok:
			res[i].Err = fmt.Errorf("fake: %w", inject.ErrNotFound)
		default:
			res[i].Stamp = fmt.Sprint(v)
		}
	}
	return res
}

// leasing fetches secrets with leases, and renews and revokes them.
type leasing struct{ plain }

func (l leasing) Renew(_ context.Context, lease inject.Lease) (inject.Lease, error) {
	return l.store.renew(lease)
}

func (l leasing) Revoke(_ context.Context, lease inject.Lease) error {
	l.store.mu.Lock()
	defer l.store.mu.Unlock()
	l.store.revoked = append(l.store.revoked, lease.ID)
	return nil
}

func (l leasing) RenewCredential(_ context.Context, relogin bool) (*inject.Lease, error) {
	if relogin {
		l.store.relogins++
	}
	if l.store.cred == nil {
		return nil, nil
	}
	return l.store.cred(relogin)
}

func (l leasing) Close(context.Context) error {
	l.store.closed = true
	return nil
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) count(code string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), `"code":"`+code+`"`)
}

// keeper resolves the variables (name → reference) with p and returns a
// Keeper over the result.
func keeper(t *testing.T, p inject.Provider, lead time.Duration, vars ...string) (*Keeper, *logBuffer) {
	t.Helper()
	var reqs []inject.Request
	for i := 0; i < len(vars); i += 2 {
		ref, err := inject.ParseReference(vars[i+1])
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, inject.Request{Var: vars[i], Ref: ref})
	}
	providers := map[string]inject.Provider{inject.SchemeVault: p}
	res, errs := (&inject.Resolver{Providers: providers}).Resolve(context.Background(), reqs)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return New(Options{Providers: providers, Requests: reqs, Timeout: 5 * time.Second, Lead: lead, Logger: log}, res), logs
}

func values(set *Set) map[string]string {
	m := map[string]string{}
	for _, r := range set.Results {
		m[r.Var] = string(r.Value.Reveal())
	}
	return m
}

func TestChangedByVersions(t *testing.T) {
	s := newStore(map[string]string{"a": "1", "b": "2"})
	k, logs := keeper(t, watching{plain{s}}, 0, "A", "vault://a", "B", "vault://b", "B2", "vault://b")
	ctx := context.Background()
	if c := k.Changed(ctx); c != nil {
		t.Fatalf("nothing changed, got %+v", c)
	}
	fetches := s.fetches
	s.put("b", "3")
	c := k.Changed(ctx)
	if c == nil || !slices.Equal(c.Vars, []string{"B", "B2"}) {
		t.Fatalf("change %+v, want B and B2", c)
	}
	if s.fetches != fetches {
		t.Error("watching fetched values")
	}
	// Not acknowledged (refused): reported again, logged once.
	if c := k.Changed(ctx); c == nil || logs.count(CodeSecretChanged) != 1 {
		t.Errorf("a refused change: %+v, %d SECRET_CHANGED", c, logs.count(CodeSecretChanged))
	}
	set, errs := k.Resolve(ctx, nil)
	if len(errs) > 0 || values(set)["B"] != "3" || values(set)["A"] != "1" {
		t.Fatalf("resolve: %v", errs)
	}
	k.Acknowledge(set)
	if c := k.Changed(ctx); c != nil {
		t.Errorf("acknowledged, still reported: %+v", c)
	}
	// A store that cannot be asked: no change, one warning until it recovers.
	s.watchErr = fmt.Errorf("fake: %w", inject.ErrUnavailable)
	k.Changed(ctx)
	k.Changed(ctx)
	s.watchErr = nil
	k.Changed(ctx)
	if logs.count(CodeWatchFailed) != 2 || logs.count(CodeWatchRecovered) != 2 {
		t.Errorf("%d SECRET_WATCH_FAILED, %d recovered: want one per secret each", logs.count(CodeWatchFailed), logs.count(CodeWatchRecovered))
	}
}

func TestChangedByFetching(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    func(*store) inject.Provider
		code string
	}{
		{"no watcher", func(s *store) inject.Provider { return plain{s} }, ""},
		{"watch denied", func(s *store) inject.Provider {
			s.watchErr = fmt.Errorf("fake: %w", inject.ErrPermission)
			return watching{plain{s}}
		}, CodeWatchDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(map[string]string{"a": "1"})
			k, logs := keeper(t, tc.p(s), 0, "A", "vault://a")
			ctx := context.Background()
			if c := k.Changed(ctx); c != nil {
				t.Fatalf("nothing changed, got %+v", c)
			}
			// A new version with the same value is no change here.
			s.put("a", "1")
			if c := k.Changed(ctx); c != nil {
				t.Errorf("same value, got %+v", c)
			}
			s.put("a", "2")
			if c := k.Changed(ctx); c == nil || !slices.Equal(c.Vars, []string{"A"}) {
				t.Errorf("new value: %+v", c)
			}
			if tc.code != "" && logs.count(tc.code) != 1 {
				t.Errorf("%d %s events, want 1", logs.count(tc.code), tc.code)
			}
		})
	}
}

func TestLeasesRenewedThenFetchedAnewThenRevoked(t *testing.T) {
	s := newStore(map[string]string{"db": "u1"})
	s.leaseTTL = 1
	renewals := 0
	s.renew = func(l inject.Lease) (inject.Lease, error) {
		renewals++
		if renewals < 2 {
			return inject.Lease{ID: l.ID, Duration: 1, Renewable: true}, nil
		}
		return inject.Lease{ID: l.ID, Duration: 1, Renewable: false}, nil // at the maximum TTL
	}
	k, logs := keeper(t, leasing{plain{s}}, 0, "USER", "vault://db", "PW", "vault://db")
	ctx := context.Background()
	var exp *Expiry
	for i := 0; i < 20 && exp == nil; i++ {
		time.Sleep(time.Until(k.Due()))
		exp = k.Renew(ctx)
	}
	if exp == nil || exp.Reason != "lease" || !slices.Equal(exp.Vars, []string{"PW", "USER"}) {
		t.Fatalf("expiry %+v", exp)
	}
	if renewals != 2 || logs.count(CodeLeaseRenewed) != 1 || logs.count(CodeLeaseMaxTTL) != 1 {
		t.Errorf("%d renewals, %d LEASE_RENEWED, %d LEASE_MAX_TTL", renewals, logs.count(CodeLeaseRenewed), logs.count(CodeLeaseMaxTTL))
	}
	// A rotation of another secret keeps a healthy lease; the expiry
	// fetches it anew.
	s.put("db", "u2")
	fetches := s.fetches
	set, errs := k.Resolve(ctx, exp.Keys)
	if len(errs) > 0 || values(set)["USER"] != "u2" || s.fetches != fetches+1 {
		t.Fatalf("refetch: %v, %d fetches", errs, s.fetches-fetches)
	}
	k.Propose(set)
	if due := k.Due(); !due.IsZero() && due.Before(time.Now().Add(300*time.Millisecond)) {
		t.Error("the replaced lease is still reported")
	}
	k.Adopt(ctx, set)
	if !slices.Equal(s.revoked, []string{"lease-1"}) {
		t.Errorf("revoked %v, want the old lease", s.revoked)
	}
	// A healthy lease is carried over by a resolution for another reason.
	fetches = s.fetches
	set2, _ := k.Resolve(ctx, nil)
	if s.fetches != fetches || !slices.Equal(set2.leases, []string{"lease-2"}) {
		t.Errorf("a healthy lease was fetched again (%d fetches, leases %v)", s.fetches-fetches, set2.leases)
	}
	k.Drop(ctx, set2)
	if len(s.revoked) != 1 {
		t.Errorf("dropping a set revoked a lease the command uses: %v", s.revoked)
	}
	k.Close(ctx)
	if !slices.Equal(s.revoked, []string{"lease-1", "lease-2"}) || !s.closed {
		t.Errorf("close: revoked %v, provider closed %v", s.revoked, s.closed)
	}
}

func TestLeaseLostIsFetchedAtOnce(t *testing.T) {
	s := newStore(map[string]string{"db": "u1"})
	s.leaseTTL = 1
	s.renew = func(l inject.Lease) (inject.Lease, error) {
		return l, fmt.Errorf("fake: %w", inject.ErrNotFound)
	}
	k, logs := keeper(t, leasing{plain{s}}, 0, "USER", "vault://db")
	var exp *Expiry
	for i := 0; i < 5 && exp == nil; i++ {
		time.Sleep(time.Until(k.Due()))
		exp = k.Renew(context.Background())
	}
	if exp == nil || logs.count(CodeLeaseLost) != 1 || time.Until(exp.Deadline) > 0 {
		t.Errorf("expiry %+v, %d LEASE_LOST: want an expiry due now", exp, logs.count(CodeLeaseLost))
	}
}

func TestCredentialRenewedThenReplaced(t *testing.T) {
	s := newStore(map[string]string{"db": "u1", "kv": "v"})
	s.leaseTTL = 60
	calls := 0
	s.cred = func(relogin bool) (*inject.Lease, error) {
		calls++
		if calls == 1 {
			return &inject.Lease{Duration: 1, Renewable: true}, nil
		}
		if relogin {
			return &inject.Lease{Duration: 60, Renewable: true}, nil
		}
		return &inject.Lease{Duration: 1, Renewable: false}, nil
	}
	s.renew = func(l inject.Lease) (inject.Lease, error) { return l, nil }
	k, logs := keeper(t, leasing{plain{s}}, 0, "USER", "vault://db")
	ctx := context.Background()
	var exp *Expiry
	for i := 0; i < 20 && exp == nil; i++ {
		time.Sleep(time.Until(k.Due()))
		exp = k.Renew(ctx)
	}
	if exp == nil || exp.Reason != "credential" || !slices.Equal(exp.Vars, []string{"USER"}) || s.relogins != 1 {
		t.Fatalf("expiry %+v after %d logins: want the leased secret fetched anew", exp, s.relogins)
	}
	for _, code := range []string{CodeCredentialRenewed, CodeCredentialMaxTTL, CodeCredentialRelogin} {
		if logs.count(code) != 1 {
			t.Errorf("%d %s events, want 1", logs.count(code), code)
		}
	}
	// A credential that cannot be replaced: one error, no more attempts.
	s2 := newStore(map[string]string{"kv": "v"})
	s2.cred = func(relogin bool) (*inject.Lease, error) {
		if relogin {
			return nil, fmt.Errorf("fake: %w", inject.ErrNotRenewable)
		}
		return &inject.Lease{Duration: 1, Renewable: false}, nil
	}
	k2, logs2 := keeper(t, leasing{plain{s2}}, 0, "KV", "vault://kv")
	for i := 0; i < 5 && !k2.Due().IsZero(); i++ {
		time.Sleep(time.Until(k2.Due()))
		k2.Renew(ctx)
	}
	if logs2.count(CodeCredentialExpiring) != 1 || !k2.Due().IsZero() {
		t.Errorf("%d CREDENTIAL_EXPIRING, due %v: want one, then nothing due", logs2.count(CodeCredentialExpiring), k2.Due())
	}
}

func TestLeadBringsTheReportForward(t *testing.T) {
	k := &Keeper{opts: Options{Lead: 90 * time.Second}}
	for _, tc := range []struct{ left, atMost time.Duration }{
		{time.Hour, 45 * time.Minute},                     // two thirds
		{3 * time.Minute, 3*time.Minute - 90*time.Second}, // the lead
		{time.Minute, 0},                                  // at once
	} {
		if got := k.refetchIn(tc.left); got > tc.atMost || got < 0 {
			t.Errorf("refetchIn(%v) = %v, want at most %v", tc.left, got, tc.atMost)
		}
	}
}

func TestValueStampIgnoresOtherKeys(t *testing.T) {
	a := inject.Reference{Scheme: "vault", Path: "a"}
	b := inject.Reference{Scheme: "vault", Path: "b"}
	r := func(key inject.Reference, v string) inject.Result {
		return inject.Result{Request: inject.Request{Var: "V" + key.Path, Ref: key}, Value: inject.NewSecret([]byte(v))}
	}
	if valueStamp(a, []inject.Result{r(a, "1"), r(b, "x")}) != valueStamp(a, []inject.Result{r(a, "1"), r(b, "y")}) {
		t.Error("another secret's value changed the stamp")
	}
	if valueStamp(a, []inject.Result{r(a, "1")}) == valueStamp(a, []inject.Result{r(a, "2")}) {
		t.Error("a new value kept the stamp")
	}
}
