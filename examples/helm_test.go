package examples

// The Helm values of examples/helm, rendered by the real Helm (`make helm`:
// helm.sh/helm/v4 from the Go module proxy) with the pinned charts of
// testdata/charts: every n8n container of every workload (main, workers,
// webhook processors) runs the official image unchanged, behind
// n8n-secrets installed by an init container; the charts that cannot set
// the command go through the post-renderer plugin of examples/helm, as a
// user would run it; and our own audit finds no error in what is rendered.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/n8n-secrets/n8n-secrets/audit"
	"github.com/n8n-secrets/n8n-secrets/providers"
)

// chartCase is one chart and what its values can do.
type chartCase struct {
	name string
	// postRender: the chart's values cannot set the n8n containers'
	// command, which the post-renderer sets.
	postRender bool
	// readOnlyRoot: the chart lets the n8n container's root file system be
	// read-only (n8n-hosting fixes the container's securityContext).
	readOnlyRoot bool
	// roles: the n8n processes the values deploy, one per workload.
	roles []string
}

var chartCases = []chartCase{
	{"8gears", false, true, []string{"main", "webhook", "worker"}},
	{"n8n-hosting", true, false, []string{"main", "webhook", "worker"}},
	// The chart's MCP webhook processor is an n8n webhook process too.
	{"community-charts", true, true, []string{"main", "webhook", "webhook", "worker"}},
}

// helmEnv returns an environment for helm with its own homes (plugins,
// repositories, caches), so that the user's are neither read nor written.
func helmEnv(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"HELM_DATA_HOME=" + filepath.Join(home, "data"), "HELM_CONFIG_HOME=" + filepath.Join(home, "config"),
		"HELM_CACHE_HOME=" + filepath.Join(home, "cache")}
}

// runHelm runs helm with args and returns its stdout.
func runHelm(t *testing.T, helm string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helm, args...)
	cmd.Env = env
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		return so.String(), errors.New(err.Error() + ": " + se.String())
	}
	return so.String(), nil
}

// k8sDocs parses a stream of YAML documents.
func k8sDocs(t *testing.T, data string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(data))
	var docs []map[string]any
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return docs
			}
			t.Fatalf("rendered output: %v", err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// n8nContainer is an n8n container of a rendered workload.
type n8nContainer struct {
	where     string // Kind/name (container)
	role      string // main, worker or webhook
	pod, spec map[string]any
}

// n8nContainers finds every container of the official n8n image in the
// pods of docs, with its role from its arguments.
func n8nContainers(docs []map[string]any) []n8nContainer {
	var out []n8nContainer
	for _, d := range docs {
		kind, name := str(d["kind"]), str(asMap(d["metadata"])["name"])
		var pod map[string]any
		switch kind {
		case "Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet":
			pod = asMap(asMap(asMap(d["spec"])["template"])["spec"])
		case "CronJob":
			pod = asMap(asMap(asMap(asMap(asMap(asMap(d["spec"])["jobTemplate"])["spec"])["template"]))["spec"])
		case "Pod":
			pod = asMap(d["spec"])
		}
		for _, c := range asList(pod["containers"]) {
			c := asMap(c)
			repo, _, _ := strings.Cut(str(c["image"]), ":")
			if repo != "n8nio/n8n" && !strings.HasSuffix(repo, "/n8nio/n8n") {
				continue
			}
			role := "main"
			if args := strList(c["args"]); len(args) > 0 && (args[0] == "worker" || args[0] == "webhook") {
				role = args[0]
			}
			out = append(out, n8nContainer{where: kind + "/" + name + " (" + str(c["name"]) + ")", role: role, pod: pod, spec: c})
		}
	}
	return out
}

func TestHelmCharts(t *testing.T) {
	helm := tool(t, "HELM_BIN", "helm", "HELM_VERSION")
	lookTool(t, "kubectl", "the post-renderer runs `kubectl kustomize`; it is part of this kind of machine")
	env := helmEnv(t)
	// The post-renderer as a user installs it: a Helm 4 plugin, linked.
	if _, err := runHelm(t, helm, env, "plugin", "install", filepath.Join("helm", "post-render")); err != nil {
		t.Fatalf("helm plugin install: %v", err)
	}
	for _, cc := range chartCases {
		t.Run(cc.name, func(t *testing.T) {
			args := []string{"template", "n8n", filepath.Join("testdata", "charts", cc.name), "-n", "n8n",
				"-f", filepath.Join("helm", cc.name, "values.yaml")}
			if cc.postRender {
				args = append(args, "--post-renderer", "n8n-secrets-kustomize", "--post-renderer-args", cc.name)
			}
			out, err := runHelm(t, helm, env, args...)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			checkRendered(t, cc, out)
			auditRendered(t, cc.name, out)
		})
	}
}

// checkRendered checks every n8n container of a chart's rendered output.
func checkRendered(t *testing.T, cc chartCase, out string) {
	t.Helper()
	// Nothing comes from the dependencies' stand-ins (testdata/charts/SOURCES.md).
	if m := regexp.MustCompile(`(?m)^# Source: [^/\n]+/charts/.*$`).FindString(out); m != "" {
		t.Errorf("rendered from a dependency's stand-in: %s", m)
	}
	cs := n8nContainers(k8sDocs(t, out))
	var roles []string
	for _, c := range cs {
		roles = append(roles, c.role)
		for _, p := range checkOfficialPod(c.pod, c.spec, podCheck{user: true, readOnlyRoot: cc.readOnlyRoot}) {
			t.Errorf("%s: %s", c.where, p)
		}
	}
	slices.Sort(roles)
	if !slices.Equal(roles, cc.roles) {
		t.Errorf("n8n containers of roles %v, want %v", roles, cc.roles)
	}
}

// auditRendered runs our own audit over a rendered chart: no error.
func auditRendered(t *testing.T, name, out string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Run(context.Background(), providers.Stores, []string{file})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 1 || rep.Files[0].Kind != "kubernetes" {
		t.Fatalf("the audit did not read the output as Kubernetes manifests: %+v", rep.Files)
	}
	for _, f := range rep.Findings {
		switch {
		case f.Suppressed != nil:
		case f.Severity >= audit.Error:
			t.Errorf("audit: %s %s %s: %s", filepath.Base(f.Location()), f.Code, f.Subject, f.Message)
		case f.Severity >= audit.Warning:
			t.Logf("audit (warning): %s %s %s: %s", filepath.Base(f.Location()), f.Code, f.Subject, f.Message)
		}
	}
}

// TestHelmChecksFail: the checks refuse a chart rendered with its own
// defaults (n8n without n8n-secrets), so that the test above cannot pass by
// finding nothing.
func TestHelmChecksFail(t *testing.T) {
	helm := tool(t, "HELM_BIN", "helm", "HELM_VERSION")
	out, err := runHelm(t, helm, helmEnv(t), "template", "n8n", filepath.Join("testdata", "charts", "8gears"), "-n", "n8n",
		"--set", "worker.enabled=true", "--set", "image.tag=2.40.0")
	if err != nil {
		t.Fatal(err)
	}
	cs := n8nContainers(k8sDocs(t, out))
	if len(cs) != 2 {
		t.Fatalf("found %d n8n containers in the chart's defaults with a worker, want 2", len(cs))
	}
	for _, c := range cs {
		if len(checkOfficialPod(c.pod, c.spec, podCheck{})) == 0 {
			t.Errorf("%s: accepted without n8n-secrets", c.where)
		}
	}
}

// TestChartSources: the pinned charts are the versions SOURCES.md records.
func TestChartSources(t *testing.T) {
	src := readFile(t, filepath.Join("testdata", "charts", "SOURCES.md"))
	for _, cc := range chartCases {
		var chart struct {
			Name    string `yaml:"name"`
			Version string `yaml:"version"`
		}
		if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join("testdata", "charts", cc.name, "Chart.yaml"))), &chart); err != nil {
			t.Fatal(err)
		}
		row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(cc.name) + "` \\|.*\\| " + regexp.QuoteMeta(chart.Name+" "+chart.Version) + " \\|.*$")
		if !row.MatchString(src) {
			t.Errorf("SOURCES.md has no row for %s at %s %s", cc.name, chart.Name, chart.Version)
		}
		if _, err := os.Stat(filepath.Join("testdata", "charts", cc.name, "LICENSE")); err != nil {
			if _, err := os.Stat(filepath.Join("testdata", "charts", cc.name, "LICENSE.md")); err != nil {
				t.Errorf("%s: no license beside the chart", cc.name)
			}
		}
	}
}
