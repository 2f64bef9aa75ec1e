package main

// Benchmarks against floors: what of the start-up and of a Vault fetch is
// ours. Each iteration runs the two programs compared back to back, in
// alternating order (interleaved pairs), and the reported times are the
// medians of the pairs of one run, so that a noisy moment on a shared
// machine hits both sides alike.
//
//   - BenchmarkStartFloor: n8n-secrets -- true with no reference, against
//     testdata/floor, a program built here that links the same libraries
//     (so their package initialisation runs as in n8n-secrets) and only
//     execs true. ratio = ours / floor.
//   - BenchmarkVaultOneRoundTrip: one KV v2 secret read with a token,
//     through a proxy adding 10 ms to every request, against the same run
//     with no reference: added-ms is what the secret costs (a token given
//     by the user gets no speculative read, its uses may be limited: two
//     round trips, the lookup then the read, 20 ms, plus at most 10 ms),
//     depth the round trips the proxy saw one after another.

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/testproxy"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/vaulttest"
)

// buildFloor builds testdata/floor as the binary under test is built.
func buildFloor(b *testing.B) string {
	b.Helper()
	out := filepath.Join(b.TempDir(), "floor")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./testdata/floor")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building the floor: %v\n%s", err, msg)
	}
	return out
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// pairs runs a and b once per iteration, alternating which goes first, and
// returns the durations of each.
func pairs(b *testing.B, a, c func() time.Duration) (as, cs []time.Duration) {
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			as = append(as, a())
			cs = append(cs, c())
		} else {
			cs = append(cs, c())
			as = append(as, a())
		}
		i++
	}
	return as, cs
}

func BenchmarkStartFloor(b *testing.B) {
	tru := truePath(b)
	floor := buildFloor(b)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir()}
	fl, ours := pairs(b,
		func() time.Duration { return timed(b, env, floor, tru) },
		func() time.Duration { return timed(b, env, binPath, "--", tru) })
	mf, mo := median(fl), median(ours)
	b.ReportMetric(ms(mf), "floor-ms")
	b.ReportMetric(ms(mo), "ours-ms")
	b.ReportMetric(float64(mo)/float64(mf), "ratio")
}

func BenchmarkVaultOneRoundTrip(b *testing.B) {
	tru := truePath(b)
	v := vaulttest.Start(b)
	v.MountKV("secret", 2)
	v.PutKV("secret/bench/one", map[string]any{"password": "value"})
	for _, tc := range []struct {
		name string
		px   *testproxy.Proxy
	}{
		{"http1", testproxy.New(b, v.Addr, 10*time.Millisecond)},
		{"https-h2", testproxy.NewTLS(b, v.Addr, 10*time.Millisecond)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			px := tc.px
			base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir(), "N8N_SECRETS_N8N=off",
				"VAULT_ADDR=" + px.URL, "VAULT_TOKEN=" + v.RootToken}
			if px.CAFile != "" {
				base = append(base, "VAULT_CACERT="+px.CAFile)
			}
			one := append(slices.Clone(base), "SECRET=vault://secret/bench/one#password")
			depth, requests := 0, 0
			none, with := pairs(b,
				func() time.Duration { return timed(b, base, binPath, "--", tru) },
				func() time.Duration {
					px.Reset()
					d := timed(b, one, binPath, "--", tru)
					log := px.Requests()
					depth, requests = max(depth, testproxy.Depth(log)), max(requests, len(log))
					return d
				})
			mn, mw := median(none), median(with)
			b.ReportMetric(ms(mn), "noref-ms")
			b.ReportMetric(ms(mw), "one-ms")
			b.ReportMetric(ms(mw-mn), "added-ms")
			b.ReportMetric(float64(depth), "depth")
			b.ReportMetric(float64(requests), "requests")
		})
	}
}

// ms returns d in milliseconds, for benchmark metrics.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
