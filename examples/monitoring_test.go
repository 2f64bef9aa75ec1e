package examples

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// definedCodes returns every code the binary defines, as `n8n-secrets
// codes --json` lists them (the registry the README's table is made from).
func definedCodes(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command(n8nSecrets(t), "codes", "--json").Output()
	if err != nil {
		t.Fatalf("n8n-secrets codes --json: %v", err)
	}
	var list []struct{ Code string }
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, c := range list {
		codes[c.Code] = true
	}
	for _, must := range []string{"SECRET_NOT_FOUND", "PROVIDER_UNAVAILABLE", "N8N_KEY_MISSING", "NOT_STARTING", "COMMAND_NOT_FOUND"} {
		if !codes[must] {
			t.Fatalf("n8n-secrets codes lacks %s", must)
		}
	}
	return codes
}

// alertedCodes reads the codes each monitoring file alerts on.
func alertedCodes(t *testing.T) (datadog, loki map[string]bool) {
	t.Helper()
	var monitors []struct {
		Name, Type, Query, Message string
		Options                    map[string]any
	}
	data, err := os.ReadFile(filepath.Join("monitoring", "datadog-monitors.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &monitors); err != nil {
		t.Fatalf("datadog-monitors.json: %v", err)
	}
	datadog = map[string]bool{}
	ddCodes := regexp.MustCompile(`@code:\(([^)]*)\)`)
	for _, m := range monitors {
		if m.Name == "" || m.Type != "log alert" || !strings.HasPrefix(m.Query, `logs("`) || m.Message == "" || m.Options["thresholds"] == nil {
			t.Errorf("datadog monitor %q: want a name, type log alert, a logs(…) query, a message and thresholds", m.Name)
		}
		if !strings.Contains(m.Query, "@app:n8n-secrets") {
			t.Errorf("datadog monitor %q does not select @app:n8n-secrets", m.Name)
		}
		for _, g := range ddCodes.FindAllStringSubmatch(m.Query, -1) {
			for _, c := range strings.Split(g[1], " OR ") {
				datadog[strings.TrimSpace(c)] = true
			}
		}
	}
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr string
				Labels      map[string]string
			}
		}
	}
	loadInto(t, filepath.Join("monitoring", "loki-rules.yaml"), &rules)
	loki = map[string]bool{}
	lokiCodes := regexp.MustCompile(`code=~?"([^"]*)"`)
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || !strings.Contains(r.Expr, `app="n8n-secrets"`) {
				t.Errorf("loki rule %q: want alert, an expr on app=\"n8n-secrets\" and a severity", r.Alert)
			}
			for _, m := range lokiCodes.FindAllStringSubmatch(r.Expr, -1) {
				for _, c := range strings.Split(m[1], "|") {
					loki[c] = true
				}
			}
		}
	}
	if len(monitors) < 5 || n < 5 || len(datadog) < 10 || len(loki) < 10 {
		t.Fatalf("%d monitors with %d codes, %d rules with %d codes: is the scan broken?", len(monitors), len(datadog), n, len(loki))
	}
	return datadog, loki
}

// notAlerted reads the README's "Not alerted" table: code → reason.
func notAlerted(t *testing.T) map[string]string {
	t.Helper()
	data := readFile(t, filepath.Join("monitoring", "README.md"))
	_, section, ok := strings.Cut(data, "## Not alerted")
	if !ok {
		t.Fatal("monitoring/README.md: no \"## Not alerted\" section")
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z0-9_]+)` \\| (.+) \\|$").FindAllStringSubmatch(section, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestMonitoringCoversTheCodes checks the alert rules against the codes
// the binary defines: no rule on a code that does not exist, Datadog and
// Loki on the same codes, and every code alerted on or listed as not
// alerted, with a reason.
func TestMonitoringCoversTheCodes(t *testing.T) {
	defined := definedCodes(t)
	datadog, loki := alertedCodes(t)
	skipped := notAlerted(t)
	for _, c := range sortedKeys(datadog) {
		if !defined[c] {
			t.Errorf("datadog-monitors.json alerts on %s, which the binary never logs", c)
		}
		if !loki[c] {
			t.Errorf("%s: Datadog alerts on it, Loki does not", c)
		}
	}
	for _, c := range sortedKeys(loki) {
		if !defined[c] {
			t.Errorf("loki-rules.yaml alerts on %s, which the binary never logs", c)
		}
		if !datadog[c] {
			t.Errorf("%s: Loki alerts on it, Datadog does not", c)
		}
	}
	for _, c := range sortedKeys(skipped) {
		if !defined[c] {
			t.Errorf("README.md lists %s as not alerted, but the binary has no such code", c)
		}
		if datadog[c] || loki[c] {
			t.Errorf("README.md lists %s as not alerted, but a rule alerts on it", c)
		}
	}
	var missing []string
	for _, c := range sortedKeys(defined) {
		if !datadog[c] && !loki[c] && skipped[c] == "" {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		t.Errorf("codes neither alerted on nor listed under \"Not alerted\" in monitoring/README.md: %s", strings.Join(missing, ", "))
	}
	if !slices.Contains(sortedKeys(datadog), "PROVIDER_UNAVAILABLE") {
		t.Error("no alert on PROVIDER_UNAVAILABLE")
	}
}

// loadInto decodes the first YAML document of a file into v.
func loadInto(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
