package metrics

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/watch"
)

// series parses a scrape: every sample line, by its name and labels as
// written, and the # TYPE of every metric.
func series(t *testing.T, text string) (samples map[string]float64, types map[string]string) {
	t.Helper()
	samples, types = map[string]float64{}, map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			types[name] = typ
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("not a sample line: %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("not a sample line: %q", line)
		}
		if _, dup := samples[line[:i]]; dup {
			t.Errorf("series %s written twice", line[:i])
		}
		samples[line[:i]] = v
	}
	return samples, types
}

func TestWrite(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	snap := &watch.Snapshot{
		Taken: now, Rounds: 7,
		Secrets: []watch.SecretState{
			{Scheme: "vault", Path: "database/creds/n8n", Vars: []string{"DB_POSTGRESDB_USER", "DB_POSTGRESDB_PASSWORD"}, State: "current",
				ValueSince: now.Add(-90 * time.Second), LastOK: now.Add(-5 * time.Second), LeaseExpires: now.Add(40 * time.Second)},
			{Scheme: "vault", Path: "secret/n8n/core", Vars: []string{"N8N_ENCRYPTION_KEY"}, State: "pending",
				ValueSince: now.Add(-time.Hour), LastOK: now},
			{Scheme: "awssm", Path: "prod/redis", Vars: []string{"QUEUE_BULL_REDIS_PASSWORD", `ODD"NAME\` + "\n"}, State: "failing",
				ErrorCode: inject.CodePermissionDenied, ValueSince: now.Add(-10 * time.Minute), LastOK: now.Add(-3 * time.Minute)},
			// A template variable reads two secrets: one series, the older
			// value and the worse state.
			{Scheme: "file", Path: "a", Vars: []string{"DB_URL"}, State: "current", ValueSince: now.Add(-time.Minute), LastOK: now},
			{Scheme: "file", Path: "b", Vars: []string{"DB_URL"}, State: "failing", ValueSince: now.Add(-2 * time.Minute), LastOK: now},
			// A lease that has ended already: 0 left, never negative.
			{Scheme: "vault", Path: "aws/creds/n8n", Vars: []string{"AWS_KEY"}, State: "current", ValueSince: now, LastOK: now,
				LeaseExpires: now.Add(-time.Second)},
		},
		Credentials: []watch.CredentialState{
			{Scheme: "vault", Expires: now.Add(25 * time.Minute), Failures: 2},
			{Scheme: "awssm"}, // does not expire: no TTL series
		},
		Errors:   map[string]int{"PERMISSION_DENIED": 3, "PROVIDER_UNAVAILABLE": 1},
		Applied:  map[string]int{"rotation": 2, "lease": 1},
		Signaled: map[string]int{"rotation": 1},
	}
	var buf bytes.Buffer
	Write(&buf, State{Watch: snap, KeyFingerprint: "0123456789abcdef", HeldKeyFingerprint: "fedcba9876543210"}, now)
	got, types := series(t, buf.String())
	want := map[string]float64{
		`n8n_secrets_secret_value_age_seconds{var="DB_POSTGRESDB_PASSWORD",scheme="vault"}`:          90,
		`n8n_secrets_secret_value_age_seconds{var="N8N_ENCRYPTION_KEY",scheme="vault"}`:              3600,
		`n8n_secrets_secret_ok{var="DB_POSTGRESDB_USER",scheme="vault"}`:                             1,
		`n8n_secrets_secret_ok{var="QUEUE_BULL_REDIS_PASSWORD",scheme="awssm"}`:                      0,
		`n8n_secrets_secret_ok{var="ODD\"NAME\\\n",scheme="awssm"}`:                                  0,
		`n8n_secrets_secret_pending{var="N8N_ENCRYPTION_KEY",scheme="vault"}`:                        1,
		`n8n_secrets_secret_pending{var="DB_POSTGRESDB_USER",scheme="vault"}`:                        0,
		`n8n_secrets_secret_last_success_timestamp_seconds{var="DB_POSTGRESDB_USER",scheme="vault"}`: float64(now.Unix() - 5),
		`n8n_secrets_lease_ttl_seconds{var="DB_POSTGRESDB_PASSWORD",scheme="vault"}`:                 40,
		`n8n_secrets_lease_ttl_seconds{var="AWS_KEY",scheme="vault"}`:                                0,
		`n8n_secrets_secret_value_age_seconds{var="DB_URL",scheme="file"}`:                           120,
		`n8n_secrets_secret_ok{var="DB_URL",scheme="file"}`:                                          0,
		`n8n_secrets_last_refresh_success`:                                                           0,
		`n8n_secrets_refreshes_total`:                                                                7,
		`n8n_secrets_token_ttl_seconds{scheme="vault"}`:                                              1500,
		`n8n_secrets_credential_failures{scheme="vault"}`:                                            2,
		`n8n_secrets_credential_failures{scheme="awssm"}`:                                            0,
		`n8n_secrets_restarts_total{reason="rotation"}`:                                              2,
		`n8n_secrets_restarts_total{reason="lease"}`:                                                 1,
		`n8n_secrets_restarts_total{reason="credential"}`:                                            0,
		`n8n_secrets_signals_total{reason="rotation"}`:                                               1,
		`n8n_secrets_errors_total{code="PERMISSION_DENIED"}`:                                         3,
		`n8n_secrets_errors_total{code="PROVIDER_UNAVAILABLE"}`:                                      1,
		`n8n_secrets_key_info{fingerprint="0123456789abcdef"}`:                                       1,
		`n8n_secrets_held_key_info{fingerprint="fedcba9876543210"}`:                                  1,
	}
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("no series %s", k)
		} else if g != v {
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
	for _, absent := range []string{`n8n_secrets_token_ttl_seconds{scheme="awssm"}`, `n8n_secrets_lease_ttl_seconds{var="N8N_ENCRYPTION_KEY",scheme="vault"}`} {
		if _, ok := got[absent]; ok {
			t.Errorf("series %s: want none", absent)
		}
	}
	for name, typ := range map[string]string{Refreshes: "counter", Restarts: "counter", Errors: "counter", Signals: "counter",
		ValueAge: "gauge", LeaseTTL: "gauge", TokenTTL: "gauge", KeyInfo: "gauge"} {
		if types[name] != typ {
			t.Errorf("# TYPE %s %s, want %s", name, types[name], typ)
		}
	}
	if _, ok := got["process_resident_memory_bytes"]; !ok {
		t.Error("no process metrics")
	}
}

func TestWriteEmpty(t *testing.T) {
	var buf bytes.Buffer
	Write(&buf, State{}, time.Now())
	got, _ := series(t, buf.String())
	if got[RefreshSuccess] != 1 || got[Restarts+`{reason="rotation"}`] != 0 {
		t.Errorf("an empty state: %v", got)
	}
	if _, ok := got[Restarts+`{reason="credential"}`]; !ok {
		t.Error("restart reasons are not reported at 0")
	}
	for k := range got {
		if strings.HasPrefix(k, KeyInfo) {
			t.Errorf("%s without a key", k)
		}
	}
}

func TestParseAddr(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{":9464", "127.0.0.1:9464"},
		{"localhost:9464", "127.0.0.1:9464"},
		{"127.0.0.1:0", "127.0.0.1:0"},
		{"0.0.0.0:9464", "0.0.0.0:9464"},
		{"[::]:9464", "[::]:9464"},
		{"[::1]:80", "[::1]:80"},
		{"10.1.2.3:9100", "10.1.2.3:9100"},
	} {
		got, err := ParseAddr(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"9999", "", ":", "metrics.example.com:9464", ":65536", ":-1", ":http", "1.2.3.4", "[::1", "CANARY-addr:1"} {
		got, err := ParseAddr(bad)
		if err == nil {
			t.Errorf("ParseAddr(%q) = %q: want an error", bad, got)
			continue
		}
		if bad != "" && bad != ":" && strings.Contains(err.Error(), bad) {
			t.Errorf("ParseAddr(%q): the error repeats the input: %v", bad, err)
		}
	}
}

func TestServer(t *testing.T) {
	var logs bytes.Buffer
	srv, err := Listen("127.0.0.1:0", slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// A second endpoint on the same port: refused, saying why.
	if _, err := Listen(srv.Addr(), nil); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("listening twice on one port: %v", err)
	}
	snap := &watch.Snapshot{Rounds: 3, Applied: map[string]int{"rotation": 1}}
	srv.Serve(func() State { return State{Watch: snap, KeyFingerprint: "0123456789abcdef"} })
	if !strings.Contains(logs.String(), `"code":"METRICS_LISTENING"`) || !strings.Contains(logs.String(), srv.Addr()) {
		t.Errorf("no METRICS_LISTENING event with the address: %s", logs.String())
	}
	get := func(method, path string) (*http.Response, string) {
		req, _ := http.NewRequest(method, "http://"+srv.Addr()+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get("GET", "/metrics")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	got, _ := series(t, body)
	if got[Refreshes] != 3 || got[Restarts+`{reason="rotation"}`] != 1 || got[KeyInfo+`{fingerprint="0123456789abcdef"}`] != 1 {
		t.Errorf("GET /metrics: %v", got)
	}
	if resp, _ := get("GET", "/"); resp.StatusCode != 404 {
		t.Errorf("GET /: %d, want 404", resp.StatusCode)
	}
	if resp, _ := get("POST", "/metrics"); resp.StatusCode != 405 {
		t.Errorf("POST /metrics: %d, want 405", resp.StatusCode)
	}
	addr := srv.Addr()
	srv.Close()
	srv.Close()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("the endpoint still accepts connections after Close")
	}
}
