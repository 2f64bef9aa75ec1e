package main

// Benchmarks of the real binary. Each iteration measures the things to be
// compared back to back (direct exec and wrapped exec; one secret and
// fifty), so that their ratio comes from the same moment on a noisy
// machine; `make bench` runs them several times and benchstat reports the
// medians. Peak RSS is the process's maximum resident set, which Linux
// keeps across execve, so it covers the injector before it exec'd.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testproxy"
	"github.com/n8n-secrets/n8n-secrets/internal/vaulttest"
)

// timed runs argv with env and returns its wall time and peak RSS in KiB.
func timed(b *testing.B, env []string, argv ...string) (time.Duration, int64) {
	b.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v\n%s", argv[0], err, out)
	}
	return d, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
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
	var rss int64
	for b.Loop() {
		d, _ := timed(b, env, tru)
		w, r := timed(b, env, binPath, "--", tru)
		direct += d
		wrapped += w
		rss = max(rss, r)
	}
	n := float64(b.N)
	b.ReportMetric(float64(direct.Microseconds())/n/1000, "direct-ms")
	b.ReportMetric(float64(wrapped.Microseconds())/n/1000, "wrapped-ms")
	b.ReportMetric(float64((wrapped-direct).Microseconds())/n/1000, "overhead-ms")
	b.ReportMetric(float64(rss)/1024, "peak-rss-MiB")
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
	var rss int64
	var total time.Duration
	for b.Loop() {
		d, r := timed(b, env, binPath, "--", tru)
		total += d
		rss = max(rss, r)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "wall-ms")
	b.ReportMetric(float64(rss)/1024, "peak-rss-MiB")
}

// BenchmarkVault50vs1: 50 variables on 50 paths against one variable,
// through a proxy that adds 10 ms to every request to a real Vault.
func BenchmarkVault50vs1(b *testing.B) {
	tru := truePath(b)
	v := vaulttest.Start(b)
	v.MountKV("secret", 2)
	for i := range 50 {
		v.PutKV(fmt.Sprintf("secret/bench/s%02d", i), map[string]any{"password": fmt.Sprintf("value-%02d", i)})
	}
	px := testproxy.New(b, v.Addr, 10*time.Millisecond)
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir(), "N8N_SECRETS_LOG_LEVEL=warn",
		"N8N_SECRETS_N8N=off", "VAULT_ADDR=" + px.URL, "VAULT_TOKEN=" + v.RootToken}
	one := append(append([]string{}, base...), "SECRET_00=vault://secret/bench/s00#password")
	fifty := append([]string{}, base...)
	for i := range 50 {
		fifty = append(fifty, fmt.Sprintf("SECRET_%02d=vault://secret/bench/s%02d#password", i, i))
	}
	var t1, t50 time.Duration
	var req1, req50, rss int64
	for b.Loop() {
		px.Reset()
		d, r := timed(b, one, binPath, "--", tru)
		req1 += px.Count()
		t1 += d
		px.Reset()
		d, r2 := timed(b, fifty, binPath, "--", tru)
		req50 += px.Count()
		t50 += d
		rss = max(rss, r, r2)
	}
	n := float64(b.N)
	b.ReportMetric(float64(t1.Microseconds())/n/1000, "one-ms")
	b.ReportMetric(float64(t50.Microseconds())/n/1000, "fifty-ms")
	b.ReportMetric(float64(t50)/float64(t1), "ratio")
	b.ReportMetric(float64(req1)/n, "one-requests")
	b.ReportMetric(float64(req50)/n, "fifty-requests")
	b.ReportMetric(float64(rss)/1024, "peak-rss-MiB")
}
