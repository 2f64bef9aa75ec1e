package examples

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/metrics"
	"github.com/n8n-secrets/n8n-secrets/watch"
)

// TestPrometheusRulesCheck: Prometheus's own promtool parses the alert
// rules on supervise mode's metrics (the rule format and every PromQL
// expression). The metric names they use are checked against a real
// scrape in the root package (TestSuperviseMetricsScrape).
func TestPrometheusRulesCheck(t *testing.T) {
	promtool := tool(t, "PROMTOOL_BIN", "promtool", "PROMETHEUS_VERSION")
	rules := filepath.Join("monitoring", "prometheus-rules.yaml")
	out, err := exec.Command(promtool, "check", "rules", "--lint=all", "--lint-fatal", rules).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "SUCCESS: 10 rules found") {
		t.Errorf("promtool check rules: want 10 rules found\n%s", out)
	}
}

// TestPrometheusMetricsLint: promtool check metrics lints what the
// endpoint writes (names, suffixes, types), every metric of ours present.
// The library writes no help text (its # HELP lines are empty; the
// metrics' table is in docs/supervise.md), the one finding accepted; the
// process_* and go_* metrics are the library's own.
func TestPrometheusMetricsLint(t *testing.T) {
	promtool := tool(t, "PROMTOOL_BIN", "promtool", "PROMETHEUS_VERSION")
	now := time.Now()
	snap := &watch.Snapshot{Rounds: 2,
		Secrets: []watch.SecretState{{Scheme: "vault", Vars: []string{"DB_POSTGRESDB_PASSWORD"}, State: "failing",
			ValueSince: now.Add(-time.Minute), LastOK: now, LeaseExpires: now.Add(time.Hour)}},
		Credentials: []watch.CredentialState{{Scheme: "vault", Expires: now.Add(time.Hour), Failures: 1}},
		Errors:      map[string]int{"KEY_NOT_FOUND": 1}, Applied: map[string]int{"rotation": 1}, Signaled: map[string]int{}}
	var buf bytes.Buffer
	metrics.Write(&buf, metrics.State{Watch: snap, KeyFingerprint: "0123456789abcdef", HeldKeyFingerprint: "fedcba9876543210"}, now)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = &buf
	out, _ := cmd.CombinedOutput()
	ours := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, problem, _ := strings.Cut(line, " ")
		if !strings.HasPrefix(name, "n8n_secrets_") {
			continue
		}
		ours++
		if problem != "no help text" {
			t.Errorf("promtool check metrics: %s", line)
		}
	}
	if ours < 14 {
		t.Errorf("promtool check metrics named %d of our metrics, want all 14 (each without help text):\n%s", ours, out)
	}
}
