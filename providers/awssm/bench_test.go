package awssm_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/providers/awssm"
)

// benchFetch resolves n secrets through the core's resolver with 10 ms of
// latency on every request, as a process starting up does: a new provider
// (configuration, credentials, connections) each time. It reports the
// requests made per resolution.
func benchFetch(b *testing.B, n int) {
	s := setup(b)
	var refs, values []string
	for i := range n {
		v := canary(fmt.Sprint("bench-", i))
		s.AddSecret(usEast, fmt.Sprintf("n8n/bench/%02d", i), v)
		refs = append(refs, fmt.Sprintf("awssm://n8n/bench/%02d", i))
		values = append(values, v)
	}
	s.SetDelay(10 * time.Millisecond)
	s.Reset()
	b.ResetTimer()
	for b.Loop() {
		p, err := awssm.New(awssm.Options{})
		if err != nil {
			b.Fatal(err)
		}
		res, errs := resolve(b, p, refs...)
		if len(errs) > 0 || value(res[n-1]) != values[n-1] {
			b.Fatal(errs)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(s.TotalCalls())/float64(b.N), "calls/op")
}

func BenchmarkAWSSM1(b *testing.B)  { benchFetch(b, 1) }
func BenchmarkAWSSM50(b *testing.B) { benchFetch(b, 50) }
