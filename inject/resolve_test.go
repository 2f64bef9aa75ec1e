package inject

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeProvider serves secrets from a map. It counts fetches per path, can
// fail transiently a number of times, block, and records the highest
// number of fetches in flight at once.
type fakeProvider struct {
	mu       sync.Mutex
	values   map[string]string // path -> value
	objects  bool              // answer as a key-value store
	fails    map[string]int    // path -> transient failures left
	perm     map[string]error  // path -> permanent error
	delay    time.Duration
	calls    map[string]int
	inFlight atomic.Int64
	maxSeen  atomic.Int64
}

func newFake(values map[string]string) *fakeProvider {
	return &fakeProvider{values: values, fails: map[string]int{}, perm: map[string]error{}, calls: map[string]int{}}
}

func (f *fakeProvider) Fetch(ctx context.Context, ref Reference) (Payload, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxSeen.Load()
		if n <= m || f.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	f.calls[ref.Path()]++
	fail := f.fails[ref.Path()]
	if fail > 0 {
		f.fails[ref.Path()]--
	}
	perm := f.perm[ref.Path()]
	v, ok := f.values[ref.Path()]
	f.mu.Unlock()
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return Payload{}, fmt.Errorf("fake: %w", ctx.Err())
		}
	}
	switch {
	case perm != nil:
		return Payload{}, perm
	case fail > 0 || fail < 0:
		return Payload{}, fmt.Errorf("fake: read %s: 503: %w", ref.Path(), ErrUnavailable)
	case !ok:
		return Payload{}, fmt.Errorf("fake: read %s: %w", ref.Path(), ErrNotFound)
	}
	return Payload{Value: NewSecret([]byte(v)), Object: f.objects, Version: "1"}, nil
}

func (f *fakeProvider) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path]
}

func req(t *testing.T, name, ref string) Request {
	t.Helper()
	r, err := parseRef(ref)
	if err != nil {
		t.Fatal(err)
	}
	return Request{Var: name, Ref: r}
}

func fastBackoff() Backoff { return Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond} }

func TestResolveDedupesFetches(t *testing.T) {
	f := newFake(map[string]string{"secret/n8n/core": `{"encryption_key":"k1","jwt":"j1"}`, "secret/db": `{"password":"p"}`})
	f.objects = true
	r := &Resolver{Providers: map[string]Provider{"vault": f}, Backoff: fastBackoff()}
	reqs := []Request{
		req(t, "N8N_ENCRYPTION_KEY", "vault://secret/n8n/core#encryption_key"),
		req(t, "N8N_JWT", "vault://secret/n8n/core#jwt"),
		req(t, "AGAIN", "vault://secret/n8n/core#jwt"),
		req(t, "OPT", "vault://secret/n8n/core?optional=true#encryption_key"),
		req(t, "DB", "vault://secret/db"),
	}
	res, errs := r.Resolve(context.Background(), reqs)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if n := f.count("secret/n8n/core"); n != 1 {
		t.Errorf("secret/n8n/core fetched %d times, want 1", n)
	}
	want := []string{"k1", "j1", "j1", "k1", "p"}
	for i, w := range want {
		if got := string(res[i].Value.Reveal()); got != w || res[i].Var != reqs[i].Var {
			t.Errorf("result %d (%s): wrong value", i, res[i].Var)
		}
	}
}

func TestResolveConcurrencyBound(t *testing.T) {
	values := map[string]string{}
	var reqs []Request
	for i := range 40 {
		p := fmt.Sprintf("s/%d", i)
		values[p] = "v"
		reqs = append(reqs, req(t, fmt.Sprintf("V%d", i), "vault://"+p))
	}
	f := newFake(values)
	f.delay = 20 * time.Millisecond
	r := &Resolver{Providers: map[string]Provider{"vault": f}, Concurrency: 5}
	if _, errs := r.Resolve(context.Background(), reqs); len(errs) > 0 {
		t.Fatal(errs)
	}
	if m := f.maxSeen.Load(); m != 5 {
		t.Errorf("max fetches in flight = %d, want exactly the bound 5", m)
	}
}

// barrierProvider answers only once n fetches are in flight together, so
// it succeeds only when the resolver runs them concurrently.
type barrierProvider struct {
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (p *barrierProvider) Fetch(ctx context.Context, ref Reference) (Payload, error) {
	p.mu.Lock()
	p.arrived++
	if p.arrived == p.n {
		close(p.all)
	}
	p.mu.Unlock()
	select {
	case <-p.all:
		return Payload{Value: NewSecret([]byte("v"))}, nil
	case <-time.After(10 * time.Second):
		return Payload{}, fmt.Errorf("only %d of %d fetches ran at once", p.arrived, p.n)
	}
}

func TestResolveRunsConcurrently(t *testing.T) {
	var reqs []Request
	for i := range 10 {
		reqs = append(reqs, req(t, fmt.Sprintf("V%d", i), fmt.Sprintf("vault://s/%d", i)))
	}
	p := &barrierProvider{n: 10, all: make(chan struct{})}
	r := &Resolver{Providers: map[string]Provider{"vault": p}}
	if _, errs := r.Resolve(context.Background(), reqs); len(errs) > 0 {
		t.Fatalf("fetches did not run concurrently: %v", errs[0])
	}
}

func TestResolveRetriesTransient(t *testing.T) {
	f := newFake(map[string]string{"s/a": "va"})
	f.fails["s/a"] = 3
	r := &Resolver{Providers: map[string]Provider{"vault": f}, Backoff: fastBackoff()}
	res, errs := r.Resolve(context.Background(), []Request{req(t, "A", "vault://s/a")})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if res[0].Attempts != 4 || f.count("s/a") != 4 || string(res[0].Value.Reveal()) != "va" {
		t.Errorf("attempts %d, calls %d; want 4 and the value", res[0].Attempts, f.count("s/a"))
	}
}

func TestResolvePermanentFailsAtOnce(t *testing.T) {
	f := newFake(map[string]string{})
	f.perm["s/denied"] = fmt.Errorf("fake: read s/denied: %w", ErrPermission)
	r := &Resolver{Providers: map[string]Provider{"vault": f}, Backoff: fastBackoff()}
	res, errs := r.Resolve(context.Background(), []Request{req(t, "D", "vault://s/denied"), req(t, "M", "vault://s/missing")})
	if len(errs) != 2 {
		t.Fatalf("errs = %v, want 2", errs)
	}
	if f.count("s/denied") != 1 || f.count("s/missing") != 1 {
		t.Errorf("permanent errors were retried: %d, %d calls", f.count("s/denied"), f.count("s/missing"))
	}
	if res[0].Err.Code != CodePermissionDenied || res[1].Err.Code != CodeSecretNotFound {
		t.Errorf("codes %s, %s", res[0].Err.Code, res[1].Err.Code)
	}
	if !strings.HasPrefix(errs[0].Error(), "D: ") || !strings.HasPrefix(errs[1].Error(), "M: ") {
		t.Errorf("errors must name the variable: %v", errs)
	}
}

func TestResolveDeadline(t *testing.T) {
	f := newFake(map[string]string{"s/a": "v"})
	f.fails["s/a"] = -1 // for ever
	r := &Resolver{Providers: map[string]Provider{"vault": f}, Backoff: Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	res, errs := r.Resolve(ctx, []Request{req(t, "A", "vault://s/a")})
	if len(errs) != 1 || res[0].Err.Code != CodeProviderUnavailable || ExitCodeOf(errs) != 69 {
		t.Fatalf("errs = %v, want one PROVIDER_UNAVAILABLE", errs)
	}
	if res[0].Attempts < 3 {
		t.Errorf("only %d attempts before the deadline", res[0].Attempts)
	}
	if !strings.Contains(errs[0].Error(), "gave up at the deadline") {
		t.Errorf("message %q", errs[0])
	}
}

func TestResolveCanceled(t *testing.T) {
	f := newFake(map[string]string{"s/a": "v"})
	f.delay = time.Minute
	r := &Resolver{Providers: map[string]Provider{"vault": f}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	res, errs := r.Resolve(ctx, []Request{req(t, "A", "vault://s/a")})
	if len(errs) != 1 || res[0].Err.Code != CodeCanceled {
		t.Fatalf("errs = %v, want CANCELED", errs)
	}
}

func TestResolveFailClosedAndOptional(t *testing.T) {
	f := newFake(map[string]string{"s/obj": `{"a":"1"}`})
	r := &Resolver{Providers: map[string]Provider{"vault": f}}
	res, errs := r.Resolve(context.Background(), []Request{
		req(t, "OPT_MISSING", "vault://s/none?optional=true"),
		req(t, "OPT_KEY", "vault://s/obj?optional=true#b"),
		req(t, "REQ_KEY", "vault://s/obj#b"),
		req(t, "OK", "vault://s/obj#a"),
		req(t, "NOPROVIDER", "awssm://x"),
	})
	if !res[0].Removed || !res[1].Removed || res[0].Err != nil || res[1].Err != nil {
		t.Errorf("optional missing secret/key must be removed without error: %+v %+v", res[0].Err, res[1].Err)
	}
	if res[2].Err == nil || res[2].Err.Code != CodeKeyNotFound {
		t.Errorf("required missing key: %v", res[2].Err)
	}
	if res[4].Err == nil || res[4].Err.Code != CodeNotConfigured {
		t.Errorf("unconfigured scheme: %v", res[4].Err)
	}
	if len(errs) != 2 {
		t.Errorf("errs = %v, want 2", errs)
	}
}

func TestResolveNULByte(t *testing.T) {
	f := newFake(map[string]string{"s/nul": "a\x00b"})
	r := &Resolver{Providers: map[string]Provider{"vault": f}}
	_, errs := r.Resolve(context.Background(), []Request{req(t, "N", "vault://s/nul")})
	if len(errs) != 1 || CodeOf(errs[0]) != CodeBadData || !strings.Contains(errs[0].Error(), "NUL") {
		t.Fatalf("errs = %v", errs)
	}
}

func TestResolveFailFast(t *testing.T) {
	f := newFake(map[string]string{})
	f.perm["s/denied"] = fmt.Errorf("fake: %w", ErrPermission)
	slow := newFake(map[string]string{"x": "v"})
	slow.delay = time.Minute
	r := &Resolver{Providers: map[string]Provider{"vault": f, "awssm": slow}, FailFast: true}
	start := time.Now()
	res, errs := r.Resolve(context.Background(), []Request{req(t, "D", "vault://s/denied"), req(t, "S", "awssm://x")})
	if time.Since(start) > 30*time.Second {
		t.Fatal("fail fast did not stop the slow fetch")
	}
	if len(errs) != 1 || CodeOf(errs[0]) != CodePermissionDenied {
		t.Fatalf("errs = %v, want only the permission error", errs)
	}
	if res[1].Err == nil {
		t.Fatal("the canceled variable must not look resolved")
	}
}

// fakeBatch is a BatchProvider over fakeProvider that records batch sizes.
type fakeBatch struct {
	*fakeProvider
	mu      sync.Mutex
	batches []int
}

func (b *fakeBatch) FetchBatch(ctx context.Context, refs []Reference) []BatchResult {
	b.mu.Lock()
	b.batches = append(b.batches, len(refs))
	b.mu.Unlock()
	out := make([]BatchResult, len(refs))
	for i, r := range refs {
		out[i].Payload, out[i].Err = b.Fetch(ctx, r)
	}
	return out
}

func TestResolveBatch(t *testing.T) {
	values := map[string]string{}
	var reqs []Request
	for i := range 30 {
		p := fmt.Sprintf("s%d", i)
		values[p] = p
		reqs = append(reqs, req(t, "V"+p, "awssm://"+p), req(t, "W"+p, "awssm://"+p))
	}
	f := newFake(values)
	f.fails["s7"] = 2
	b := &fakeBatch{fakeProvider: f}
	r := &Resolver{Providers: map[string]Provider{"awssm": b}, Backoff: fastBackoff()}
	res, errs := r.Resolve(context.Background(), reqs)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(b.batches) != 3 || b.batches[0] != 30 || b.batches[1] != 1 || b.batches[2] != 1 {
		t.Errorf("batches %v, want [30 1 1]: one call for all, then retries of the transient one", b.batches)
	}
	for i, r := range res {
		if string(r.Value.Reveal()) != r.Ref.Path() {
			t.Errorf("result %d wrong", i)
		}
	}
}

func TestResolveBatchDeadline(t *testing.T) {
	f := newFake(map[string]string{"a": "1", "b": "2"})
	f.fails["b"] = -1
	b := &fakeBatch{fakeProvider: f}
	r := &Resolver{Providers: map[string]Provider{"awssm": b}, Backoff: fastBackoff()}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res, errs := r.Resolve(ctx, []Request{req(t, "A", "awssm://a"), req(t, "B", "awssm://b")})
	if len(errs) != 1 || res[1].Err.Code != CodeProviderUnavailable || res[0].Err != nil {
		t.Fatalf("errs = %v", errs)
	}
	if !errors.Is(res[1].Err, ErrUnavailable) {
		t.Error("final error must wrap ErrUnavailable")
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 10: time.Second} {
		seen := map[time.Duration]bool{}
		for range 50 {
			d := b.delay(attempt)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", attempt, d, want/2, want)
			}
			seen[d] = true
		}
		if len(seen) < 5 {
			t.Errorf("attempt %d: delays not jittered (%d distinct)", attempt, len(seen))
		}
	}
}

// stuckProvider ignores its context and never answers, like a blocked read.
type stuckProvider struct{ release chan struct{} }

func (s stuckProvider) Fetch(context.Context, Reference) (Payload, error) {
	<-s.release
	return Payload{}, nil
}

func TestResolveStuckProviderStopsAtDeadline(t *testing.T) {
	s := stuckProvider{release: make(chan struct{})}
	defer close(s.release)
	r := &Resolver{Providers: map[string]Provider{"file": s}}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan []error, 1)
	go func() {
		_, errs := r.Resolve(ctx, []Request{req(t, "F", "file:fifo")})
		done <- errs
	}()
	select {
	case errs := <-done:
		if len(errs) != 1 || CodeOf(errs[0]) != CodeProviderUnavailable {
			t.Fatalf("errs = %v, want PROVIDER_UNAVAILABLE", errs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Resolve waited for a provider that ignores its context")
	}
}

// TestResolveDeadlineKeepsLastFault: when the deadline cuts an attempt
// short, the error names the last real fault, not just the deadline.
func TestResolveDeadlineKeepsLastFault(t *testing.T) {
	f := newFake(map[string]string{"s/a": "v"})
	f.fails["s/a"] = 1
	slowAfter := &slowSecond{fakeProvider: f}
	r := &Resolver{Providers: map[string]Provider{"vault": slowAfter}, Backoff: fastBackoff()}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, errs := r.Resolve(ctx, []Request{req(t, "A", "vault://s/a")})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "503") || CodeOf(errs[0]) != CodeProviderUnavailable {
		t.Fatalf("errs = %v, want the 503 of the first attempt", errs)
	}
}

// slowSecond fails like its fake the first time, then never answers.
type slowSecond struct {
	*fakeProvider
	n atomic.Int32
}

func (s *slowSecond) Fetch(ctx context.Context, ref Reference) (Payload, error) {
	if s.n.Add(1) == 1 {
		return s.fakeProvider.Fetch(ctx, ref)
	}
	<-ctx.Done()
	return Payload{}, ctx.Err()
}
