package main

// Benchmarks of supervise mode, with the real binary, the real Vault and
// this test binary as the long-running command (serveChild).

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/syncbuf"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/vaulttest"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// cpuTime returns the user plus system time pid has used, from
// /proc/<pid>/stat (all its threads).
func cpuTime(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// After the command name: state is field 3 of the line, utime 14, stime 15.
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// onCPU returns the time pid's threads have spent on a CPU, in
// nanoseconds, from the scheduler's accounting (/proc/<pid>/task/*/schedstat):
// exact, where /proc/<pid>/stat samples at each clock tick (10 ms), which
// a process that wakes for a millisecond every few seconds makes noisy.
// Threads that exited are not counted (the Go runtime keeps its threads).
func onCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(files) == 0 {
		b.Fatalf("no schedstat for %d: %v", pid, err)
	}
	var total int64
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue // a thread that just exited
		}
		ns, _ := strconv.ParseInt(strings.Fields(string(raw))[0], 10, 64)
		total += ns
	}
	return time.Duration(total)
}

// peakRSS returns VmHWM of pid, in MiB: its own high-water mark since it
// was exec'd (the memory of the command, a process of its own, not counted).
func peakRSS(b *testing.B, pid int) float64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kib / 1024
		}
	}
	b.Fatal("no VmHWM")
	return 0
}

// superviseBench starts the binary in supervise mode with env and waits
// for the command to run.
func superviseBench(b *testing.B, env []string) *supervised {
	b.Helper()
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	out := b.TempDir() + "/child.jsonl"
	r := &supervised{out: out, stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(binPath, "--", self)
	r.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir(), "E2E_CHILD_OUT=" + out,
		"N8N_SECRETS_MODE=supervise", "E2E_CHILD_MODE=serve", "E2E_CHILD_EXIT=0", "N8N_SECRETS_N8N=off"}, env...)
	r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
	r.cmd.WaitDelay = 5 * time.Second
	if err := r.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() {
		_ = r.cmd.Wait()
		r.code = r.cmd.ProcessState.ExitCode()
		close(r.done)
	}()
	b.Cleanup(func() {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			_ = r.cmd.Process.Kill()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for len(r.starts()) == 0 {
		if time.Now().After(deadline) {
			b.Fatalf("the command did not start\n%s", r.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

// vault50 starts a Vault with 50 KV v2 secrets on 50 paths, and 5 paths
// of 10 keys each, and returns the variables that reference each set,
// with the settings that reach it.
func vault50(b *testing.B) (v *vaulttest.Server, paths50, paths5 []string) {
	v = vaulttest.Start(b)
	v.MountKV("secret", 2)
	base := []string{"VAULT_ADDR=" + v.Addr, "VAULT_TOKEN=" + v.RootToken, "N8N_SECRETS_LOG_LEVEL=warn"}
	paths50, paths5 = slices.Clone(base), slices.Clone(base)
	group := map[string]any{}
	for i := range 50 {
		value := fmt.Sprintf("value-%02d-%s", i, strings.Repeat("x", 32))
		v.PutKV(fmt.Sprintf("secret/bench/s%02d", i), map[string]any{"password": value})
		paths50 = append(paths50, fmt.Sprintf("SECRET_%02d=vault://secret/bench/s%02d#password", i, i))
		group[fmt.Sprintf("k%d", i%10)] = value
		if i%10 == 9 {
			v.PutKV(fmt.Sprintf("secret/group/g%d", i/10), group)
			group = map[string]any{}
		}
		paths5 = append(paths5, fmt.Sprintf("SECRET_%02d=vault://secret/group/g%d#k%d", i, i/10, i%10))
	}
	return v, paths50, paths5
}

// BenchmarkSuperviseIdle: the supervisor's CPU and peak RSS while the
// command idles, with 50 Vault KV v2 secrets refreshed every 5 s: on 50
// paths (50 metadata reads a refresh) and on 5 paths of 10 keys (5 reads),
// against the 50 paths with no refresh, side by side over the same window
// (a minute; N8N_SECRETS_BENCH_WINDOW changes it). CPU comes from the
// scheduler's accounting (idle-cpu-%) and from the tick-sampled times of
// /proc/<pid>/stat (idle-cpu-ticks-%), RSS from VmHWM of /proc/<pid>/status.
func BenchmarkSuperviseIdle(b *testing.B) {
	window := time.Minute
	if w, err := time.ParseDuration(os.Getenv("N8N_SECRETS_BENCH_WINDOW")); err == nil && w > 0 {
		window = w
	}
	_, paths50, paths5 := vault50(b)
	for b.Loop() {
		runs := []*supervised{
			superviseBench(b, append(paths50, "N8N_SECRETS_REFRESH=5s")),
			superviseBench(b, append(paths5, "N8N_SECRETS_REFRESH=5s")),
			superviseBench(b, append(paths50, "N8N_SECRETS_REFRESH=0")),
		}
		time.Sleep(time.Second) // past the start and the first renewal round
		var pids []int
		var before []time.Duration
		for _, r := range runs {
			pids = append(pids, r.cmd.Process.Pid)
			before = append(before, onCPU(b, r.cmd.Process.Pid))
		}
		ticks := cpuTime(b, pids[0])
		start := time.Now()
		time.Sleep(window)
		elapsed := time.Since(start).Seconds()
		pct := func(i int) float64 { return 100 * (onCPU(b, pids[i]) - before[i]).Seconds() / elapsed }
		b.ReportMetric(pct(0), "idle-cpu-%")
		b.ReportMetric(pct(1), "idle-cpu-5paths-%")
		b.ReportMetric(pct(2), "idle-cpu-norefresh-%")
		b.ReportMetric(100*(cpuTime(b, pids[0])-ticks).Seconds()/elapsed, "idle-cpu-ticks-%")
		b.ReportMetric(peakRSS(b, pids[0]), "peak-rss-MiB")
		for _, r := range runs {
			_ = r.cmd.Process.Signal(syscall.SIGTERM)
			<-r.done
		}
	}
}

// BenchmarkSuperviseRestart: from writing a new KV v2 version to the
// restarted command, with splay 0 and a 200 ms refresh (which bounds the
// detection); since-change-ms is the part from the change seen to the new
// command started (resolution, the guard, TERM, the old command's exit,
// the new start).
func BenchmarkSuperviseRestart(b *testing.B) {
	v, env, _ := vault50(b)
	r := superviseBench(b, append(env, "N8N_SECRETS_REFRESH=200ms", "N8N_SECRETS_SPLAY=0s", "N8N_SECRETS_LOG_LEVEL=info"))
	var total time.Duration
	var sinceChange float64
	n := 0
	for b.Loop() {
		n++
		want := len(r.starts()) + 1
		start := time.Now()
		v.PutKV("secret/bench/s07", map[string]any{"password": fmt.Sprintf("rotated-%d", n)})
		for len(r.starts()) < want {
			if time.Since(start) > 30*time.Second {
				b.Fatalf("no restart\n%s", r.stderr.String())
			}
			time.Sleep(2 * time.Millisecond)
		}
		total += time.Since(start)
	}
	for _, ev := range r.logEvents("CHILD_RESTARTED") {
		if ms, ok := ev["since_change_ms"].(float64); ok {
			sinceChange += ms
		}
	}
	b.ReportMetric(float64(total.Microseconds())/float64(n)/1000, "write-to-restart-ms")
	b.ReportMetric(sinceChange/float64(n), "since-change-ms")
}
