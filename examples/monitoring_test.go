package examples

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// definedCodes returns every code the binary logs. The lead's registry of
// codes replaces it with one line: definedCodes = <registry's list as a set>.
var definedCodes = codesFromSource

// codeRe is the shape of a code: UPPER_SNAKE_CASE.
var codeRe = regexp.MustCompile(`^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$`)

// codesFromSource gathers the codes of the packages that log (the root
// package, inject and n8n) from their source: constants whose name starts
// with "code", string literals logged as a "code" attribute, and what
// codeName returns.
func codesFromSource(t *testing.T) map[string]bool {
	t.Helper()
	codes := map[string]bool{}
	lit := func(e ast.Expr) (string, bool) {
		if c, ok := e.(*ast.CallExpr); ok && len(c.Args) == 1 { // Code("X"), string("X")
			e = c.Args[0]
		}
		bl, ok := e.(*ast.BasicLit)
		if !ok || bl.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(bl.Value)
		return s, err == nil && codeRe.MatchString(s)
	}
	for _, dir := range []string{root, filepath.Join(root, "inject"), filepath.Join(root, "n8n")} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, p := range files {
			if strings.HasSuffix(p, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), p, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ValueSpec:
					for i, id := range n.Names {
						if i < len(n.Values) && strings.HasPrefix(strings.ToLower(id.Name), "code") {
							if s, ok := lit(n.Values[i]); ok {
								codes[s] = true
							}
						}
					}
				case *ast.CallExpr:
					for i := 0; i+1 < len(n.Args); i++ {
						if k, ok := n.Args[i].(*ast.BasicLit); ok && k.Value == `"code"` {
							if s, ok := lit(n.Args[i+1]); ok {
								codes[s] = true
							}
						}
					}
				case *ast.FuncDecl:
					if n.Name.Name == "codeName" {
						ast.Inspect(n, func(m ast.Node) bool {
							if r, ok := m.(*ast.ReturnStmt); ok && len(r.Results) == 1 {
								if s, ok := lit(r.Results[0]); ok {
									codes[s] = true
								}
							}
							return true
						})
					}
				}
				return true
			})
		}
	}
	for _, must := range []string{"SECRET_NOT_FOUND", "PROVIDER_UNAVAILABLE", "N8N_KEY_MISSING", "N8N_GUARD", "COMMAND_NOT_FOUND"} {
		if !codes[must] {
			t.Fatalf("the codes gathered from the source lack %s: is the scan broken? (%v)", must, sortedKeys(codes))
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
