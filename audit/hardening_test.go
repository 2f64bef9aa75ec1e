package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// parseErrorRe is the only shape a PARSE_ERROR message may take: what was
// parsed, an optional line, and one of this package's fixed phrases.
var parseErrorRe = regexp.MustCompile(`^(YAML|Dockerfile|Vault policy|` + envFileParser + `): (line \d+: )?([a-zA-Z][a-zA-Z0-9 ,'()./_=-]*)$`)

// fixedPhrases are the kinds a parse error may name.
func fixedPhrases() map[string]bool {
	m := map[string]bool{
		"invalid YAML": true, "invalid HCL syntax": true, "does not parse": true,
		"brackets nested too deep": true, "a path block takes one label, the path": true, "a path block must be a block": true,
		"capabilities must be a list of strings": true, "policy must be a string": true,
		"FROM without an image": true, "no FROM instruction": true, "a line that is no Dockerfile instruction, before FROM": true,
		"an alias to an anchor that contains it": true, "aliases that expand to too many nodes (Kubernetes' decoder refuses them too)": true,
	}
	for _, k := range yamlKinds {
		m[k.kind] = true
	}
	for _, k := range hclKinds {
		m[k.kind] = true
	}
	for kw := range dockerKeywords {
		m[kw+" before FROM (only ARG may come first)"] = true
	}
	return m
}

// checkParseErrors fails when a PARSE_ERROR's message is anything but the
// name of the parser, a line and a fixed phrase: no text of the input.
func checkParseErrors(t *testing.T, rep *Report) {
	t.Helper()
	phrases := fixedPhrases()
	for _, f := range rep.Findings {
		if f.Code != CodeParseError || strings.HasPrefix(f.Message, "cannot read the file: ") {
			continue
		}
		m := parseErrorRe.FindStringSubmatch(f.Message)
		// n8n-secrets' env file parser names no text of its input (its
		// contract); its phrases are passed on when they are words only.
		if m == nil || (!phrases[m[3]] && m[1] != envFileParser) {
			t.Errorf("PARSE_ERROR message is not one of the fixed phrases: %q", f.Message)
		}
	}
}

// TestParseErrorsNameNoText plants canaries where every parser's error
// path would quote the input (issue 18, item 8): a YAML alias whose name
// is a password, a Dockerfile's first word before FROM, HCL keys and
// tokens. The table, JSON and SARIF outputs hold the line and the kind of
// problem, never the text.
func TestParseErrorsNameNoText(t *testing.T) {
	cases := []struct {
		name, file, content string
		line                int
	}{
		{"YAML unknown alias", "compose.yaml", "services:\n  n8n:\n    image: n8nio/n8n:2.40.0\n    environment:\n      DB_POSTGRESDB_PASSWORD: *CANARYPa55w0rd\n", 5},
		{"YAML alias in a list", "k8s.yaml", "apiVersion: v1\nkind: List\nitems: [*CANARY-alias]\n", 3},
		{"YAML bad escape", "compose.yaml", "services:\n  x:\n    environment:\n      N8N_ENCRYPTION_KEY: \"CANARY\\qkey\"\n", 4},
		{"YAML bad indentation", "compose.yaml", "services:\n  n8n:\n    image: x\n   CANARY-key: value: other\n", 0},
		{"Dockerfile: a variable before FROM", "Dockerfile", "N8N_ENCRYPTION_KEY=CANARY-df-key\nFROM n8nio/n8n:2.40.0\n", 1},
		{"Dockerfile: ENV before FROM", "Dockerfile", "ENV N8N_ENCRYPTION_KEY=CANARY-df-env\nFROM n8nio/n8n:2.40.0\n", 1},
		{"HCL: a key without value", "policy.hcl", "path \"secret/data/n8n/*\" {\n  CANARY-key-name\n}\n", 0},
		{"HCL: an unknown token", "policy.hcl", "path \"secret/data/n8n/*\" {\n  capabilities = [\"read\"] @CANARY\n}\n", 0},
		{"HCL: an argument set twice", "policy.hcl", "path \"secret/data/n8n/*\" {\n  CANARYcap = [\"read\"]\n  CANARYcap = [\"list\"]\n}\n", 3},
		{"HCL: a string not closed", "policy.hcl", "path \"secret/data/n8n/*\" {\n  capabilities = [\"CANARY-read]\n}\n", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{c.file: c.content})
			rep := run(t, dir)
			pe := codesIn(rep)[CodeParseError]
			if len(pe) != 1 {
				t.Fatalf("want one PARSE_ERROR, got %v", summary(rep))
			}
			if c.line > 0 && pe[0].Line != c.line {
				t.Errorf("PARSE_ERROR at line %d, want %d (%s)", pe[0].Line, c.line, pe[0].Message)
			}
			for name, out := range outputs(t, rep) {
				if strings.Contains(out, canary) {
					t.Errorf("%s output holds the planted text", name)
				}
			}
			checkParseErrors(t, rep)
		})
	}
}

// attackPolicy returns a Vault policy whose capabilities nest for
// expressions (issue 18, item 9): under an HCL 2 evaluator, levels
// nested over a list of width strings make width^(levels+1) elements.
func attackPolicy(levels, width int) string {
	var l []string
	for i := 0; i < width; i++ {
		l = append(l, fmt.Sprintf("%q", fmt.Sprint(i)))
	}
	list := "[" + strings.Join(l, ",") + "]"
	expr := list
	for i := 0; i < levels; i++ {
		expr = fmt.Sprintf("[for v%d in %s : %s]", i, list, expr)
	}
	return "path \"secret/data/n8n/*\" {\n  capabilities = " + expr + "\n}\n"
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestVaultPolicyLiteralCapabilities: capabilities are a literal list of
// literal strings, as Vault reads them; an expression is refused without
// being evaluated, so a small policy cannot cost memory.
func TestVaultPolicyLiteralCapabilities(t *testing.T) {
	cases := []struct {
		name, policy string
		ok           bool
		caps         []string
	}{
		{"a literal list", "path \"secret/data/n8n/*\" {\n  capabilities = [\"read\", \"LIST\"]\n}\n", true, []string{"read", "list"}},
		{"the legacy policy", "path \"secret/data/n8n/*\" {\n  policy = \"write\"\n}\n", true, legacyPolicy["write"]},
		{"JSON, as Vault accepts it", `{"path": {"secret/data/n8n/*": {"capabilities": ["read"]}}}`, true, []string{"read"}},
		{"a for expression", "path \"secret/data/n8n/*\" {\n  capabilities = [for c in [\"read\", \"list\"] : c]\n}\n", false, nil},
		{"a string, not a list", "path \"secret/data/n8n/*\" {\n  capabilities = \"read\"\n}\n", false, nil},
		{"a number in the list", "path \"secret/data/n8n/*\" {\n  capabilities = [\"read\", 1]\n}\n", false, nil},
		{"an interpolation", "path \"secret/data/n8n/*\" {\n  capabilities = [\"${var.cap}\"]\n}\n", true, []string{"${var.cap}"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol, isPolicy, err := parseVaultPolicy("p.hcl", []byte(c.policy))
			if !isPolicy {
				t.Fatalf("not taken for a policy")
			}
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok %v", err, c.ok)
			}
			if c.ok && strings.Join(pol.rules[0].caps, ",") != strings.Join(c.caps, ",") {
				t.Errorf("caps = %v, want %v", pol.rules[0].caps, c.caps)
			}
		})
	}
	// A policy like the 683-byte one of the report: five nested for
	// expressions over 20 strings, 668 bytes (64 million elements under
	// HCL 2's evaluator; three levels of 16, 376 bytes, allocated 18 MB).
	attack := attackPolicy(5, 20)
	if n := allocated(func() { _, _, _ = parseVaultPolicy("p.hcl", []byte(attack)) }); n > 1<<20 {
		t.Errorf("a %d-byte policy allocated %d bytes", len(attack), n)
	}
	rep := run(t, writeTree(t, map[string]string{"policy.hcl": attack}))
	if len(codesIn(rep)[CodeParseError]) != 1 {
		t.Errorf("the nested for expressions: want PARSE_ERROR, got %v", summary(rep))
	}
	// Brackets nested beyond reason are refused before HCL's parser
	// recurses into them.
	deep := "path \"a\" {\n  capabilities = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n}\n"
	if _, _, err := parseVaultPolicy("p.hcl", []byte(deep)); err == nil || !strings.Contains(err.Error(), "nested too deep") {
		t.Errorf("100,000 nested brackets: %v", err)
	}
	// Other HCL (docker-bake, a Vault server's configuration) that HCL 1
	// does not parse is not a policy and not an error.
	rep = run(t, writeTree(t, map[string]string{"docker-bake.hcl": "target \"x\" {\n  tags = [for t in [\"a\"] : t]\n}\n"}))
	if len(codesIn(rep)[CodeParseError]) != 0 || rep.Files[0].Kind != KindOther {
		t.Errorf("a bake file: %v %v", rep.Files, summary(rep))
	}
}

// aliasBomb builds a manifest of about size bytes whose items, containers
// and env entries are aliases of aliases (issue 18, item 10): walked
// through, n items × n containers × n variables.
func aliasBomb(n int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: List\nvars:\n  - &v {name: DB_POSTGRESDB_PASSWORD, value: CANARY-bomb}\n")
	b.WriteString("env: &e [" + strings.TrimSuffix(strings.Repeat("*v, ", n), ", ") + "]\n")
	b.WriteString("containers:\n  - &c {name: n8n, image: n8nio/n8n:2.40.0, env: *e}\n")
	b.WriteString("cs: &cs [" + strings.TrimSuffix(strings.Repeat("*c, ", n), ", ") + "]\n")
	b.WriteString("pods:\n  - &p {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: *cs}}\n")
	b.WriteString("items: [" + strings.TrimSuffix(strings.Repeat("*p, ", n), ", ") + "]\n")
	return b.String()
}

// TestYAMLAliasFanOut: a small manifest whose aliases stand for millions
// of nodes is refused and reported, with bounded work, as Kubernetes'
// decoder refuses it; merge keys and anchors of ordinary size are fine.
func TestYAMLAliasFanOut(t *testing.T) {
	bomb := aliasBomb(250)
	dir := writeTree(t, map[string]string{"bomb.yaml": bomb})
	var rep *Report
	n := allocated(func() { rep = run(t, dir) })
	pe := codesIn(rep)[CodeParseError]
	if len(pe) != 1 || !strings.Contains(pe[0].Message, "aliases that expand") {
		t.Fatalf("a %d-byte alias fan-out: want PARSE_ERROR, got %v", len(bomb), summary(rep))
	}
	if n > 64<<20 {
		t.Errorf("a %d-byte alias fan-out allocated %d MB", len(bomb), n>>20)
	}
	// An alias to an anchor that contains it.
	rep = run(t, writeTree(t, map[string]string{"loop.yaml": "a: &x [*x]\n"}))
	if pe := codesIn(rep)[CodeParseError]; len(pe) != 1 || !strings.Contains(pe[0].Message, "contains it") {
		t.Errorf("a recursive alias: %v", summary(rep))
	}
	// The twin: the same structure with few aliases is audited.
	rep = run(t, writeTree(t, map[string]string{"small.yaml": aliasBomb(3)}))
	if len(codesIn(rep)[CodeParseError]) != 0 || len(codesIn(rep)[CodeLiteralSecret]) != 1 {
		t.Errorf("a manifest with a few aliases: %v", summary(rep))
	}
	for name, out := range outputs(t, rep) {
		if strings.Contains(out, canary) {
			t.Errorf("%s output holds the planted value", name)
		}
	}
}

// TestReadsOnlyTheAuditedTree: an env_file or a build's Dockerfile outside
// the audited tree (an absolute path, ../, a symbolic link that leaves the
// tree, /proc/self/environ) is not read: its values count as unknown, and
// one info says so (issue 18, item 14).
func TestReadsOnlyTheAuditedTree(t *testing.T) {
	outside := writeTree(t, map[string]string{
		"secrets.env": "N8N_ENCRYPTION_KEY=CANARY-outside\nEXECUTIONS_MODE=queue\n",
		"Dockerfile":  "FROM n8nio/n8n:2.40.0\nENV DB_POSTGRESDB_PASSWORD=CANARY-outside-df\n",
	})
	t.Setenv("N8N_SECRETS_AUDIT_TEST_CANARY", "CANARY-process-environment")
	for _, c := range []struct{ name, envFile string }{
		{"absolute", filepath.Join(outside, "secrets.env")},
		{"dot dot", "../" + filepath.Base(outside) + "/secrets.env"},
		{"symbolic link", "link.env"},
		{"/proc/self/environ", "/proc/self/environ"},
	} {
		t.Run(c.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "deploy")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if c.name == "dot dot" {
				// ../<outside> must resolve next to dir.
				if err := os.Symlink(outside, filepath.Join(parent, filepath.Base(outside))); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink(filepath.Join(outside, "secrets.env"), filepath.Join(dir, "link.env")); err != nil {
				t.Fatal(err)
			}
			compose := "services:\n  n8n:\n    image: n8nio/n8n:2.40.0\n    env_file: [" + c.envFile + "]\n  built:\n    build: {context: " + outside + "}\n    command: worker\n"
			if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o600); err != nil {
				t.Fatal(err)
			}
			rep, err := Run(context.Background(), testStores, []string{filepath.Join(dir, "compose.yaml")})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Findings {
				if f.File != "" && !strings.HasPrefix(f.File, dir) {
					t.Errorf("a finding in a file outside the tree: %s %s", f.Code, f.Location())
				}
			}
			if len(codesIn(rep)[CodeEnvFileNotChecked]) != 1 {
				t.Errorf("want one NOT_CHECKED_ENV_FILE, got %v", summary(rep))
			}
			for name, out := range outputs(t, rep) {
				if strings.Contains(out, canary) {
					t.Errorf("%s output holds a value of a file outside the tree", name)
				}
			}
		})
	}
}
