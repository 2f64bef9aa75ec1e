package examples

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/providers"
	"github.com/n8n-secrets/n8n-secrets/providers/file"
)

// walkStrings calls fn for every string scalar of a YAML value (keys
// included), with its location.
func walkStrings(v any, loc string, fn func(loc, s string)) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			fn(loc+"."+k+" (key)", k)
			walkStrings(v[k], loc+"."+k, fn)
		}
	case []any:
		for i, e := range v {
			walkStrings(e, loc+"["+strconv.Itoa(i)+"]", fn)
		}
	case string:
		fn(loc, v)
	}
}

// expandContainerArgs does in a Kubernetes workload (Job, Deployment) what
// Kubernetes does before it runs a container: $(NAME) in command and args
// becomes the container's variable NAME (env entries with a value).
func expandContainerArgs(doc map[string]any) {
	pod := asMap(asMap(asMap(doc["spec"])["template"])["spec"])
	cs, _ := pod["containers"].([]any)
	for _, c := range cs {
		cm := asMap(c)
		env := map[string]string{}
		es, _ := cm["env"].([]any)
		for _, e := range es {
			env[str(asMap(e)["name"])] = str(asMap(e)["value"])
		}
		for _, field := range []string{"command", "args"} {
			list, _ := cm[field].([]any)
			for i, a := range list {
				if s, ok := a.(string); ok {
					list[i] = k8sExpand(s, env)
				}
			}
		}
	}
}

// TestYAMLParsesAndReferencesParse parses every YAML file (all documents)
// and every value in them that is a secret reference.
func TestYAMLParsesAndReferencesParse(t *testing.T) {
	refs := map[string]int{}
	for _, f := range yamlFiles(t) {
		for i, doc := range loadYAML(t, f) {
			expandContainerArgs(doc)
			walkStrings(doc, "doc"+strconv.Itoa(i), func(loc, s string) {
				s = interpolate(s, nil)
				if !providers.Stores.IsReference(s) {
					return
				}
				refs[f]++
				if _, err := providers.Stores.Parse(s); err != nil {
					// The error never repeats the value.
					t.Errorf("%s: %s: reference does not parse: %v", f, loc, err)
				}
			})
		}
	}
	// The READMEs: NAME=reference and NAME: reference, as they show them.
	mds, _ := filepath.Glob("*.md")
	more, _ := filepath.Glob("*/*.md")
	mdRef := regexp.MustCompile(`[A-Z][A-Z0-9_]*(?:=|: )((?:vault|awssm|file):[^\s` + "`" + `'"),]+)`)
	for _, md := range append(mds, more...) {
		data, err := os.ReadFile(md)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdRef.FindAllStringSubmatch(string(data), -1) {
			refs[md]++
			if _, err := providers.Stores.Parse(m[1]); err != nil {
				t.Errorf("%s: %s: %v", md, m[0], err)
			}
		}
	}
	if refs["README.md"] < 5 {
		t.Errorf("README.md: found %d references: is the scan broken?", refs["README.md"])
	}
	for _, f := range []string{composeFile, stackFile, k8sVaultFile, k8sFileFile} {
		if refs[f] < 3 {
			t.Errorf("%s: %d references, want at least the encryption key, the Postgres and the Redis password", f, refs[f])
		}
	}
}

// settingRe finds the injector's own and Vault's variables in any text.
var settingRe = regexp.MustCompile(`\b(?:N8N_SECRETS|VAULT)_[A-Z0-9_]*[A-Z0-9]\b`)

// TestSettingsAreKnown checks that every N8N_SECRETS_* and VAULT_*
// variable the examples set, and every one their scripts and README name,
// is one the binary knows (derived from its code, not a second list).
func TestSettingsAreKnown(t *testing.T) {
	known := knownSettings(t)
	used := map[string][]string{} // name → where

	for _, f := range []string{composeFile, stackFile} {
		for _, name := range sortedKeys(services(t, f)) {
			for k := range services(t, f)[name].env(nil) {
				used[k] = append(used[k], f+": "+name)
			}
		}
	}
	for _, f := range []string{k8sVaultFile, k8sFileFile} {
		for _, o := range k8sObjects(t, f) {
			if o.kind == "ConfigMap" {
				for k := range asMap(o.raw["data"]) {
					used[k] = append(used[k], f+": ConfigMap "+o.name)
				}
			}
		}
		for name, c := range k8sDeployments(t, f) {
			for k := range c.env {
				used[k] = append(used[k], f+": Deployment "+name)
			}
		}
	}
	// Scripts, READMEs, config files: every name they mention.
	var texts []string
	for _, d := range exampleDirs {
		_ = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				texts = append(texts, p)
			}
			return nil
		})
	}
	texts = append(texts, "README.md", dockerfilePath)
	for _, p := range texts {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range settingRe.FindAllString(string(data), -1) {
			used[m] = append(used[m], p)
		}
	}

	n := 0
	for _, name := range sortedKeys(used) {
		if !strings.HasPrefix(name, "N8N_SECRETS_") && !strings.HasPrefix(name, "VAULT_") {
			continue
		}
		n++
		if !known[name] {
			where := slices.Compact(slices.Sorted(slices.Values(used[name])))
			t.Errorf("%s is not a setting of n8n-secrets (used in %s)", name, strings.Join(where, "; "))
		}
	}
	if n < 8 {
		t.Errorf("only %d settings used: is the scan broken?", n)
	}
}

// TestReadmeCommands checks that every `n8n-secrets <command>` the READMEs
// and scripts show as code is a command of the binary's help text.
func TestReadmeCommands(t *testing.T) {
	help := readHelp(t)
	commands := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+n8n-secrets ([a-z]+)`).FindAllStringSubmatch(help, -1) {
		commands[m[1]] = true
	}
	if !commands["check"] || !commands["fingerprint"] || !commands["keygen"] {
		t.Fatalf("help.go: commands %v: is the scan broken?", sortedKeys(commands))
	}
	files, _ := filepath.Glob("*.md")
	for _, d := range exampleDirs {
		m, _ := filepath.Glob(filepath.Join(d, "*"))
		files = append(files, m...)
	}
	// Commands as code: `n8n-secrets check …` (prose like "n8n-secrets
	// reads" is not one).
	use := regexp.MustCompile("`n8n-secrets ([a-z]+)\\b")
	found := 0
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.IsDir() {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range use.FindAllStringSubmatch(string(data), -1) {
			found++
			if !commands[m[1]] {
				t.Errorf("%s: n8n-secrets %s is not a command (help.go has %v)", f, m[1], sortedKeys(commands))
			}
		}
	}
	if found < 3 {
		t.Errorf("found %d commands shown as code: is the scan broken?", found)
	}
}

// TestDockerfile checks the image build: the binary is built as the
// Makefile builds it and lands where the ENTRYPOINT runs it.
func TestDockerfile(t *testing.T) {
	df := parseDockerfile(t, dockerfilePath)

	for _, s := range df.stages {
		if df.stage(s.image) == nil && !pinned(s.image) {
			t.Errorf("Dockerfile: FROM %s is not pinned to a version", s.image)
		}
	}

	// The Go version is go.mod's.
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go\s+(\S+)`).FindStringSubmatch(string(gomod))
	if goVersion == nil || df.args["GO_VERSION"] != goVersion[1] {
		t.Errorf("Dockerfile: ARG GO_VERSION=%s, go.mod says go %v", df.args["GO_VERSION"], goVersion)
	}

	// The builder: cross-compiles on the build platform.
	var build *dockerStage
	var buildCmd string
	for _, s := range df.stages {
		for _, in := range s.all("RUN") {
			if strings.Contains(in.args, "go build") {
				build, buildCmd = s, in.args
			}
		}
	}
	if build == nil {
		t.Fatal("Dockerfile: no RUN … go build")
	}
	if !strings.HasPrefix(build.image, "golang:") {
		t.Errorf("Dockerfile: the builder is FROM %s, want a golang image", build.image)
	}
	if build.platform != "$BUILDPLATFORM" {
		t.Errorf("Dockerfile: the builder has --platform=%q, want $BUILDPLATFORM (cross-compile, no emulation)", build.platform)
	}
	declared := map[string]bool{}
	for _, in := range build.all("ARG") {
		k, _, _ := strings.Cut(in.args, "=")
		declared[k] = true
	}
	for _, a := range []string{"TARGETOS", "TARGETARCH", "VERSION"} {
		if !declared[a] {
			t.Errorf("Dockerfile: the builder does not declare ARG %s", a)
		}
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	ldm := regexp.MustCompile(`(?m)^LDFLAGS\s*:?=\s*(.+?)\s*$`).FindStringSubmatch(string(makefile))
	if ldm == nil {
		t.Fatal("Makefile: no LDFLAGS")
	}
	ldflags := strings.ReplaceAll(ldm[1], "$(VERSION)", "${VERSION}")
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=$TARGETOS", "GOARCH=$TARGETARCH", "-trimpath", `-ldflags "` + ldflags + `"`} {
		if !strings.Contains(buildCmd, want) {
			t.Errorf("Dockerfile: go build lacks %s", want)
		}
	}
	mkBuild := regexp.MustCompile(`(?m)^build:.*\n((?:\t.*\n)+)`).FindSubmatch(makefile)
	if mkBuild == nil {
		t.Fatal("Makefile: no build target")
	}
	for _, want := range []string{"CGO_ENABLED=0", "$(GO) build", "-trimpath", `-ldflags "$(LDFLAGS)"`} {
		if !strings.Contains(string(mkBuild[1]), want) {
			t.Errorf("Makefile: the build target lacks %s (the Dockerfile must build like it)", want)
		}
	}
	out := regexp.MustCompile(`-o\s+(\S+)`).FindStringSubmatch(buildCmd)
	if out == nil {
		t.Fatal("Dockerfile: go build has no -o")
	}
	binary := out[1]

	// copied returns where a stage copies the built binary to.
	copied := func(s *dockerStage) string {
		for _, in := range s.all("COPY") {
			f := strings.Fields(in.args)
			if len(f) == 3 && f[0] == "--from="+build.name && f[1] == binary {
				return f[2]
			}
		}
		return ""
	}

	// The final stage: n8n with the wrapper.
	final := df.stages[len(df.stages)-1]
	if !strings.HasPrefix(final.image, "n8nio/n8n:") {
		t.Errorf("Dockerfile: the final stage is FROM %s, want n8nio/n8n:${N8N_VERSION}", final.image)
	}
	if v := df.args["N8N_VERSION"]; !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) {
		t.Errorf("Dockerfile: ARG N8N_VERSION=%q, want a release like 2.40.0", v)
	}
	dest := copied(final)
	eps := final.all("ENTRYPOINT")
	if len(eps) != 1 {
		t.Fatalf("Dockerfile: the final stage has %d ENTRYPOINT, want 1", len(eps))
	}
	ep := jsonArgs(t, eps[0])
	want := []string{"tini", "--", "/usr/local/bin/n8n-secrets", "--", "/docker-entrypoint.sh"}
	if !slices.Equal(ep, want) {
		t.Errorf("Dockerfile: ENTRYPOINT %q, want %q", ep, want)
	}
	if dest == "" || len(ep) < 3 || dest != ep[2] {
		t.Errorf("Dockerfile: the binary is copied to %q but the ENTRYPOINT runs %q", dest, ep)
	}
	users := final.all("USER")
	if len(users) == 0 || users[len(users)-1].args != "node" {
		t.Errorf("Dockerfile: the final stage must run as USER node, as n8nio/n8n does")
	}
	if len(final.all("CMD")) > 0 {
		t.Errorf("Dockerfile: the final stage sets CMD: worker/webhook come from the container's command")
	}

	// The binary alone, for COPY --from=.
	var scratch *dockerStage
	for _, s := range df.stages {
		if s.image == "scratch" {
			scratch = s
		}
	}
	if scratch == nil || scratch.name == "" {
		t.Fatal("Dockerfile: no named FROM scratch stage with the binary alone")
	}
	if got := copied(scratch); got != "/usr/local/bin/n8n-secrets" {
		t.Errorf("Dockerfile: stage %s copies the binary to %q, want /usr/local/bin/n8n-secrets", scratch.name, got)
	}
}

// TestDockerignore checks that the build context keeps the sources the
// binary is built from and leaves out the rest.
func TestDockerignore(t *testing.T) {
	data, err := os.ReadFile(dockerfilePath + ".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			if strings.HasPrefix(l, "!") {
				t.Fatalf("Dockerfile.dockerignore: exceptions (%s) are not handled by this test", l)
			}
			patterns = append(patterns, strings.TrimSuffix(l, "/"))
		}
	}
	excluded := func(p string) bool {
		parts := strings.Split(p, "/")
		for _, pat := range patterns {
			any := strings.HasPrefix(pat, "**/")
			pat = strings.TrimPrefix(pat, "**/")
			for i := range parts {
				if i > 0 && !any {
					break
				}
				for j := i + 1; j <= len(parts); j++ {
					if ok, _ := path.Match(pat, strings.Join(parts[i:j], "/")); ok {
						return true
					}
				}
			}
		}
		return false
	}
	// The packages the binary imports, from go list.
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{end}}", ".")
	cmd.Dir = root
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	abs, _ := filepath.Abs(root)
	need := []string{"go.mod", "go.sum"}
	for _, l := range strings.Split(string(outb), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || !strings.HasPrefix(f[0], abs) {
			continue // module cache
		}
		rel, _ := filepath.Rel(abs, f[0])
		for _, g := range f[1:] {
			need = append(need, filepath.ToSlash(filepath.Join(rel, g)))
		}
	}
	if len(need) < 10 {
		t.Fatalf("go list found only %v", need)
	}
	for _, p := range need {
		if excluded(p) {
			t.Errorf("Dockerfile.dockerignore excludes %s, which the build needs", p)
		}
	}
	for _, p := range []string{".git", "bin/vaultdev", "tools/vaultdev/main.go", "examples/compose/compose.yaml", "inject/ref_test.go", "n8n/testdata/README.md"} {
		if !excluded(p) {
			t.Errorf("Dockerfile.dockerignore keeps %s in the build context", p)
		}
	}
}

// TestDeploymentsAgree cross-checks compose, stack and Kubernetes: the
// same n8n services with the same commands, on the image the Dockerfile
// builds, every image pinned, and every file the references name provided.
func TestDeploymentsAgree(t *testing.T) {
	df := parseDockerfile(t, dockerfilePath)
	n8nVersion := df.args["N8N_VERSION"]
	compose := services(t, composeFile)
	stack := services(t, stackFile)
	commands := map[string][]string{}

	n8nOf := func(f string, svcs map[string]service) []string {
		var names []string
		for name, s := range svcs {
			if _, ok := s.env(nil)["N8N_ENCRYPTION_KEY"]; ok {
				names = append(names, name)
			}
			if img := interpolate(str(s.raw["image"]), nil); img != "" && !pinned(img) {
				t.Errorf("%s: service %s: image %s is not pinned", f, name, img)
			}
		}
		slices.Sort(names)
		return names
	}
	want := slices.Sorted(slices.Values(n8nServices))
	if got := n8nOf(composeFile, compose); !slices.Equal(got, want) {
		t.Errorf("%s: n8n services %v, want %v", composeFile, got, want)
	}
	if got := n8nOf(stackFile, stack); !slices.Equal(got, want) {
		t.Errorf("%s: n8n services %v, want %v", stackFile, got, want)
	}
	for _, name := range n8nServices {
		commands[name] = compose[name].command()
		if got := stack[name].command(); !slices.Equal(got, commands[name]) {
			t.Errorf("%s: %s has command %q, compose has %q", stackFile, name, got, commands[name])
		}
	}
	if commands["n8n"] != nil || !slices.Contains(commands["n8n-worker"], "worker") || !slices.Equal(commands["n8n-webhook"], []string{"webhook"}) {
		t.Errorf("compose: commands %q: want none for the main, worker … and webhook", commands)
	}

	// Compose builds docker/Dockerfile from the repository root, with the
	// Dockerfile's n8n version by default.
	for _, name := range n8nServices {
		b := asMap(compose[name].raw["build"])
		ctx := filepath.Join("compose", str(b["context"]))
		if filepath.Clean(ctx) != filepath.Clean(root) || str(b["dockerfile"]) != "docker/Dockerfile" {
			t.Errorf("compose: %s builds %s from %s, want docker/Dockerfile from the repository root", name, str(b["dockerfile"]), ctx)
		}
		if v := interpolate(str(asMap(b["args"])["N8N_VERSION"]), nil); v != n8nVersion {
			t.Errorf("compose: %s builds with N8N_VERSION %s, the Dockerfile's default is %s", name, v, n8nVersion)
		}
		if img := interpolate(str(stack[name].raw["image"]), nil); !strings.HasSuffix(img, ":"+n8nVersion) {
			t.Errorf("stack: %s runs %s, want the tag %s of the Dockerfile's N8N_VERSION", name, img, n8nVersion)
		}
	}

	// Kubernetes: the same Deployments and arguments, pinned images.
	for _, f := range []string{k8sVaultFile, k8sFileFile} {
		deps := k8sDeployments(t, f)
		if got := sortedKeys(deps); !slices.Equal(got, want) {
			t.Errorf("%s: Deployments %v, want %v", f, got, want)
		}
		for name, c := range deps {
			if !slices.Equal(c.args, commands[name]) {
				t.Errorf("%s: %s has args %q, compose has command %q", f, name, c.args, commands[name])
			}
			if c.image != "n8nio/n8n:"+n8nVersion {
				t.Errorf("%s: %s runs %s, want the official image n8nio/n8n with the tag %s", f, name, c.image, n8nVersion)
			}
			if c.serviceAccount == "" {
				t.Errorf("%s: %s has no serviceAccountName", f, name)
			}
		}
	}
	vaultDeps := k8sDeployments(t, k8sVaultFile)
	for name, c := range vaultDeps {
		if c.env["VAULT_AUTH_METHOD"] != "kubernetes" || c.env["VAULT_AUTH_ROLE"] == "" {
			t.Errorf("%s: %s: want VAULT_AUTH_METHOD=kubernetes and VAULT_AUTH_ROLE", k8sVaultFile, name)
		}
	}

	// Kubernetes secret volume: every file: reference is a key of the
	// Secret mounted at the secrets dir, as the header's kubectl command
	// creates it.
	header, err := os.ReadFile(k8sFileFile)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, m := range regexp.MustCompile(`--from-(?:literal|file)=([a-z_]+)=`).FindAllStringSubmatch(string(header), -1) {
		keys[m[1]] = true
	}
	for name, c := range k8sDeployments(t, k8sFileFile) {
		dir := c.env["N8N_SECRETS_DIR"]
		if dir == "" {
			dir = "/run/secrets"
		}
		vol := c.volumes[c.mounts[dir]]
		if vol == nil || asMap(vol["secret"]) == nil {
			t.Errorf("%s: %s mounts no Secret volume at %s", k8sFileFile, name, dir)
		}
		for k, v := range c.env {
			if ref, err := providers.Stores.Parse(v); err == nil && providers.Stores.IsReference(v) && !isAbsRef(ref) && !keys[ref.Path()] {
				t.Errorf("%s: %s: %s names %s, not a key of the Secret (%v)", k8sFileFile, name, k, ref.Path(), sortedKeys(keys))
			}
		}
	}

	// Swarm: every file the n8n services read is a secret they are given,
	// defined at the top level.
	top := asMap(loadYAML(t, stackFile)[0]["secrets"])
	for _, name := range n8nServices {
		targets := map[string]bool{}
		for _, s := range stack[name].raw["secrets"].([]any) {
			src, target := str(s), ""
			if m := asMap(s); m != nil {
				src, target = str(m["source"]), str(m["target"])
			}
			if target == "" {
				target = src
			}
			if _, ok := top[src]; !ok {
				t.Errorf("%s: %s uses secret %s, not defined at the top level", stackFile, name, src)
			}
			targets["/run/secrets/"+target] = true
		}
		for k, v := range stack[name].env(nil) {
			file := ""
			if strings.HasSuffix(k, "_FILE") {
				file = v
			} else if ref, err := providers.Stores.Parse(v); err == nil && providers.Stores.IsReference(v) {
				file = "/run/secrets/" + ref.Path()
				if isAbsRef(ref) {
					file = ref.Path()
				}
			}
			if file != "" && !targets[file] {
				t.Errorf("%s: %s: %s reads %s, which is not one of its secrets", stackFile, name, k, file)
			}
		}
	}
}

// shellScripts returns the shell scripts of the examples.
func shellScripts(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, d := range exampleDirs {
		m, _ := filepath.Glob(filepath.Join(d, "*.sh"))
		sub, _ := filepath.Glob(filepath.Join(d, "*", "*.sh"))
		out = append(append(out, m...), sub...)
	}
	if len(out) < 6 {
		t.Fatalf("found only %v", out)
	}
	return out
}

// TestScriptsParse runs sh -n on every script, and shellcheck when it is
// installed.
func TestScriptsParse(t *testing.T) {
	scripts := shellScripts(t)
	for _, s := range scripts {
		data, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), "#!/bin/sh\n") {
			t.Errorf("%s: want a POSIX sh script (#!/bin/sh)", s)
		}
		// The READMEs and the other scripts run them as ./name.sh.
		if st, err := os.Stat(s); err != nil || st.Mode().Perm()&0o111 != 0o111 {
			t.Errorf("%s: not executable by all", s)
		}
		if out, err := exec.Command("sh", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", s, err, out)
		}
	}
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Log("shellcheck not installed: only sh -n was run")
		return
	}
	if out, err := exec.Command(sc, append([]string{"-s", "sh"}, scripts...)...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

// TestStackConfig has the docker client validate the stack file, when it
// has the stack command (it needs no engine).
func TestStackConfig(t *testing.T) {
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("no docker client")
	}
	cmd := exec.Command(docker, "stack", "config", "-c", filepath.Base(stackFile))
	cmd.Dir = filepath.Dir(stackFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "unknown") || strings.Contains(string(out), "Usage") {
			t.Skipf("docker stack config unavailable: %s", firstLine(string(out)))
		}
		t.Fatalf("docker stack config: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "n8n-webhook") {
		t.Errorf("docker stack config printed no n8n-webhook service")
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// isAbsRef reports whether a file: reference names an absolute path.
func isAbsRef(ref inject.Reference) bool {
	l, ok := ref.Loc.(file.Ref)
	return ok && l.IsAbs()
}
