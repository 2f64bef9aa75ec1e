package main

// Benchmarks of the real binary. Each iteration measures the things to be
// compared back to back (direct exec and wrapped exec; one secret and
// fifty), so that their ratio comes from the same moment on a noisy
// machine; `make bench` runs them several times and benchstat reports the
// medians.
//
// Peak RSS is measured in one extra run through /usr/bin/time, not from
// the rusage of the runs above: Go starts a child with vfork, and Linux
// then charges the parent's (this test binary's) high-water mark to the
// child when it execs, which would report the test binary's memory.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/testproxy"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/vaulttest"
)

// timed runs argv with env and returns its wall time.
func timed(b *testing.B, env []string, argv ...string) time.Duration {
	b.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v\n%s", argv[0], err, out)
	}
	return d
}

// reportPeakRSS runs argv once under /usr/bin/time and reports the
// process's maximum resident set (Linux keeps it across execve, so it
// covers the injector before it exec'd). Without /usr/bin/time it reports
// nothing.
func reportPeakRSS(b *testing.B, env []string, argv ...string) {
	b.Helper()
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		b.Log("no /usr/bin/time: peak RSS not measured")
		return
	}
	f := filepath.Join(b.TempDir(), "rss")
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", f}, argv...)...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s: %v\n%s", argv[0], err, out)
	}
	raw, err := os.ReadFile(f)
	if err != nil {
		b.Fatal(err)
	}
	kib, err := strconv.ParseFloat(strings.TrimSpace(string(raw)), 64)
	if err != nil {
		b.Fatalf("/usr/bin/time: %q", raw)
	}
	b.ReportMetric(kib/1024, "peak-rss-MiB")
}

func truePath(b *testing.B) string {
	p, err := exec.LookPath("true")
	if err != nil {
		b.Skip("no true command")
	}
	return p
}

// BenchmarkOverhead: the wrapper with no references against exec-ing the
// command directly.
func BenchmarkOverhead(b *testing.B) {
	tru := truePath(b)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir(), "N8N_SECRETS_LOG_LEVEL=warn"}
	var direct, wrapped time.Duration
	for b.Loop() {
		direct += timed(b, env, tru)
		wrapped += timed(b, env, binPath, "--", tru)
	}
	n := float64(b.N)
	b.ReportMetric(float64(direct.Microseconds())/n/1000, "direct-ms")
	b.ReportMetric(float64(wrapped.Microseconds())/n/1000, "wrapped-ms")
	b.ReportMetric(float64((wrapped-direct).Microseconds())/n/1000, "overhead-ms")
	reportPeakRSS(b, env, binPath, "--", tru)
}

// BenchmarkFileRefs100: 100 file: references, resolved and exec'd.
func BenchmarkFileRefs100(b *testing.B) {
	tru := truePath(b)
	dir := b.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir(), "N8N_SECRETS_LOG_LEVEL=warn", "N8N_SECRETS_DIR=" + dir}
	for i := range 100 {
		name := fmt.Sprintf("s%03d", i)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(`{"password":"value-`+name+`"}`+"\n"), 0o600); err != nil {
			b.Fatal(err)
		}
		env = append(env, fmt.Sprintf("SECRET_%03d=file:%s#password", i, name))
	}
	var total time.Duration
	for b.Loop() {
		total += timed(b, env, binPath, "--", tru)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "wall-ms")
	reportPeakRSS(b, env, binPath, "--", tru)
}

// BenchmarkVault50vs1: 50 variables on 50 paths against one variable,
// through a proxy that adds 10 ms to every request to a real Vault: over
// plain HTTP/1.1 (one connection per request in flight), and over TLS with
// HTTP/2, as a production Vault is reached (requests share a connection).
func BenchmarkVault50vs1(b *testing.B) {
	tru := truePath(b)
	v := vaulttest.Start(b)
	v.MountKV("secret", 2)
	for i := range 50 {
		v.PutKV(fmt.Sprintf("secret/bench/s%02d", i), map[string]any{"password": fmt.Sprintf("value-%02d", i)})
	}
	for _, tc := range []struct {
		name string
		px   *testproxy.Proxy
	}{
		{"http1", testproxy.New(b, v.Addr, 10*time.Millisecond)},
		{"https-h2", testproxy.NewTLS(b, v.Addr, 10*time.Millisecond)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			px := tc.px
			base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir(), "N8N_SECRETS_LOG_LEVEL=warn",
				"N8N_SECRETS_N8N=off", "VAULT_ADDR=" + px.URL, "VAULT_TOKEN=" + v.RootToken}
			if px.CAFile != "" {
				base = append(base, "VAULT_CACERT="+px.CAFile)
			}
			one := append(append([]string{}, base...), "SECRET_00=vault://secret/bench/s00#password")
			fifty := append([]string{}, base...)
			for i := range 50 {
				fifty = append(fifty, fmt.Sprintf("SECRET_%02d=vault://secret/bench/s%02d#password", i, i))
			}
			var t1, t50 time.Duration
			var req1, req50 int64
			for b.Loop() {
				px.Reset()
				t1 += timed(b, one, binPath, "--", tru)
				req1 += px.Count()
				px.Reset()
				t50 += timed(b, fifty, binPath, "--", tru)
				req50 += px.Count()
			}
			n := float64(b.N)
			b.ReportMetric(float64(t1.Microseconds())/n/1000, "one-ms")
			b.ReportMetric(float64(t50.Microseconds())/n/1000, "fifty-ms")
			b.ReportMetric(float64(t50)/float64(t1), "ratio")
			b.ReportMetric(float64(req1)/n, "one-requests")
			b.ReportMetric(float64(req50)/n, "fifty-requests")
			reportPeakRSS(b, fifty, binPath, "--", tru)
		})
	}
}
