package main

// The downtime window of an encryption-key rotation, with the real n8n
// (internal/testenv/n8nreal) on a real PostgreSQL holding 1,000 credentials n8n
// itself wrote. A window is what rotate-key.sh does between stopping and
// starting the nodes, on one main:
//
//	SIGTERM to n8n, until it has exited                 (<mode>-stop-s)
//	n8n-secrets rekey --to … --apply [--rewrap-only]    (<mode>-rekey-s)
//	n8n's settings file removed, n8n-secrets -- n8n start,
//	until GET /healthz/readiness answers 200            (<mode>-start-s)
//
// Each op rotates between two keys (A to B, then B to A), on the same
// database, with n8n started with the old key before the timer runs. On
// n8n 2.40 one op is two rotations back to back, a full rekey and then a
// --rewrap-only one, so that their ratio comes from the same moment on a
// noisy machine; ns/op is the sum of an op's windows, the metrics give each
// window (<mode>-window-s, stop to healthy) and its phases. The prepared
// database (n8n 1.123: 1,000 credentials in the legacy CBC format; n8n
// 2.40 with N8N_ENV_FEAT_ENCRYPTION_KEY_ROTATION=true: its deployment_key
// rows and 1,000 credentials under a data key) is made once per test
// process with n8n's own import:credentials, and restored from a pg_dump
// for each run.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8nreal"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
)

// rotationCreds is the number of credentials of the benchmark's database.
const rotationCreds = 1000

// The two keys the benchmark rotates between.
var rotationKeys = [2]string{"bench-rotation-key-A-0123456789abcdef", "bench-rotation-key-B-0123456789abcdef"}

var (
	rotationDumpsMu sync.Mutex
	rotationDumps   = map[int]string{} // n8n major → pg_dump of the prepared database (under key A)
)

func BenchmarkRotationWindow(b *testing.B) {
	b.Run("n8n-1.123/postgres", func(b *testing.B) { benchRotation(b, 1, "full") })
	b.Run("n8n-2.40/postgres", func(b *testing.B) { benchRotation(b, 2, "full", "rewrap-only") })
}

// benchRotation measures, in each op, one rotation window per mode, in
// order.
func benchRotation(b *testing.B, major int, modes ...string) {
	b.StopTimer() // the setup (PostgreSQL, the database, n8n's first start) is not the window
	in := n8nreal.V1(b)
	if major == 2 {
		in = n8nreal.V2(b)
	}
	pg := pgtest.Start(b)
	dump := rotationDump(b, in, pg)
	pg.CreateDatabase("n8n", "n8n", "bench-pg-pw")
	if out, err := pg.Psql("n8n", "-c", "SET ROLE n8n", "-f", dump); err != nil {
		b.Fatalf("restoring the prepared database: %v\n%s", err, out)
	}
	secrets := b.TempDir()
	for i, k := range rotationKeys {
		if err := os.WriteFile(filepath.Join(secrets, fmt.Sprintf("key_%d", i)), []byte(k), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	db := rotationDBEnv(pg)
	node := n8nreal.NewNode(b, in)
	// nodeEnv: what n8n-secrets gets when it starts n8n with key i.
	nodeEnv := func(i int) []string {
		env := append([]string{fmt.Sprintf("N8N_ENCRYPTION_KEY=file:key_%d", i), "N8N_SECRETS_DIR=" + secrets}, db...)
		if major == 2 {
			env = append(env, "N8N_ENV_FEAT_ENCRYPTION_KEY_ROTATION=true")
		}
		return env
	}
	start := func(i int) *n8nreal.Process {
		b.Helper()
		node.Env = nodeEnv(i)
		p, err := node.Start(binPath, "--")
		if err != nil {
			b.Fatalf("n8n start with key %d: %v\n%s", i, err, lastLines(n8nreal.OutputOf(err), 15))
		}
		return p
	}

	type phases struct{ stop, rekey, start time.Duration }
	sum := map[string]*phases{}
	for _, m := range modes {
		sum[m] = &phases{}
	}
	cur := 0
	p := start(cur)
	for i := 0; i < b.N; i++ {
		for _, mode := range modes {
			next := 1 - cur
			args := []string{"rekey", "--to", fmt.Sprintf("file:key_%d", next), "--apply"}
			if mode == "rewrap-only" {
				args = append(args, "--rewrap-only")
			}
			b.StartTimer()
			t0 := time.Now()
			if err := p.Stop(); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			cmd := exec.Command(binPath, args...)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + node.UserFolder, "N8N_USER_FOLDER=" + node.UserFolder}, nodeEnv(cur)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("rekey (%s): %v\n%s", mode, err, lastLines(string(out), 10))
			}
			t2 := time.Now()
			// n8n's settings file holds the old key (rotate-key.sh removes it).
			if err := os.Remove(filepath.Join(node.DataDir(), "config")); err != nil && !os.IsNotExist(err) {
				b.Fatal(err)
			}
			p = start(next)
			b.StopTimer()
			sum[mode].stop += t1.Sub(t0)
			sum[mode].rekey += t2.Sub(t1)
			sum[mode].start += p.Healthy.Sub(t2)
			cur = next
		}
	}
	if err := p.Stop(); err != nil {
		b.Error(err)
	}
	n := float64(b.N)
	for _, m := range modes {
		ph := sum[m]
		b.ReportMetric((ph.stop+ph.rekey+ph.start).Seconds()/n, m+"-window-s/op")
		b.ReportMetric(ph.stop.Seconds()/n, m+"-stop-s/op")
		b.ReportMetric(ph.rekey.Seconds()/n, m+"-rekey-s/op")
		b.ReportMetric(ph.start.Seconds()/n, m+"-start-s/op")
	}
}

// rotationDBEnv is n8n's database settings for database n8n on pg.
func rotationDBEnv(pg *pgtest.Server) []string {
	return []string{"DB_TYPE=postgresdb", "DB_POSTGRESDB_HOST=" + pg.Host, "DB_POSTGRESDB_PORT=" + strconv.Itoa(pg.Port),
		"DB_POSTGRESDB_DATABASE=n8n", "DB_POSTGRESDB_USER=n8n", "DB_POSTGRESDB_PASSWORD=bench-pg-pw"}
}

// rotationDump returns the pg_dump of the prepared database for in's major
// version, making it on pg the first time: n8n (2.x: after one start, which
// seeds deployment_key) imports rotationCreds credentials under key A.
func rotationDump(b *testing.B, in *n8nreal.Install, pg *pgtest.Server) string {
	b.Helper()
	rotationDumpsMu.Lock()
	defer rotationDumpsMu.Unlock()
	if f, ok := rotationDumps[in.Major()]; ok {
		return f
	}
	pg.CreateDatabase("n8n", "n8n", "bench-pg-pw")
	env := append([]string{"N8N_ENCRYPTION_KEY=" + rotationKeys[0]}, rotationDBEnv(pg)...)
	if in.Major() == 2 {
		env = append(env, "N8N_ENV_FEAT_ENCRYPTION_KEY_ROTATION=true")
	}
	node := n8nreal.NewNode(b, in, env...)
	if in.Major() == 2 {
		p, err := node.Start()
		if err != nil {
			b.Fatalf("n8n start: %v\n%s", err, lastLines(n8nreal.OutputOf(err), 15))
		}
		if err := p.Stop(); err != nil {
			b.Fatal(err)
		}
	}
	creds := make([]n8nreal.Credential, rotationCreds)
	for i := range creds {
		creds[i] = n8nreal.Credential{ID: fmt.Sprintf("benchCred%07d", i), Name: fmt.Sprintf("bench %d", i), Type: "httpHeaderAuth",
			Data: map[string]any{"name": "Authorization", "value": fmt.Sprintf("Bearer bench-token-%d-%064d", i, i)}}
	}
	if out, err := node.ImportCredentials(creds); err != nil {
		b.Fatalf("n8n import:credentials: %v\n%s", err, lastLines(out, 5))
	}
	if n, err := strconv.Atoi(strings.TrimSpace(pg.Exec("n8n", "SELECT count(*) FROM credentials_entity"))); err != nil || n != rotationCreds {
		b.Fatalf("the prepared database holds %d credentials (%v), want %d", n, err, rotationCreds)
	}
	// binPath's directory is removed when the test process ends.
	f := filepath.Join(filepath.Dir(binPath), fmt.Sprintf("rotation-n8n%d.sql", in.Major()))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(pg.Bin, "pg_dump"), "--no-owner", "--no-privileges", "-h", pg.Host,
		"-p", strconv.Itoa(pg.Port), "-U", pgtest.Superuser, "-f", f, "n8n")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("pg_dump: %v\n%s", err, out)
	}
	pg.Exec("postgres", "DROP DATABASE n8n")
	rotationDumps[in.Major()] = f
	return f
}
