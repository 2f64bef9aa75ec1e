package gcpsm

import (
	"fmt"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/gcpsmfake"
)

// benchResolve resolves n secrets through the core's resolver with 10 ms
// of latency on every request, as a process starting up does: a new
// provider each time (the key file read, a token fetched, connections
// opened). Secret Manager has no batch read: one access per secret, in
// parallel. It reports the requests per resolution.
func benchResolve(b *testing.B, n int) {
	w := newWorld(b)
	var reqs []inject.Request
	for i := range n {
		w.fake.AddVersion(fmt.Sprintf("%s/bench-%02d", project, i), fmt.Appendf(nil, "value-%d", i))
		reqs = append(reqs, inject.Request{Var: fmt.Sprintf("V%d", i), Ref: inject.Reference{Scheme: Scheme, Loc: refOf(fmt.Sprintf("bench-%02d", i))}})
	}
	w.fake.Grant(saPrin, gcpsmfake.RoleAccessor, project)
	w.fake.SetDelay(10 * time.Millisecond)
	var sent int64
	for b.Loop() {
		p := w.provider(b)
		r := &inject.Resolver{Providers: map[string]inject.Provider{Scheme: store{p}}}
		res, errs := r.Resolve(ctxT(b), reqs)
		if len(errs) > 0 || string(res[n-1].Value.Reveal()) != fmt.Sprintf("value-%d", n-1) {
			b.Fatal(errs)
		}
		sent += p.Requests()
	}
	b.ReportMetric(float64(sent)/float64(b.N), "requests/op")
}

func BenchmarkGCPSM1(b *testing.B)  { benchResolve(b, 1) }
func BenchmarkGCPSM50(b *testing.B) { benchResolve(b, 50) }

func BenchmarkParseRef(b *testing.B) {
	for b.Loop() {
		if _, err := ParseRef("projects/n8n-prod-4711/secrets/n8n-encryption-key/versions/3", nil); err != nil {
			b.Fatal(err)
		}
	}
}
