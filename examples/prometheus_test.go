package examples

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
