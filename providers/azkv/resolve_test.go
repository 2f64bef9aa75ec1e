package azkv

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/azkvfake"
)

// resolve runs the core's resolver over azkv references, with fast
// backoff, under timeout.
func resolve(t *testing.T, p *Provider, timeout time.Duration, refs ...string) ([]inject.Result, []error) {
	t.Helper()
	var reqs []inject.Request
	for i, s := range refs {
		ref, err := testStores.Parse(s)
		if err != nil {
			t.Fatalf("reference %d: %v", i, err)
		}
		reqs = append(reqs, inject.Request{Var: fmt.Sprintf("VAR_%d", i), Ref: ref})
	}
	r := &inject.Resolver{Providers: map[string]inject.Provider{Scheme: store{p}}, Backoff: inject.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return r.Resolve(ctx, reqs)
}

func TestResolveWithSelector(t *testing.T) {
	f := newFixture(t)
	f.srv.SetSecret(testVault, "db", `{"user":"n8n","password":"pw-1"}`)
	res, errs := resolve(t, f.p, 10*time.Second, "azkv://"+testVault+"/db#password", "azkv://"+testVault+"/db#user")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := string(res[0].Value.Reveal()); got != "pw-1" {
		t.Errorf("#password gave %q", got)
	}
	if got := string(res[1].Value.Reveal()); got != "n8n" {
		t.Errorf("#user gave %q", got)
	}
	if n := f.srv.CountOp("GetSecret"); n != 2 { // the challenge, then the read
		t.Errorf("GetSecret requests: %d, want 2 (one secret read once)", n)
	}
}

func TestThrottledThenRecovered(t *testing.T) {
	f := newFixture(t)
	f.srv.SetSecret(testVault, "key", "k")
	// Prime the client (challenge and token), then throttle.
	if _, err := f.p.FetchRef(ctxT(t), mustRef(t, testVault+"/key", nil)); err != nil {
		t.Fatal(err)
	}
	f.srv.Throttle(2, 1)
	res, errs := resolve(t, f.p, 10*time.Second, "azkv://"+testVault+"/key")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if res[0].Attempts != 3 || string(res[0].Value.Reveal()) != "k" {
		t.Fatalf("attempts %d, value ok %v; want 3 attempts (two throttled)", res[0].Attempts, string(res[0].Value.Reveal()) == "k")
	}
	// One attempt, one request: the SDK did not retry on its own.
	throttled := 0
	for _, c := range f.srv.Calls() {
		if c.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled != 2 {
		t.Errorf("429 answers: %d, want 2", throttled)
	}
}

func TestUnavailable(t *testing.T) {
	t.Run("Key Vault answers 503 until the deadline", func(t *testing.T) {
		f := newFixture(t)
		f.srv.SetSecret(testVault, "key", "k")
		if _, err := f.p.FetchRef(ctxT(t), mustRef(t, testVault+"/key", nil)); err != nil {
			t.Fatal(err)
		}
		f.srv.FailNext(azkvfake.TargetVault, 1_000_000, http.StatusServiceUnavailable)
		_, errs := resolve(t, f.p, 300*time.Millisecond, "azkv://"+testVault+"/key")
		if len(errs) != 1 || inject.CodeOf(errs[0]) != inject.CodeProviderUnavailable || inject.CodeOf(errs[0]).Exit() != 69 {
			t.Fatalf("errors %v, want one PROVIDER_UNAVAILABLE (69)", errs)
		}
		t.Log(errs[0])
	})
	t.Run("the token endpoint answers 503", func(t *testing.T) {
		f := newFixture(t)
		f.srv.SetSecret(testVault, "key", "k")
		f.srv.FailNext(azkvfake.TargetToken, 2, http.StatusServiceUnavailable)
		res, errs := resolve(t, f.p, 10*time.Second, "azkv://"+testVault+"/key")
		if len(errs) > 0 {
			t.Fatalf("not recovered: %v", errs)
		}
		if res[0].Attempts != 3 {
			t.Errorf("attempts %d, want 3 (two 503s of the token endpoint retried)", res[0].Attempts)
		}
	})
	t.Run("nothing answers for the vault's host", func(t *testing.T) {
		f := newFixture(t, "AZURE_KEYVAULT_DNS_SUFFIX", "vault.unreachable.test")
		_, err := f.p.FetchRef(ctxT(t), mustRef(t, testVault+"/key", nil))
		if inject.CodeOf(err) != inject.CodeProviderUnavailable {
			t.Fatalf("error %v, want PROVIDER_UNAVAILABLE", err)
		}
		t.Log(err)
	})
}

// TestRequestCount: five secrets of one vault, resolved concurrently, cost
// one challenge, one tenant discovery, one token and five reads.
func TestRequestCount(t *testing.T) {
	f := newFixture(t)
	var refs []string
	for i := range 5 {
		name := fmt.Sprintf("s%d", i)
		f.srv.SetSecret(testVault, name, "v")
		refs = append(refs, "azkv://"+testVault+"/"+name)
	}
	if _, errs := resolve(t, f.p, 10*time.Second, refs...); len(errs) > 0 {
		t.Fatal(errs)
	}
	calls := f.srv.Calls()
	if got := f.p.Requests(); got != int64(len(calls)) || got != 8 {
		for _, c := range calls {
			t.Log(c.Op, c.Status, c.Auth)
		}
		t.Fatalf("Requests() %d, the fake saw %d; want 8 (1 challenge + 1 tenant discovery + 1 token + 5 reads)", got, len(calls))
	}
}
