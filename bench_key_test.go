package main

// Benchmarks of the key's life cycle with the real binary: a rekey of a
// database with 10,000 credentials and 1,000 MFA users (each with a secret
// and ten recovery codes), on SQLite and on a real PostgreSQL, full and
// --rewrap-only; and the time the check before start adds to a start.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
	"github.com/n8n-secrets/n8n-secrets/n8n/cipher"
)

const (
	benchCredentials = 10000
	benchMFAUsers    = 1000
)

// The 2.40 fixtures' data keys (their notes give them).
var benchDEK = map[bool]n8ntest.Encrypter{
	false: {Key: n8ntest.Key, DEKID: "OGmmZ4eY9X4GK7Li", DEK: "991b564a41d79ddea9950394e2ac12532d2c5cf75fa9077339d2e269011c8b56"},
	true:  {Key: n8ntest.Key, DEKID: "obiouo47z8puchLC", DEK: "e2e9c7c5926db3342100b98b963dd4b6d8a549c6ae03b42de8997aaec0680066"},
}

// fillBench adds the benchmark's credentials and MFA users, encrypted
// under the 2.40 fixture's data key as n8n 2.40 writes them.
func fillBench(b *testing.B, c *n8ntest.Conn, enc n8ntest.Encrypter) {
	b.Helper()
	tx, err := c.Begin()
	if err != nil {
		b.Fatal(err)
	}
	gcm := func(pt string) string {
		v, err := cipher.EncryptGCM(enc.DEK, []byte(pt))
		if err != nil {
			b.Fatal(err)
		}
		return enc.DEKID + ":" + v
	}
	qc := fmt.Sprintf(`INSERT INTO credentials_entity ("id", "name", "data", "type") VALUES (%s, %s, %s, %s)`, c.P(1), c.P(2), c.P(3), c.P(4))
	for i := range benchCredentials {
		data := fmt.Sprintf(`{"user":"svc-%d","password":"bench-password-%08d","host":"db-%d.internal","port":5432}`, i, i, i)
		if _, err := tx.Exec(qc, fmt.Sprintf("bench%08d", i), "bench", gcm(data), "postgres"); err != nil {
			b.Fatal(err)
		}
	}
	qu := fmt.Sprintf(`INSERT INTO "user" ("id", "email", "mfaEnabled", "mfaSecret", "mfaRecoveryCodes") VALUES (%s, %s, %s, %s, %s)`, c.P(1), c.P(2), c.P(3), c.P(4), c.P(5))
	for i := range benchMFAUsers {
		codes := make([]byte, 0, 1400)
		for j := range 10 {
			if j > 0 {
				codes = append(codes, ',')
			}
			codes = append(codes, gcm(fmt.Sprintf("%08x-0000-4000-8000-%012x", i, j))...)
		}
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		if _, err := tx.Exec(qu, id, fmt.Sprintf("u%d@bench.test", i), true, gcm("JBSWY3DPEHPK3PXP"+strconv.Itoa(i)), string(codes)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRekey: `rekey --apply` (full: a fresh data key, every value
// re-encrypted) and `rekey --apply --rewrap-only` (deployment_key only),
// on SQLite and PostgreSQL. Peak RSS from one more full run under
// /usr/bin/time.
func BenchmarkRekey(b *testing.B) {
	dir := b.TempDir()
	keyA, keyB := n8ntest.Key, "bench-new-key-9c1e7a5b3d2f0e8c6a4b2d0f8e6c4a2b"
	for name, k := range map[string]string{"key_a": keyA, "key_b": keyB} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(k), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	base := []string{"PATH=" + os.Getenv("PATH"), "N8N_SECRETS_DIR=" + dir, "N8N_SECRETS_LOG_LEVEL=warn", "N8N_SECRETS_TIMEOUT=5m"}
	// A→B, then B→A: every run is a full rekey of the same database.
	args := func(i int, extra ...string) []string {
		from, to := "file:key_a", "file:key_b"
		if i%2 == 1 {
			from, to = to, from
		}
		return append([]string{binPath, "rekey", "--from", from, "--to", to, "--apply"}, extra...)
	}

	b.Run("sqlite", func(b *testing.B) {
		folder, path := n8ntest.CopySQLite(b, n8ntest.SQLite2x)
		c := n8ntest.OpenSQLite(b, path)
		fillBench(b, c, benchDEK[false])
		c.Close()
		env := append(append([]string{}, base...), "HOME="+folder)
		runBench(b, env, args)
	})
	b.Run("postgres", func(b *testing.B) {
		s := pgtest.Start(b)
		n8ntest.RestorePostgres(b, s, n8ntest.Postgres2x, "bench")
		c := n8ntest.OpenPostgres(b, s, "bench")
		fillBench(b, c, benchDEK[true])
		c.Close()
		n8ntest.WaitIdle(b, s, "bench")
		env := append([]string{}, base...)
		for k, v := range n8ntest.PostgresEnv(s, "bench") {
			env = append(env, k+"="+v)
		}
		env = append(env, "HOME="+b.TempDir())
		runBench(b, env, args)
	})
}

func runBench(b *testing.B, env []string, args func(int, ...string) []string) {
	var full, rewrap, fullCPU time.Duration
	i := 0
	for b.Loop() {
		wall, cpu := timedCPU(b, env, args(i)...)
		full += wall
		fullCPU += cpu
		rewrap += timed(b, env, args(i+1, "--rewrap-only")...)
		i += 2
	}
	n := float64(b.N)
	b.ReportMetric(float64(full.Microseconds())/n/1000, "full-ms")
	b.ReportMetric(float64(fullCPU.Microseconds())/n/1000, "full-cpu-ms")
	b.ReportMetric(float64(rewrap.Microseconds())/n/1000, "rewrap-only-ms")
	reportPeakRSS(b, env, args(i)...)
}

// BenchmarkVerifyBeforeStart: exec `true` as n8n with the check before
// start off and on, back to back, against SQLite and a PostgreSQL on
// loopback: the difference is what the check adds to a start.
func BenchmarkVerifyBeforeStart(b *testing.B) {
	tru := truePath(b)
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "key"), []byte(n8ntest.Key), 0o600); err != nil {
		b.Fatal(err)
	}
	base := []string{"PATH=" + os.Getenv("PATH"), "N8N_SECRETS_DIR=" + dir, "N8N_SECRETS_LOG_LEVEL=warn",
		"N8N_ENCRYPTION_KEY=file:key", "N8N_BLOCK_ENV_ACCESS_IN_NODE=true"}
	measure := func(b *testing.B, env []string) {
		off := append(append([]string{}, env...), "N8N_SECRETS_VERIFY_KEY=off")
		on := append(append([]string{}, env...), "N8N_SECRETS_VERIFY_KEY=on")
		var toff, ton time.Duration
		for b.Loop() {
			toff += timed(b, off, binPath, "--", tru)
			ton += timed(b, on, binPath, "--", tru)
		}
		n := float64(b.N)
		b.ReportMetric(float64(toff.Microseconds())/n/1000, "off-ms")
		b.ReportMetric(float64(ton.Microseconds())/n/1000, "on-ms")
		b.ReportMetric(float64((ton-toff).Microseconds())/n/1000, "added-ms")
	}
	b.Run("sqlite", func(b *testing.B) {
		folder, _ := n8ntest.CopySQLite(b, n8ntest.SQLite2x)
		measure(b, append(append([]string{}, base...), "HOME="+folder))
	})
	b.Run("postgres", func(b *testing.B) {
		s := pgtest.Start(b)
		n8ntest.RestorePostgres(b, s, n8ntest.Postgres2x, "start")
		env := append(append([]string{}, base...), "HOME="+b.TempDir())
		for k, v := range n8ntest.PostgresEnv(s, "start") {
			env = append(env, k+"="+v)
		}
		measure(b, env)
	})
}

// timedCPU runs argv and returns its wall time and the CPU time (user and
// system) it used, which a busy machine does not inflate as much.
func timedCPU(b *testing.B, env []string, argv ...string) (time.Duration, time.Duration) {
	b.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v\n%s", argv[0], err, out)
	}
	return d, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}
