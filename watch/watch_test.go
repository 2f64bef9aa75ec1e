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
	"github.com/n8n-secrets/n8n-secrets/providers"
)

// store is a fake backend: values and versions by path, leases handed out
// by fetches. Small structs, no mocking framework.
type store struct {
	mu        sync.Mutex
	values    map[string]string
	versions  map[string]int
	fetches   int
	leaseTTL  int // seconds; 0: no leases
	leaseN    int
	renew     func(l inject.Lease) (inject.Lease, error)
	revoked   []string
	closed    bool
	watchErr  error
	watched   [][]string // the paths of each Watch call
	fetchErr  map[string]error
	fetched   []string
	cred      func(relogin bool) (*inject.Lease, error)
	relogins  int
	renewals  int
	revokeErr error
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

func (s *store) fetchedPaths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.fetched
	s.fetched = nil
	return out
}

func (p plain) Fetch(_ context.Context, ref inject.Reference) (inject.Payload, error) {
	s := p.store
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches++
	s.fetched = append(s.fetched, ref.Path())
	if err := s.fetchErr[ref.Path()]; err != nil {
		return inject.Payload{}, err
	}
	v, ok := s.values[ref.Path()]
	if !ok {
		return inject.Payload{}, fmt.Errorf("fake: %w", inject.ErrNotFound)
	}
	pl := inject.Payload{Value: inject.NewSecret([]byte(v)), Version: fmt.Sprint(s.versions[ref.Path()])}
	if s.leaseTTL > 0 {
		// A dynamic secret: new credentials with each lease.
		s.leaseN++
		pl.Lease = &inject.Lease{ID: fmt.Sprintf("lease-%d", s.leaseN), Duration: s.leaseTTL, Renewable: true}
		pl.Value = inject.NewSecret(fmt.Appendf(nil, "%s-%d", v, s.leaseN))
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
	var paths []string
	for _, ref := range refs {
		paths = append(paths, ref.Path())
	}
	s.watched = append(s.watched, paths)
	for i, ref := range refs {
		switch v, ok := s.versions[ref.Path()]; {
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
	l.store.mu.Lock()
	l.store.renewals++
	l.store.mu.Unlock()
	return l.store.renew(lease)
}

func (l leasing) Revoke(_ context.Context, lease inject.Lease) error {
	l.store.mu.Lock()
	defer l.store.mu.Unlock()
	l.store.revoked = append(l.store.revoked, lease.ID)
	return l.store.revokeErr
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
		ref, err := providers.Stores.Parse(vars[i+1])
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, inject.Request{Var: vars[i], Ref: ref})
	}
	providers := map[string]inject.Provider{"vault": p}
	res, errs := (&inject.Resolver{Providers: providers}).Resolve(context.Background(), reqs)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return New(Options{Providers: providers, Requests: reqs, Timeout: 5 * time.Second, Lead: lead, Logger: log,
		Backoff: Backoff{Min: 200 * time.Millisecond, Max: time.Second}}, res), logs
}

func values(set *Set) map[string]string {
	m := map[string]string{}
	for _, r := range set.Results {
		if !r.Removed {
			m[r.Var] = string(r.Value.Reveal())
		}
	}
	return m
}

// apply adopts the keeper's target, as a restart with it would.
func apply(k *Keeper) {
	set := k.Target(nil)
	k.Propose(set)
	k.Adopt(context.Background(), set, "rotation", true)
}

func TestOnlyChangedSecretsAreFetched(t *testing.T) {
	s := newStore(map[string]string{"a": "1", "b": "2", "c": "3"})
	k, logs := keeper(t, watching{plain{s}}, 0, "A", "vault://a", "B", "vault://b", "B2", "vault://b", "C", "vault://c")
	ctx := context.Background()
	s.fetchedPaths()
	if c := k.Refresh(ctx); c != nil {
		t.Fatalf("nothing changed, got %+v", c)
	}
	s.put("b", "3")
	c := k.Refresh(ctx)
	if c == nil || !slices.Equal(c.Vars, []string{"B", "B2"}) {
		t.Fatalf("change %+v, want B and B2", c)
	}
	// One metadata read per secret; only the changed secret is read.
	if got := s.fetchedPaths(); !slices.Equal(got, []string{"b"}) {
		t.Errorf("fetched %v, want only b", got)
	}
	if v := values(k.Target(nil)); v["B"] != "3" || v["A"] != "1" {
		t.Errorf("target %v", v)
	}
	if v := values(k.Applied()); v["B"] != "2" {
		t.Errorf("applied %v: changed before it was adopted", v)
	}
	// Seen once: not reported again, not fetched again.
	if c := k.Refresh(ctx); c != nil || len(s.fetchedPaths()) != 0 || logs.count(CodeSecretChanged.Name()) != 1 {
		t.Errorf("a pending change: %+v, %d SECRET_CHANGED", c, logs.count(CodeSecretChanged.Name()))
	}
	apply(k)
	if v := values(k.Applied()); v["B"] != "3" || k.Snapshot().Applied["rotation"] != 1 {
		t.Errorf("applied %v, snapshot %+v", v, k.Snapshot().Applied)
	}
	// A new version with the same value: reported as same, nothing to do.
	s.put("a", "1")
	if c := k.Refresh(ctx); c == nil || len(c.Vars) != 0 || !slices.Equal(c.Same, []string{"A"}) {
		t.Errorf("same value: %+v", c)
	}
}

// TestRevertClearsThePendingValue: A→B, then B→A before B was applied:
// the target is the command's value again, and the round says which
// variables returned.
func TestRevertClearsThePendingValue(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    func(*store) inject.Provider
	}{
		{"versions", func(s *store) inject.Provider { return watching{plain{s}} }},
		{"compared by fetching", func(s *store) inject.Provider { return plain{s} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(map[string]string{"a": "A"})
			k, _ := keeper(t, tc.p(s), 0, "V", "vault://a")
			ctx := context.Background()
			s.put("a", "B")
			if c := k.Refresh(ctx); c == nil || !slices.Equal(c.Vars, []string{"V"}) || values(k.Target(nil))["V"] != "B" {
				t.Fatalf("A→B: %+v", c)
			}
			if k.Snapshot().Secrets[0].State != "pending" {
				t.Errorf("state %q, want pending", k.Snapshot().Secrets[0].State)
			}
			s.put("a", "A")
			if c := k.Refresh(ctx); c == nil || !slices.Equal(c.Vars, []string{"V"}) || values(k.Target(nil))["V"] != "A" {
				t.Fatalf("B→A: %+v, target %v", c, values(k.Target(nil)))
			}
			if k.Snapshot().Secrets[0].State != "current" {
				t.Errorf("state %q, want current", k.Snapshot().Secrets[0].State)
			}
		})
	}
}

// TestFailingSecretKeepsItsValueAndBacksOff: a secret whose new version
// does not resolve keeps its last good value, is logged once, is fetched
// again only on its backoff, and does not hold up another secret's
// change.
func TestFailingSecretKeepsItsValueAndBacksOff(t *testing.T) {
	s := newStore(map[string]string{"a": "1", "b": "2"})
	k, logs := keeper(t, watching{plain{s}}, 0, "A", "vault://a", "B", "vault://b")
	ctx := context.Background()
	s.put("a", "2")
	s.fetchErr = map[string]error{"a": fmt.Errorf("fake: %w: version deleted", inject.ErrNotFound)}
	s.put("b", "3")
	c := k.Refresh(ctx)
	if c == nil || !slices.Equal(c.Vars, []string{"B"}) {
		t.Fatalf("change %+v: want B, whatever A does", c)
	}
	if v := values(k.Target(nil)); v["A"] != "1" || v["B"] != "3" {
		t.Errorf("target %v: A keeps its last good value, B has its new one", v)
	}
	snap := k.Snapshot()
	if snap.Secrets[0].State != "failing" || snap.Secrets[0].ErrorCode != inject.CodeSecretNotFound || snap.Errors["SECRET_NOT_FOUND"] != 1 {
		t.Errorf("snapshot %+v", snap.Secrets[0])
	}
	s.fetchedPaths()
	for range 5 {
		k.Refresh(ctx)
	}
	if got := s.fetchedPaths(); len(got) != 0 {
		t.Errorf("fetched %v before the backoff ended", got)
	}
	if logs.count("SECRET_NOT_FOUND") != 1 || logs.count(CodeUpdateRefused.Name()) != 1 {
		t.Errorf("%d SECRET_NOT_FOUND, %d UPDATE_REFUSED: want one each", logs.count("SECRET_NOT_FOUND"), logs.count(CodeUpdateRefused.Name()))
	}
	time.Sleep(250 * time.Millisecond)
	k.Refresh(ctx)
	if got := s.fetchedPaths(); !slices.Equal(got, []string{"a"}) {
		t.Errorf("fetched %v after the backoff, want a", got)
	}
	// A newer version is fetched at once, backoff or not.
	s.fetchErr = nil
	s.put("a", "5")
	if c := k.Refresh(ctx); c == nil || values(k.Target(nil))["A"] != "5" || logs.count(CodeSecretRecovered.Name()) != 1 {
		t.Errorf("recovery: %+v, %d SECRET_RECOVERED", c, logs.count(CodeSecretRecovered.Name()))
	}
}

// TestStoreOutageCostsOneRequestPerBackoffStep: while a store does not
// answer, it is asked again on its backoff only, about one secret (a
// probe), and the outage is logged once.
func TestStoreOutageCostsOneRequestPerBackoffStep(t *testing.T) {
	s := newStore(map[string]string{"a": "1", "b": "2", "c": "3"})
	k, logs := keeper(t, watching{plain{s}}, 0, "A", "vault://a", "B", "vault://b", "C", "vault://c")
	ctx := context.Background()
	s.watchErr = fmt.Errorf("fake: %w: connection refused", inject.ErrUnavailable)
	deadline := time.Now().Add(2 * time.Second)
	rounds := 0
	for time.Now().Before(deadline) {
		k.Refresh(ctx)
		rounds++
		time.Sleep(20 * time.Millisecond)
	}
	asked := 0
	for i, w := range s.watched {
		asked += len(w)
		if i > 0 && len(w) != 1 {
			t.Errorf("watch %d asked about %v during the outage: want one probe", i, w)
		}
	}
	// Backoff 200 ms doubling to 1 s: about 4 steps in 2 s, against a
	// round every 20 ms.
	if len(s.watched) > 6 || rounds < 50 {
		t.Errorf("%d watch calls (%d secrets asked) in %d rounds", len(s.watched), asked, rounds)
	}
	if logs.count(CodeWatchFailed.Name()) < 1 || strings.Count(logs.b.String(), `"level":"WARN","msg":"the store does not answer`) != 1 {
		t.Errorf("want one warning for the outage:\n%s", logs.b.String())
	}
	s.watchErr = nil
	time.Sleep(time.Second)
	s.watched = nil
	k.Refresh(ctx)
	if len(s.watched) != 2 || len(s.watched[0]) != 1 || len(s.watched[1]) != 2 || logs.count(CodeWatchRecovered.Name()) != 1 {
		t.Errorf("after the outage: watched %v, %d recovered", s.watched, logs.count(CodeWatchRecovered.Name()))
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
		}, CodeWatchDenied.Name()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(map[string]string{"a": "1"})
			k, logs := keeper(t, tc.p(s), 0, "A", "vault://a")
			ctx := context.Background()
			if c := k.Refresh(ctx); c != nil {
				t.Fatalf("nothing changed, got %+v", c)
			}
			s.put("a", "2")
			if c := k.Refresh(ctx); c == nil || !slices.Equal(c.Vars, []string{"A"}) {
				t.Errorf("new value: %+v", c)
			}
			if tc.code != "" && logs.count(tc.code) != 1 {
				t.Errorf("%d %s events, want 1", logs.count(tc.code), tc.code)
			}
		})
	}
}

// TestInvalidTokenIsNotADenial: a watch refused because the credential
// is no longer valid logs in again and keeps watching versions.
func TestInvalidTokenIsNotADenial(t *testing.T) {
	s := newStore(map[string]string{"a": "1"})
	s.cred = func(bool) (*inject.Lease, error) { return &inject.Lease{Duration: 3600, Renewable: true}, nil }
	s.renew = func(l inject.Lease) (inject.Lease, error) { return l, nil }
	p := &watchLeasing{leasing{plain{s}}}
	k, logs := keeper(t, p, 0, "A", "vault://a")
	ctx := context.Background()
	k.Renew(ctx) // the first renewal of the token
	s.watchErr = fmt.Errorf("fake: %w: invalid token", inject.ErrAuth)
	k.Refresh(ctx)
	if due := k.Due(); time.Until(due) > 100*time.Millisecond {
		t.Errorf("next renewal in %v: want a new login at once", time.Until(due))
	}
	k.Renew(ctx)
	s.watchErr = nil
	s.put("a", "2")
	if c := k.Refresh(ctx); c == nil || s.relogins != 1 || logs.count(CodeWatchDenied.Name()) != 0 {
		t.Errorf("change %+v after %d logins, %d SECRET_WATCH_DENIED", c, s.relogins, logs.count(CodeWatchDenied.Name()))
	}
	if s.fetches != 2 { // the first resolution, the new version
		t.Errorf("%d fetches: the secret was compared by fetching", s.fetches)
	}
}

type watchLeasing struct{ leasing }

func (w *watchLeasing) Watch(ctx context.Context, refs []inject.Reference) []inject.WatchResult {
	return watching{w.plain}.Watch(ctx, refs)
}

func TestLeasesRenewedThenFetchedAnewThenRevoked(t *testing.T) {
	s := newStore(map[string]string{"db": "u1", "kv": "v"})
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
	var c *Change
	for i := 0; i < 20 && c == nil; i++ {
		time.Sleep(time.Until(k.Due()))
		c = k.Renew(ctx)
	}
	if c == nil || c.Reason != "lease" || !slices.Equal(c.Vars, []string{"PW", "USER"}) || c.Deadline.IsZero() {
		t.Fatalf("change %+v", c)
	}
	if renewals != 2 || logs.count(CodeLeaseRenewed.Name()) != 1 || logs.count(CodeLeaseMaxTTL.Name()) != 1 {
		t.Errorf("%d renewals, %d LEASE_RENEWED, %d LEASE_MAX_TTL", renewals, logs.count(CodeLeaseRenewed.Name()), logs.count(CodeLeaseMaxTTL.Name()))
	}
	if v := values(k.Target(nil)); v["USER"] != "u1-2" || k.Target(nil).leases[0] != "lease-2" {
		t.Errorf("target %v %v: want the fresh lease", v, k.Target(nil).leases)
	}
	// The fresh value waits: nothing is fetched again meanwhile.
	fetches := s.fetches
	if due := k.Due(); !due.IsZero() && due.Before(time.Now().Add(300*time.Millisecond)) {
		t.Errorf("something due in %v while the fresh value waits", time.Until(due))
	}
	k.Renew(ctx)
	if s.fetches != fetches {
		t.Error("the leased secret was fetched again while its fresh value waited")
	}
	apply(k)
	if !slices.Equal(s.revoked, []string{"lease-1"}) {
		t.Errorf("revoked %v, want the old lease", s.revoked)
	}
	k.Close(ctx)
	if !slices.Equal(s.revoked, []string{"lease-1", "lease-2"}) || !s.closed {
		t.Errorf("close: revoked %v, provider closed %v", s.revoked, s.closed)
	}
}

// TestLeaseRefetchIgnoresOtherFailures: the re-fetch of a lease at its
// maximum TTL fetches that secret only, whatever the others do, and a
// failing re-fetch creates no lease to revoke.
func TestLeaseRefetchIgnoresOtherFailures(t *testing.T) {
	s := newStore(map[string]string{"db": "u1"})
	s.leaseTTL = 1
	s.renew = func(l inject.Lease) (inject.Lease, error) { return inject.Lease{ID: l.ID, Duration: 1}, nil }
	providers := map[string]inject.Provider{"vault": leasing{plain{s}}}
	k, _ := keeper(t, providers["vault"], 0, "USER", "vault://db", "OTHER", "vault://other?optional=true")
	s.fetchedPaths()
	// OTHER exists no more, and reading it fails for good.
	s.fetchErr = map[string]error{"other": fmt.Errorf("fake: %w", inject.ErrPermission)}
	ctx := context.Background()
	var c *Change
	for i := 0; i < 20 && c == nil; i++ {
		time.Sleep(time.Until(k.Due()))
		c = k.Renew(ctx)
	}
	if c == nil || !slices.Equal(c.Vars, []string{"USER"}) || slices.Contains(s.fetchedPaths(), "other") {
		t.Fatalf("change %+v", c)
	}
}

func TestLeaseLostIsFetchedAtOnce(t *testing.T) {
	s := newStore(map[string]string{"db": "u1"})
	s.leaseTTL = 1
	s.renew = func(l inject.Lease) (inject.Lease, error) {
		return l, fmt.Errorf("fake: %w", inject.ErrNotFound)
	}
	k, logs := keeper(t, leasing{plain{s}}, 0, "USER", "vault://db")
	var c *Change
	for i := 0; i < 5 && c == nil; i++ {
		time.Sleep(time.Until(k.Due()))
		c = k.Renew(context.Background())
	}
	if c == nil || logs.count(CodeLeaseLost.Name()) != 1 || time.Until(c.Deadline) > 0 {
		t.Errorf("change %+v, %d LEASE_LOST: want one due now", c, logs.count(CodeLeaseLost.Name()))
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
	var c *Change
	for i := 0; i < 20 && c == nil; i++ {
		time.Sleep(time.Until(k.Due()))
		c = k.Renew(ctx)
	}
	if c == nil || c.Reason != "credential" || !slices.Equal(c.Vars, []string{"USER"}) || s.relogins != 1 {
		t.Fatalf("change %+v after %d logins: want the leased secret fetched anew", c, s.relogins)
	}
	for _, code := range []string{CodeCredentialRenewed.Name(), CodeCredentialMaxTTL.Name(), CodeCredentialRelogin.Name()} {
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
	if logs2.count(CodeCredentialExpiring.Name()) != 1 || !k2.Due().IsZero() {
		t.Errorf("%d CREDENTIAL_EXPIRING, due %v: want one, then nothing due", logs2.count(CodeCredentialExpiring.Name()), k2.Due())
	}
}

// TestFailedLoginsBackOff: a credential that cannot be renewed nor
// replaced is tried again on a growing backoff, and the failure is
// logged once.
func TestFailedLoginsBackOff(t *testing.T) {
	s := newStore(map[string]string{"kv": "v"})
	var at []time.Time
	s.cred = func(relogin bool) (*inject.Lease, error) {
		at = append(at, time.Now())
		return nil, fmt.Errorf("fake: %w: connection refused", inject.ErrUnavailable)
	}
	k, logs := keeper(t, leasing{plain{s}}, 0, "KV", "vault://kv")
	ctx := context.Background()
	end := time.Now().Add(2500 * time.Millisecond)
	for time.Now().Before(end) {
		if d := time.Until(k.Due()); d > 0 {
			time.Sleep(min(d, time.Until(end)))
		}
		if time.Now().Before(end) {
			k.Renew(ctx)
		}
	}
	// 200 ms doubling to 1 s: about 5 attempts in 2.5 s, not 2500.
	if len(at) > 7 || len(at) < 3 {
		t.Errorf("%d attempts in 2.5 s", len(at))
	}
	if n := strings.Count(logs.b.String(), `"level":"WARN","msg":"renewing the store's login credential failed`); n != 1 {
		t.Errorf("%d warnings, want 1", n)
	}
	if k.Snapshot().Credentials[0].Failures != len(at) {
		t.Errorf("snapshot %+v", k.Snapshot().Credentials)
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

func TestBackoff(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 5 * time.Minute}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 20: 5 * time.Minute} {
		for range 100 {
			if d := b.delay(n); d > want || d < want*3/4 {
				t.Fatalf("delay(%d) = %v, want within [%v, %v]", n, d, want*3/4, want)
			}
		}
	}
}

// TestRevocationLoggedAsItWent: LEASE_REVOKED only when the store
// accepted the revocation; a deferred one (the lease ends with the login
// token) and a failed one say so.
func TestRevocationLoggedAsItWent(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
	}{
		{nil, CodeLeaseRevoked.Name()},
		{fmt.Errorf("fake: %w", inject.ErrRevokeDeferred), CodeLeaseRevokeDeferred.Name()},
		{fmt.Errorf("fake: %w", inject.ErrNotFound), CodeLeaseGone.Name()},
		{fmt.Errorf("fake: %w", inject.ErrPermission), CodeLeaseRevokeFailed.Name()},
	} {
		s := newStore(map[string]string{"db": "u"})
		s.leaseTTL = 60
		s.revokeErr = tc.err
		k, logs := keeper(t, leasing{plain{s}}, 0, "USER", "vault://db")
		k.Close(context.Background())
		for _, code := range []string{CodeLeaseRevoked.Name(), CodeLeaseRevokeDeferred.Name(), CodeLeaseGone.Name(), CodeLeaseRevokeFailed.Name()} {
			if want := map[bool]int{true: 1}[code == tc.code]; logs.count(code) != want {
				t.Errorf("revoke error %v: %d %s events, want %d", tc.err, logs.count(code), code, want)
			}
		}
	}
}

// TestSnapshotReadWhileRoundsRun: a metrics endpoint reads the snapshot
// from its own goroutine while the worker runs rounds, with no lock (the
// race detector checks), and sees each secret's state and failures.
func TestSnapshotReadWhileRoundsRun(t *testing.T) {
	s := newStore(map[string]string{"a": "1", "b": "2"})
	k, _ := keeper(t, watching{plain{s}}, 0, "A", "vault://a", "B", "vault://b")
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				done <- n
				return
			default:
			}
			snap := k.Snapshot()
			for _, st := range snap.Secrets {
				n += len(st.Vars) + len(st.State)
			}
			n += snap.Errors["SECRET_NOT_FOUND"]
		}
	}()
	ctx := context.Background()
	for i := range 50 {
		s.put("a", fmt.Sprint(i))
		if i == 25 {
			s.fetchErr = map[string]error{"b": fmt.Errorf("fake: %w", inject.ErrNotFound)}
			s.put("b", "x")
		}
		k.Refresh(ctx)
	}
	close(stop)
	if <-done == 0 {
		t.Error("the reader saw nothing")
	}
	snap := k.Snapshot()
	if snap.Rounds != 50 || snap.Secrets[0].State != "pending" || snap.Secrets[1].State != "failing" ||
		snap.Secrets[1].ErrorCode != inject.CodeSecretNotFound || snap.Secrets[1].NextRetry.IsZero() {
		t.Errorf("snapshot %+v", snap)
	}
}

// TestEndedLeaseRefetchBacksOff: the re-fetch of a leased secret that
// keeps failing past the lease's end (the store is down) follows the
// backoff, not a retry every half second, and LEASE_REFETCH is logged
// once for the lease.
func TestEndedLeaseRefetchBacksOff(t *testing.T) {
	s := newStore(map[string]string{"db": "u"})
	s.leaseTTL = 1
	s.renew = func(l inject.Lease) (inject.Lease, error) { return inject.Lease{ID: l.ID, Duration: 1}, nil }
	k, logs := keeper(t, leasing{plain{s}}, 0, "USER", "vault://db")
	k.opts.Backoff = Backoff{Min: 2 * time.Second, Max: 10 * time.Second}
	s.fetchErr = map[string]error{"db": fmt.Errorf("fake: %w: connection refused", inject.ErrUnavailable)}
	ctx := context.Background()
	end := time.Now().Add(8 * time.Second)
	s.fetchedPaths()
	for time.Now().Before(end) {
		if d := time.Until(k.Due()); d > 0 {
			time.Sleep(min(d, time.Until(end)))
		}
		if time.Now().Before(end) {
			k.Renew(ctx)
		}
	}
	// The lease ends after 1 s: retries before then at most every quarter
	// of what is left (at least 0.5 s), then 2 s, 4 s: about 5, not 16.
	if n := len(s.fetchedPaths()); n > 7 || n < 2 {
		t.Errorf("%d fetches in 8 s", n)
	}
	if n := strings.Count(logs.b.String(), `"level":"INFO","msg":"fetching new values before the leases`); n != 1 {
		t.Errorf("%d LEASE_REFETCH at info, want 1", n)
	}
}
