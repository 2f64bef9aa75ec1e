package examples

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// root is the repository root, seen from this package's directory.
const root = ".."

// The files under test.
var (
	composeFile    = filepath.Join("compose", "compose.yaml")
	stackFile      = filepath.Join("swarm", "stack.yaml")
	k8sVaultFile   = filepath.Join("kubernetes", "vault-auth.yaml")
	k8sFileFile    = filepath.Join("kubernetes", "secret-volume.yaml")
	dockerfilePath = filepath.Join(root, "docker", "Dockerfile")
)

// exampleDirs are the directories of the deployment examples (the other
// files under examples/ belong to `make run`).
var exampleDirs = []string{"compose", "swarm", "kubernetes", "rotate", "helm", "nomad", "github-actions"}

// n8nServices are the n8n roles every example deploys, by service,
// Deployment or stack service name.
var n8nServices = []string{"n8n", "n8n-worker", "n8n-webhook"}

// yamlFiles returns every YAML file of the examples.
func yamlFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, d := range exampleDirs {
		err := filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if ext := filepath.Ext(p); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 4 {
		t.Fatalf("found only %d YAML files under %v", len(files), exampleDirs)
	}
	return files
}

// loadYAML parses every document of a YAML file into generic values
// (merge keys resolved).
func loadYAML(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("%s: document %d: %v", path, len(docs)+1, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		t.Fatalf("%s: no YAML document", path)
	}
	return docs
}

// interpRe matches ${NAME}, ${NAME:-default}, ${NAME-default},
// ${NAME:?message} and ${NAME?message}, as Compose and Swarm read them.
var interpRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}`)

// interpolate applies Compose's variable substitution to s with vars as
// the environment; "$$" is a literal "$".
func interpolate(s string, vars map[string]string) string {
	const dollar = "\x00dollar\x00"
	s = strings.ReplaceAll(s, "$$", dollar)
	s = interpRe.ReplaceAllStringFunc(s, func(m string) string {
		g := interpRe.FindStringSubmatch(m)
		v, set := vars[g[1]]
		if g[3] == "" {
			return v
		}
		if set && (v != "" || g[2] == "") {
			return v
		}
		if g[3] == "-" {
			return g[4]
		}
		return "<unset " + g[1] + ">"
	})
	return strings.ReplaceAll(s, dollar, "$")
}

// str returns a YAML scalar as a string.
func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// strList returns a YAML list of scalars (or one string, split on spaces,
// as Compose does for command) as strings.
func strList(v any) []string {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return strings.Fields(v)
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			out[i] = str(e)
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// service is one service of a compose or stack file.
type service struct {
	name string
	raw  map[string]any
}

// services returns the services of a compose or stack file.
func services(t *testing.T, path string) map[string]service {
	t.Helper()
	doc := loadYAML(t, path)[0]
	out := map[string]service{}
	for name, v := range asMap(doc["services"]) {
		out[name] = service{name: name, raw: asMap(v)}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no services", path)
	}
	return out
}

// env returns the service's environment (map or list form), interpolated
// with vars.
func (s service) env(vars map[string]string) map[string]string {
	out := map[string]string{}
	switch e := s.raw["environment"].(type) {
	case map[string]any:
		for k, v := range e {
			out[k] = interpolate(str(v), vars)
		}
	case []any:
		for _, kv := range e {
			k, v, _ := strings.Cut(str(kv), "=")
			out[k] = interpolate(v, vars)
		}
	}
	return out
}

// command returns the service's command.
func (s service) command() []string { return strList(s.raw["command"]) }

// mounts returns the service's volumes as target → source (a named
// volume, or a bind path relative to the file's directory).
func (s service) mounts() map[string]string {
	out := map[string]string{}
	for _, v := range strList(s.raw["volumes"]) {
		f := strings.Split(v, ":")
		if len(f) >= 2 {
			out[f[1]] = f[0]
		}
	}
	return out
}

// k8sObject is one Kubernetes object of a manifest.
type k8sObject struct {
	kind, name, namespace string
	raw                   map[string]any
}

func k8sObjects(t *testing.T, path string) []k8sObject {
	t.Helper()
	var out []k8sObject
	for _, doc := range loadYAML(t, path) {
		md := asMap(doc["metadata"])
		out = append(out, k8sObject{kind: str(doc["kind"]), name: str(md["name"]), namespace: str(md["namespace"]), raw: doc})
	}
	return out
}

// k8sContainer is the first container of a Deployment, with its
// environment (envFrom ConfigMaps of the same file, then env) resolved.
type k8sContainer struct {
	deployment     string
	namespace      string
	serviceAccount string
	image          string
	command        []string // nil: the image's entrypoint
	args           []string
	env            map[string]string
	mounts         map[string]string // mountPath → volume name
	volumes        map[string]map[string]any
	pod            map[string]any // the pod's spec, whole
	container      map[string]any // the n8n container, whole
}

func k8sDeployments(t *testing.T, path string) map[string]k8sContainer {
	t.Helper()
	objs := k8sObjects(t, path)
	configMaps := map[string]map[string]any{}
	for _, o := range objs {
		if o.kind == "ConfigMap" {
			configMaps[o.name] = asMap(o.raw["data"])
		}
	}
	out := map[string]k8sContainer{}
	for _, o := range objs {
		if o.kind != "Deployment" {
			continue
		}
		pod := asMap(asMap(asMap(o.raw["spec"])["template"])["spec"])
		cs, _ := pod["containers"].([]any)
		if len(cs) == 0 {
			t.Fatalf("%s: Deployment %s has no container", path, o.name)
		}
		c := asMap(cs[0])
		kc := k8sContainer{deployment: o.name, namespace: o.namespace, serviceAccount: str(pod["serviceAccountName"]),
			image: str(c["image"]), command: strList(c["command"]), args: strList(c["args"]), env: map[string]string{},
			mounts: map[string]string{}, volumes: map[string]map[string]any{}, pod: pod, container: c}
		ef, _ := c["envFrom"].([]any)
		for _, e := range ef {
			ref := asMap(asMap(e)["configMapRef"])
			data, ok := configMaps[str(ref["name"])]
			if !ok {
				t.Errorf("%s: Deployment %s: envFrom names ConfigMap %q, which the file does not define", path, o.name, str(ref["name"]))
			}
			for k, v := range data {
				kc.env[k] = str(v)
			}
		}
		envs, _ := c["env"].([]any)
		for _, e := range envs {
			m := asMap(e)
			kc.env[str(m["name"])] = str(m["value"])
		}
		vms, _ := c["volumeMounts"].([]any)
		for _, vm := range vms {
			m := asMap(vm)
			kc.mounts[str(m["mountPath"])] = str(m["name"])
		}
		vols, _ := pod["volumes"].([]any)
		for _, v := range vols {
			m := asMap(v)
			kc.volumes[str(m["name"])] = m
		}
		out[o.name] = kc
	}
	return out
}

// knownSettings derives the settings the binary knows from its code: the
// variables named in its help text (NAME[_FILE] means both; the settings'
// rows are made from its table of settings), and the
// VAULT_* variables the Vault provider reads (getenv("…") and
// readCredential(getenv, "…", …), which also reads …_FILE).
func knownSettings(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{}
	fset := token.NewFileSet()
	parse := func(path string) *ast.File {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	lit := func(e ast.Expr) (string, bool) {
		bl, ok := e.(*ast.BasicLit)
		if !ok || bl.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(bl.Value)
		return s, err == nil
	}

	// The help text: every variable it names (the settings' rows come
	// from the binary's table of settings).
	help := readHelp(t)
	for _, m := range regexp.MustCompile(`\b((?:N8N_SECRETS|VAULT)_[A-Z0-9_]*[A-Z0-9])(\[_FILE\])?`).FindAllStringSubmatch(help, -1) {
		known[m[1]] = true
		if m[2] != "" {
			known[m[1]+"_FILE"] = true
		}
	}

	// providers/vault: what the provider reads.
	files, _ := filepath.Glob(filepath.Join(root, "providers", "vault", "*.go"))
	for _, p := range files {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		ast.Inspect(parse(p), func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			fn, ok := call.Fun.(*ast.Ident)
			if !ok {
				return true
			}
			switch {
			case fn.Name == "getenv" && len(call.Args) == 1:
				if s, ok := lit(call.Args[0]); ok {
					known[s] = true
				}
			case fn.Name == "readCredential" && len(call.Args) >= 2:
				if g, ok := call.Args[0].(*ast.Ident); ok && g.Name == "getenv" {
					if s, ok := lit(call.Args[1]); ok {
						known[s], known[s+"_FILE"] = true, true
					}
				}
			}
			return true
		})
	}
	for _, must := range []string{"N8N_SECRETS_DIR", "N8N_SECRETS_ALLOW_HTTP", "N8N_SECRETS_EXPECT_KEY_FINGERPRINT",
		"VAULT_ADDR", "VAULT_AUTH_METHOD", "VAULT_AUTH_ROLE", "VAULT_ROLE_ID_FILE", "VAULT_SECRET_ID_FILE"} {
		if !known[must] {
			t.Fatalf("derived settings lack %s: the derivation from the code is broken", must)
		}
	}
	return known
}

// readHelp returns the binary's help text (n8n-secrets help), which is
// made from its tables of commands and settings.
func readHelp(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(n8nSecrets(t), "help").Output()
	if err != nil || len(out) < 1000 {
		t.Fatalf("n8n-secrets help: %v (%d bytes)", err, len(out))
	}
	return string(out)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// dockerInstr is one Dockerfile instruction.
type dockerInstr struct {
	cmd  string // upper case
	args string
	line int
}

// dockerStage is one build stage.
type dockerStage struct {
	name, image string
	platform    string
	instrs      []dockerInstr
}

// dockerfile is a parsed Dockerfile: global ARG defaults and stages.
type dockerfile struct {
	args   map[string]string
	stages []*dockerStage
}

// parseDockerfile reads the instructions of a Dockerfile (comments
// dropped, continuation lines joined) and substitutes the global ARG
// defaults into FROM.
func parseDockerfile(t *testing.T, path string) *dockerfile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	df := &dockerfile{args: map[string]string{}}
	var cur *dockerStage
	var buf strings.Builder
	start := 0
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if buf.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if buf.Len() > 0 && strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if buf.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, "\\") {
			buf.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		buf.WriteString(trimmed)
		full := buf.String()
		buf.Reset()
		cmd, args, _ := strings.Cut(full, " ")
		in := dockerInstr{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		switch {
		case in.cmd == "ARG" && cur == nil:
			k, v, _ := strings.Cut(in.args, "=")
			df.args[k] = v
		case in.cmd == "FROM":
			cur = &dockerStage{}
			f := strings.Fields(in.args)
			var rest []string
			for _, w := range f {
				if p, ok := strings.CutPrefix(w, "--platform="); ok {
					cur.platform = p
					continue
				}
				rest = append(rest, w)
			}
			if len(rest) == 0 {
				t.Fatalf("%s:%d: FROM without an image", path, in.line)
			}
			cur.image = os.Expand(rest[0], func(k string) string { return df.args[k] })
			if len(rest) == 3 && strings.EqualFold(rest[1], "AS") {
				cur.name = rest[2]
			}
			df.stages = append(df.stages, cur)
		case cur == nil:
			t.Fatalf("%s:%d: %s before FROM", path, in.line, in.cmd)
		default:
			cur.instrs = append(cur.instrs, in)
		}
	}
	if len(df.stages) == 0 {
		t.Fatalf("%s: no stage", path)
	}
	return df
}

// stage returns the stage named name, or nil.
func (df *dockerfile) stage(name string) *dockerStage {
	for _, s := range df.stages {
		if s.name == name {
			return s
		}
	}
	return nil
}

// all returns the arguments of every instruction cmd of the stage.
func (s *dockerStage) all(cmd string) []dockerInstr {
	var out []dockerInstr
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// jsonArgs parses an exec-form instruction argument (["a", "b"]).
func jsonArgs(t *testing.T, in dockerInstr) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(in.args), &out); err != nil {
		t.Fatalf("Dockerfile:%d: %s is not in exec (JSON) form: %v", in.line, in.cmd, err)
	}
	return out
}

// pinned reports whether an image reference names a fixed version: a
// digest, or a tag other than latest that holds a digit.
func pinned(image string) bool {
	if image == "scratch" || strings.Contains(image, "@sha256:") {
		return true
	}
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return false
	}
	tag := image[i+1:]
	return tag != "latest" && strings.ContainsAny(tag, "0123456789") && !strings.Contains(tag, "<unset")
}
