package awsssm_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
	"github.com/n8n-secrets/n8n-secrets/providers/awsssm"
)

// benchFetch resolves n SecureString parameters through the core's
// resolver with 10 ms of latency on every request, as a process starting
// up does: a new provider (configuration, credentials, connections) each
// time. It reports the requests made per resolution.
func benchFetch(b *testing.B, n int) {
	s := setup(b)
	var refs, values []string
	for i := range n {
		v := canary(fmt.Sprint("bench-", i))
		s.ParameterStore().Put(usEast, fmt.Sprintf("/n8n/bench/p%02d", i), awsfake.SecureString, v)
		refs = append(refs, fmt.Sprintf("awsssm:///n8n/bench/p%02d", i))
		values = append(values, v)
	}
	s.SetDelay(10 * time.Millisecond)
	s.Reset()
	b.ResetTimer()
	for b.Loop() {
		p, err := awsssm.New(awsssm.Config{})
		if err != nil {
			b.Fatal(err)
		}
		res, errs := resolve(b, p, refs...)
		if len(errs) > 0 || value(res[n-1]) != values[n-1] {
			b.Fatal(safe(errs))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(s.TotalCalls())/float64(b.N), "calls/op")
}

func BenchmarkAWSSSM1(b *testing.B)  { benchFetch(b, 1) }
func BenchmarkAWSSSM50(b *testing.B) { benchFetch(b, 50) }
