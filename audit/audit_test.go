package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// runWide are the codes that concern a run as a whole: every run reports
// them, so they have no fixed twin.
var runWide = []string{CodeRotationNotChecked, CodeAlertsNotChecked, CodeLiveAccessNotChecked, CodeKeyValueNotChecked}

// canary marks the literal secrets planted in the broken fixtures: no
// output may hold it.
const canary = "CANARY"

func run(t *testing.T, paths ...string) *Report {
	t.Helper()
	rep, err := Run(context.Background(), testStores, paths)
	if err != nil {
		t.Fatalf("Run(%v): %v", paths, err)
	}
	return rep
}

// outputs renders a report in every format.
func outputs(t *testing.T, rep *Report) map[string]string {
	t.Helper()
	out := map[string]string{}
	var b bytes.Buffer
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out["table"] = b.String()
	b.Reset()
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	out["json"] = b.String()
	b.Reset()
	if err := rep.WriteSARIF(&b, "test"); err != nil {
		t.Fatal(err)
	}
	out["sarif"] = b.String()
	return out
}

func codesIn(rep *Report) map[string][]Finding {
	m := map[string][]Finding{}
	for _, f := range rep.Findings {
		if f.Suppressed == nil {
			m[f.Code] = append(m[f.Code], f)
		}
	}
	return m
}

// TestEveryFindingBrokenAndFixed runs every pair of fixtures under
// testdata/findings/<CODE>: each broken file raises CODE, the fixed twin
// does not, and the fixed twins raise no warning or error at all. Every
// rule but the run-wide notes has a pair.
func TestEveryFindingBrokenAndFixed(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join("testdata", "findings"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, d := range dirs {
		code := d.Name()
		have[code] = true
		t.Run(code, func(t *testing.T) {
			rule(code) // panics on a directory named after no rule
			broken := filepath.Join("testdata", "findings", code, "broken")
			fixed := filepath.Join("testdata", "findings", code, "fixed")
			rep := run(t, broken)
			found := codesIn(rep)[code]
			if len(found) == 0 {
				t.Fatalf("%s: no %s finding; got %v", broken, code, summary(rep))
			}
			files, _ := os.ReadDir(broken)
			for _, f := range files {
				p := filepath.Join(broken, f.Name())
				if !slices.ContainsFunc(found, func(x Finding) bool { return x.File == p || x.File == "" }) {
					t.Errorf("%s raises no %s", p, code)
				}
			}
			for name, out := range outputs(t, rep) {
				if strings.Contains(out, canary) {
					t.Errorf("%s output of %s holds a planted secret value", name, broken)
				}
			}
			frep := run(t, fixed)
			if got := codesIn(frep)[code]; len(got) > 0 {
				t.Errorf("%s: still raises %s: %v", fixed, code, summary(frep))
			}
			if n := frep.Count(Warning); n > 0 {
				t.Errorf("%s: %d warnings or errors, want a clean twin: %v", fixed, n, summary(frep))
			}
		})
	}
	for _, r := range Rules {
		if !have[r.Code] && !slices.Contains(runWide, r.Code) {
			t.Errorf("rule %s has no fixtures under testdata/findings/%s", r.Code, r.Code)
		}
	}
}

// summary lists findings for a failure message: codes and places, never
// values (findings hold none).
func summary(rep *Report) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.Code+"@"+f.Location()+": "+f.Message)
	}
	return out
}

// TestRunWideNotesAlwaysReported: what files cannot show is listed in
// every run, a clean one included.
func TestRunWideNotesAlwaysReported(t *testing.T) {
	rep := run(t, filepath.Join("testdata", "findings", "STORE_PLAIN_HTTP", "fixed"))
	codes := codesIn(rep)
	for _, c := range runWide {
		if len(codes[c]) != 1 || codes[c][0].Severity != Info || codes[c][0].File != "" {
			t.Errorf("%s: want one info finding without a file, got %v", c, codes[c])
		}
	}
}

// TestLineNumbers checks positions in YAML with anchors, aliases, merge
// keys and several documents: a finding is reported where the value is
// written.
func TestLineNumbers(t *testing.T) {
	dir := t.TempDir()
	compose := `# line 1
x-env: &env
  VAULT_ADDR: https://vault.example.com:8200
  DB_POSTGRESDB_PASSWORD: CANARY-anchored
x-more: &more
  N8N_ENCRYPTION_KEY: vault://secret/n8n/core#encryption_key
services:
  n8n:
    image: n8nio/n8n:latest
    entrypoint: ["/usr/local/bin/n8n-secrets", "--", "/docker-entrypoint.sh"]
    environment: *env
  n8n-worker:
    image: n8nio/n8n:2.40.0
    entrypoint: ["/usr/local/bin/n8n-secrets", "--", "/docker-entrypoint.sh"]
    command: worker
    environment:
      <<: [*env, *more]
      QUEUE_BULL_REDIS_PASSWORD: CANARY-merged
`
	k8s := `apiVersion: v1
kind: Namespace
metadata:
  name: n8n
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: env
  namespace: n8n
data:
  N8N_ENCRYPTION_KEY: vault://secret/n8n/core#encryption_key
  VAULT_SKIP_VERIFY: "true"
---
# a comment between documents
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: n8n
  namespace: n8n
spec:
  template:
    spec:
      containers:
        - name: n8n
          image: n8nio/n8n:2.40.0
          envFrom:
            - configMapRef: {name: env}
          env:
            - name: DB_POSTGRESDB_PASSWORD
              value: CANARY-k8s
`
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cf, kf := write("compose.yaml", compose), write("k8s.yaml", k8s)
	rep := run(t, dir)
	want := []struct {
		code, file string
		line, col  int
	}{
		{CodeLiteralSecret, cf, 4, 3},              // in the anchor, for both services
		{CodeImageUnpinned, cf, 9, 5},              // the image key
		{CodeLiteralSecret, cf, 18, 7},             // next to a merge key
		{CodeKeyMissing, cf, 8, 3},                 // the main has no key: env holds none
		{CodeTLSVerifyDisabled, kf, 13, 3},         // in the second document's ConfigMap
		{CodeReferenceWithoutInjector, kf, 26, 11}, // the image of the third document
		{CodeLiteralSecret, kf, 30, 15},            // an env entry, in the third document
	}
	for _, w := range want {
		ok := false
		for _, f := range rep.Findings {
			if f.Code == w.code && f.File == w.file && f.Line == w.line && f.Column == w.col {
				ok = true
			}
		}
		if !ok {
			t.Errorf("no %s at %s:%d:%d; got %v", w.code, filepath.Base(w.file), w.line, w.col, summary(rep))
		}
	}
	for _, f := range rep.Findings {
		if f.Code == CodeLiteralSecret && f.Line == 4 && f.Subject != "service n8n, service n8n-worker" {
			t.Errorf("the anchored secret is reported for %q, want both services", f.Subject)
		}
	}
	for name, out := range outputs(t, rep) {
		if strings.Contains(out, canary) {
			t.Errorf("%s output holds a planted secret value", name)
		}
	}
}

// TestSuppression: an ignore comment on the line or the line above
// accepts a finding, which then does not count; one for another code does
// not.
func TestSuppression(t *testing.T) {
	dir := t.TempDir()
	data := `services:
  n8n:
    image: n8nio/n8n:2.40.0
    entrypoint: ["/usr/local/bin/n8n-secrets", "--", "/docker-entrypoint.sh"]
    environment:
      N8N_ENCRYPTION_KEY: vault://secret/n8n/core#encryption_key
      # n8n-secrets:ignore STORE_PLAIN_HTTP the network stays on this host
      VAULT_ADDR: http://vault:8200
      N8N_SECRETS_ALLOW_HTTP: "true"
      N8N_BLOCK_ENV_ACCESS_IN_NODE: "false" # n8n-secrets:ignore IMAGE_UNPINNED, LITERAL_SECRET wrong codes
`
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := run(t, dir)
	var plain, env *Finding
	for i, f := range rep.Findings {
		switch f.Code {
		case CodeStorePlainHTTP:
			plain = &rep.Findings[i]
		case CodeEnvAccessAllowed:
			env = &rep.Findings[i]
		}
	}
	if plain == nil || plain.Suppressed == nil || plain.Suppressed.Justification != "the network stays on this host" || plain.Severity != Warning {
		t.Fatalf("STORE_PLAIN_HTTP: want a suppressed warning with its justification, got %+v", plain)
	}
	if env == nil || env.Suppressed != nil {
		t.Fatalf("ENV_ACCESS_ALLOWED: want it reported (the comment names other codes), got %+v", env)
	}
	if n := rep.Count(Warning); n != 1 {
		t.Errorf("Count(Warning) = %d, want 1 (the suppressed finding does not count)", n)
	}
	var b bytes.Buffer
	if err := rep.WriteSARIF(&b, "test"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"kind": "inSource"`) {
		t.Error("SARIF: the suppressed result has no inSource suppression")
	}
}

// sarifSchema compiles the vendored SARIF 2.1.0 schema.
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sarif", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// TestSARIFValidAgainstSchema validates the SARIF output of every broken
// fixture (results, suppressed results, notifications) against the SARIF
// 2.1.0 schema, and makes sure the validator rejects an invalid log.
func TestSARIFValidAgainstSchema(t *testing.T) {
	sch := sarifSchema(t)
	validate := func(what string, data []byte) error {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: not JSON: %v", what, err)
		}
		return sch.Validate(inst)
	}
	dirs, _ := filepath.Glob(filepath.Join("testdata", "findings", "*", "broken"))
	rep := run(t, dirs...)
	rep.Findings[0].Suppressed = &Suppression{Justification: "accepted", Line: rep.Findings[0].Line}
	var b bytes.Buffer
	if err := rep.WriteSARIF(&b, "1.2.3"); err != nil {
		t.Fatal(err)
	}
	if err := validate("sarif output", b.Bytes()); err != nil {
		t.Fatalf("the SARIF output does not validate: %v", err)
	}
	var log struct {
		Runs []struct {
			Results     []json.RawMessage `json:"results"`
			Invocations []struct {
				Notifications []json.RawMessage `json:"toolExecutionNotifications"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil || len(log.Runs) != 1 || len(log.Runs[0].Results) < len(dirs) || len(log.Runs[0].Invocations[0].Notifications) < len(runWide) {
		t.Fatalf("SARIF: want one run with a result per fixture and the run-wide notes as notifications (%v)", err)
	}
	// The validator is not a rubber stamp.
	bad := bytes.Replace(b.Bytes(), []byte(`"level": "error"`), []byte(`"level": "fatal"`), 1)
	if err := validate("an invalid log", bad); err == nil {
		t.Fatal("the schema accepted a result with level fatal: the validation proves nothing")
	}
}

// TestReadsOnlyRegularFiles: a FIFO named like a deployment file is never
// opened for a blocking read, whether met in a directory or named.
func TestReadsOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "compose.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan *Report, 2)
	go func() {
		r1, _ := Run(context.Background(), testStores, []string{dir})
		r2, _ := Run(context.Background(), testStores, []string{fifo})
		done <- r1
		done <- r2
	}()
	select {
	case r1 := <-done:
		r2 := <-done
		if len(r1.Files) != 0 {
			t.Errorf("walking the directory read %v", r1.Files)
		}
		if len(codesIn(r2)[CodeParseError]) != 1 {
			t.Errorf("naming the FIFO: want a PARSE_ERROR (not a regular file), got %v", summary(r2))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run blocked on a FIFO")
	}
}

// TestRunErrors: a path that does not exist, or a file of no known kind,
// is an error; a canceled context stops the run.
func TestRunErrors(t *testing.T) {
	if _, err := Run(context.Background(), testStores, []string{filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("a missing path: no error")
	}
	other := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(other, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), testStores, []string{other}); err == nil || !strings.Contains(err.Error(), "not a Dockerfile") {
		t.Errorf("a .txt file: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, testStores, []string{"testdata"}); err == nil {
		t.Error("a canceled context: no error")
	}
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		glob, path string
		want       bool
	}{
		{"secret/data/n8n/*", "secret/data/n8n/core", true},
		{"secret/data/n8n/*", "secret/data/n8n", false},
		{"secret/data/n8n/*", "secret/data/other/core", false},
		{"secret/data/n8n/core", "secret/data/n8n/core", true},
		{"secret/data/n8n/core", "secret/data/n8n/core2", false},
		{"secret/data/n8n/co*", "secret/data/n8n/core", true},
		{"secret/+/n8n/*", "secret/metadata/n8n/core", true},
		{"secret/+/n8n/*", "secret/n8n/core", false},
		{"*", "anything/at/all", true},
		{"secret/*", "secret/data/n8n/core", true},
	}
	for _, c := range cases {
		if got := globMatch(c.glob, c.path); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.glob, c.path, got, c.want)
		}
	}
}

func TestWholeMount(t *testing.T) {
	cases := []struct {
		glob, mount string
		whole       bool
	}{
		{"*", "", true}, {"+/*", "", true}, {"secret/*", "secret", true}, {"secret/data/*", "secret", true},
		{"secret/+/*", "secret", true}, {"secret/data/n8n/*", "", false}, {"secret/data/n8n*", "", false},
		{"secret/data/n8n/core", "", false},
	}
	for _, c := range cases {
		if m, w := wholeMount(c.glob); m != c.mount || w != c.whole {
			t.Errorf("wholeMount(%q) = %q, %v; want %q, %v", c.glob, m, w, c.mount, c.whole)
		}
	}
}

func TestInterpolate(t *testing.T) {
	dotenv := map[string]setting{"SET": {value: "v", lit: Pos{File: ".env", Line: 3}, via: "SET in .env"}, "EMPTY": {}}
	lookup := func(n string) (setting, bool) { s, ok := dotenv[n]; return s, ok }
	here := Pos{File: "compose.yaml", Line: 9}
	cases := []struct {
		in, value, host string
		dflt            bool
		lit             Pos
	}{
		{"plain", "plain", "", false, here},
		{"${A}", "", "${A}", false, Pos{}},
		{"${A:-def}", "def", "", true, here},
		{"${A-def}", "def", "", true, here},
		{"${A:?set A}", "", "${A}", false, Pos{}},
		{"${A:+alt}", "", "", false, Pos{}},
		{"$A/x", "", "${A}", false, Pos{}},
		{"$$literal", "$literal", "", false, here},
		{"img:${V:-2.40.0}", "img:2.40.0", "", true, here},
		{"${SET}", "v", "", false, Pos{File: ".env", Line: 3}},
		{"${SET:-x}", "v", "", false, Pos{File: ".env", Line: 3}},
		{"${EMPTY:-x}", "x", "", true, here},
		{"${EMPTY-x}", "", "", false, Pos{}},
		{"${SET:+alt}", "alt", "", false, here},
		{"${A:-${SET}}", "v", "", false, Pos{File: ".env", Line: 3}},
		{"${A:-${B:-deep}}", "deep", "", true, here},
		{"${1bad}", "${1bad}", "", false, here},
		{"${unclosed", "${unclosed", "", false, here},
	}
	for _, c := range cases {
		s := interpolate(c.in, here, lookup)
		if s.value != c.value || s.host != c.host || s.dflt != c.dflt || s.lit != c.lit {
			t.Errorf("interpolate(%q) = %+v; want value %q host %q dflt %v lit %v", c.in, s, c.value, c.host, c.dflt, c.lit)
		}
	}
}

func TestIsSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"N8N_ENCRYPTION_KEY": true, "DB_POSTGRESDB_PASSWORD": true, "QUEUE_BULL_REDIS_PASSWORD": true,
		"N8N_HMAC_SIGNATURE_SECRET": true, "OPENAI_API_KEY": true, "GITHUB_TOKEN": true, "VAULT_TOKEN": true,
		"DB_POSTGRESDB_PASSWORD_FILE": false, "N8N_SECRETS_DIR": false, "VAULT_ADDR": false, "DB_POSTGRESDB_USER": false,
		"N8N_SECRETS_EXPECT_KEY_FINGERPRINT": false, "VAULT_ROLE_ID": false, "VAULT_TOKEN_FILE": false,
	} {
		if got := isSecretName(name); got != want {
			t.Errorf("isSecretName(%s) = %v, want %v", name, got, want)
		}
	}
}

// FuzzParsers feeds arbitrary content to every parser of the audit, as
// each kind of file: none may panic, and every parse error names a line
// and one of the package's fixed phrases, never text of the input (seeds
// plant canaries where each parser's error path would quote it).
func FuzzParsers(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"findings/*/*/*", "corpus/*/*", "corpus/*/*/*"} {
		m, _ := filepath.Glob(filepath.Join("testdata", pattern))
		seeds = append(seeds, m...)
	}
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"a: &x [*x]\n", "services:\n  n8n:\n    environment:\n      DB_POSTGRESDB_PASSWORD: *CANARYPa55w0rd\n",
		"N8N_ENCRYPTION_KEY=CANARY-key\nFROM n8nio/n8n:2.40.0\n", "path \"x\" {\n  CANARY-key\n}\n",
		"path \"x\" {\n  capabilities = [for c in [\"read\"] : c]\n}\n", aliasBomb(20),
		"N8N_ENCRYPTION_KEY=x${vualt://CANARY\nDB_POSTGRESDB_PASSWORD=\"CANARY\nN8N_SECRETS_ENV_FROM=vault://a?CANARY=1\n",
		"services:\n  n8n:\n    environment:\n      DB_POSTGRESDB_CONNECTION_URL: postgres://n8n:CANARY@db/${vault://x}\n      P: op://CANARY\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// In memory: the file cache stands in for the disk.
		a := newAuditor(context.Background(), testStores)
		for _, name := range []string{"compose.yaml", "Dockerfile", "app.env", "policy.hcl"} {
			p := filepath.Join("fuzz", name)
			a.contents[p] = data
			a.load(p)
		}
		// The same content as the env file a container's n8n-secrets
		// reads (--env-file), mounted from the tree.
		p := filepath.Join("fuzz", "injector", "compose.yaml")
		a.contents[p] = []byte(fuzzInjector)
		a.load(p)
		a.build()
		rep := a.finish()
		checkParseErrors(t, rep)
		var b bytes.Buffer
		_ = rep.WriteTable(&b)
		_ = rep.WriteJSON(&b)
		_ = rep.WriteSARIF(&b, "fuzz")
	})
}

// fuzzInjector runs n8n-secrets with an --env-file mounted from the
// fuzzed file.
const fuzzInjector = `services:
  n8n:
    image: n8nio/n8n:2.40.0
    entrypoint: ["n8n-secrets", "--env-file", "/etc/n8n.env", "--", "/docker-entrypoint.sh"]
    volumes: ["../app.env:/etc/n8n.env:ro"]
`

var update = flag.Bool("update", false, "rewrite the rules table of docs/audit.md")

// rulesDoc renders the findings part of docs/audit.md from Rules: a table
// of every code, then a section for each, which SARIF's helpUri points at.
func rulesDoc() string {
	var b strings.Builder
	b.WriteString("| code | severity | finding |\n|---|---|---|\n")
	for _, r := range Rules {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", r.Code, strings.ToLower(r.Code), r.Severity, r.Title)
	}
	for _, r := range Rules {
		sec := "not a security rule"
		if r.Security {
			sec = fmt.Sprintf("security, severity %.1f in SARIF", r.SecuritySeverity)
		}
		fmt.Fprintf(&b, "\n### %s\n\n%s: %s (%s). %s\n", r.Code, strings.ToUpper(r.Severity.String()[:1])+r.Severity.String()[1:], r.Title, sec, r.Help)
	}
	return b.String()
}

// kindsDoc renders the table of file kinds from FileKinds.
func kindsDoc() string {
	var b strings.Builder
	b.WriteString("| kind | the file is |\n|---|---|\n")
	for _, k := range FileKinds {
		fmt.Fprintf(&b, "| `%s` | %s |\n", k.Kind, k.Meaning)
	}
	return b.String()
}

// TestDocsListEveryRule keeps docs/audit.md's findings (a table and a
// section per rule, the targets of SARIF's helpUri) and its table of file
// kinds equal to Rules and FileKinds: `go test ./audit -run
// TestDocsListEveryRule -update` rewrites them.
func TestDocsListEveryRule(t *testing.T) {
	p := filepath.Join("..", "docs", "audit.md")
	replaceGenerated(t, p, "<!-- rules: generated", "<!-- end rules -->", rulesDoc())
	replaceGenerated(t, p, "<!-- kinds: generated", "<!-- end kinds -->", kindsDoc())
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Rules {
		if !strings.Contains(string(data), "\n### "+r.Code+"\n") {
			t.Errorf("docs/audit.md has no section %s for SARIF's helpUri %s", r.Code, RuleURL(r.Code))
		}
	}
}

// TestReportKindsAreDocumented: every kind a run reports is one of
// FileKinds (issue 22: "kind":"yaml" was reported and not documented).
func TestReportKindsAreDocumented(t *testing.T) {
	known := map[string]bool{}
	for _, k := range FileKinds {
		known[k.Kind] = true
	}
	dirs, _ := filepath.Glob(filepath.Join("testdata", "findings", "*", "*"))
	dirs = append(dirs, filepath.Join("testdata", "corpus"), filepath.Join("..", "examples"), filepath.Join("..", "docker"))
	seen := map[string]bool{}
	for _, d := range dirs {
		for _, f := range run(t, d).Files {
			seen[f.Kind] = true
			if !known[f.Kind] {
				t.Errorf("%s: kind %q is not in FileKinds", f.Path, f.Kind)
			}
		}
	}
	for _, k := range []string{KindCompose, KindKubernetes, KindDockerfile, KindEnv, KindVaultPolicy, KindEnvTemplate, KindHelmTemplate, KindOther, KindInvalid} {
		if !seen[k] {
			t.Errorf("no test file is taken for %s: the kind is not exercised", k)
		}
	}
}

// TestReadmeExamplesCount keeps the README's benchmark line about the
// examples' audit equal to the number of files the audit reads there.
func TestReadmeExamplesCount(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("`n8n-secrets audit` over the examples \\((\\d+) files\\)").FindSubmatch(data)
	if m == nil {
		t.Fatal("README.md: no line for the audit over the examples (N files)")
	}
	rep := run(t, filepath.Join("..", "examples"), filepath.Join("..", "docker"))
	if want := strconv.Itoa(len(rep.Files)); string(m[1]) != want {
		t.Errorf("README.md says the audit over the examples reads %s files; it reads %s", m[1], want)
	}
}

// TestEnvFile: a service's env_file is read as part of its environment,
// and a secret in it is reported once, at its line, whether the file is
// also audited on its own or not.
func TestEnvFile(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"compose.yaml": "services:\n  n8n:\n    image: n8nio/n8n:2.40.0\n    entrypoint: [\"/usr/local/bin/n8n-secrets\", \"--\", \"n8n\"]\n    env_file: [n8n.env]\n",
		"n8n.env":      "# comment\nN8N_ENCRYPTION_KEY=vault://secret/n8n/core#encryption_key\nDB_POSTGRESDB_PASSWORD=CANARY-env-file\n",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, paths := range [][]string{{dir}, {filepath.Join(dir, "compose.yaml")}} {
		rep := run(t, paths...)
		found := codesIn(rep)[CodeLiteralSecret]
		if len(found) != 1 || found[0].File != filepath.Join(dir, "n8n.env") || found[0].Line != 3 || found[0].Column != 1 {
			t.Errorf("%v: want one LITERAL_SECRET at n8n.env:3:1, got %v", paths, summary(rep))
		}
		if len(codesIn(rep)[CodeKeyMissing]) != 0 {
			t.Errorf("%v: the key in the env_file was not seen: %v", paths, summary(rep))
		}
	}
}

// BenchmarkAuditExamples audits the project's examples and Dockerfile,
// as CI would before a deploy.
func BenchmarkAuditExamples(b *testing.B) {
	paths := []string{filepath.Join("..", "examples"), filepath.Join("..", "docker")}
	rep, err := Run(context.Background(), testStores, paths)
	if err != nil {
		b.Fatal(err)
	}
	cpu := startCPU()
	for b.Loop() {
		if _, err := Run(context.Background(), testStores, paths); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	b.ReportMetric(float64(len(rep.Files)), "files")
}

// TestSARIFRulesAndFingerprints: each rule has its own security-severity
// and the "security" tag only when it is about secrets; its helpUri points
// at its section in docs/audit.md; results carry a partial fingerprint
// that does not change when the finding moves to another line.
func TestSARIFRulesAndFingerprints(t *testing.T) {
	broken := filepath.Join("testdata", "findings", "LITERAL_SECRET", "broken", "compose.yaml")
	data, err := os.ReadFile(broken)
	if err != nil {
		t.Fatal(err)
	}
	type sarif struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID         string `json:"id"`
						HelpURI    string `json:"helpUri"`
						Properties struct {
							Tags             []string `json:"tags"`
							SecuritySeverity string   `json:"security-severity"`
						} `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID              string            `json:"ruleId"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				Locations           []struct {
					PhysicalLocation struct {
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	audit := func(content string) sarif {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := Run(context.Background(), testStores, []string{filepath.Join(dir, "compose.yaml")})
		if err != nil {
			t.Fatal(err)
		}
		for i := range rep.Findings {
			rep.Findings[i].File = strings.TrimPrefix(rep.Findings[i].File, dir+"/")
		}
		var b bytes.Buffer
		if err := rep.WriteSARIF(&b, "test"); err != nil {
			t.Fatal(err)
		}
		var s sarif
		if err := json.Unmarshal(b.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := audit(string(data))
	severities := map[string]bool{}
	for _, r := range before.Runs[0].Tool.Driver.Rules {
		ru := rule(r.ID)
		if r.HelpURI != RuleURL(r.ID) || !strings.HasSuffix(r.HelpURI, "docs/audit.md#"+strings.ToLower(r.ID)) {
			t.Errorf("%s: helpUri %q", r.ID, r.HelpURI)
		}
		security := slices.Contains(r.Properties.Tags, "security")
		if security != ru.Security {
			t.Errorf("%s: tagged security %v, rule says %v", r.ID, security, ru.Security)
		}
		if security != (r.Properties.SecuritySeverity != "") {
			t.Errorf("%s: security-severity %q on a rule tagged security=%v", r.ID, r.Properties.SecuritySeverity, security)
		}
		severities[r.Properties.SecuritySeverity] = true
	}
	if len(severities) < 5 {
		t.Errorf("security-severity takes %d values: each rule its own, not one for every error", len(severities))
	}
	if l, p := rule(CodeLiteralSecret), rule(CodeParseError); !l.Security || p.Security || l.SecuritySeverity < 9 {
		t.Errorf("a plaintext secret must rank as critical and a parse error not as security: %+v %+v", l, p)
	}
	// The same findings three lines lower keep their fingerprints.
	after := audit("# moved\n#\n#\n" + string(data))
	fps := func(s sarif) map[string]int {
		m := map[string]int{}
		for _, r := range s.Runs[0].Results {
			if r.PartialFingerprints[fingerprintKey] == "" {
				t.Errorf("%s: no partial fingerprint", r.RuleID)
			}
			m[r.PartialFingerprints[fingerprintKey]] = r.Locations[0].PhysicalLocation.Region.StartLine
		}
		return m
	}
	b, a := fps(before), fps(after)
	if len(b) == 0 || len(b) != len(a) {
		t.Fatalf("fingerprints before %v, after %v", b, a)
	}
	for fp, line := range b {
		if a[fp] != line+3 {
			t.Errorf("fingerprint %s: line %d before, %d after moving three lines", fp, line, a[fp])
		}
	}
}
