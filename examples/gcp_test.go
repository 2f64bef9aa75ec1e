package examples

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/providers/gcpsm"
)

// gcpFile is the GKE workload identity example.
var gcpFile = filepath.ToSlash(filepath.Join("gcp", "gke-workload-identity.yaml"))

// splitGCPRef splits a gcpsm:// reference as the core's common grammar
// does: the path up to '?', the options, the selector after '#'.
func splitGCPRef(s string) (path string, opts map[string]string, ok bool) {
	rest, ok := strings.CutPrefix(s, gcpsm.Scheme+"://")
	if !ok {
		return "", nil, false
	}
	rest, _, _ = strings.Cut(rest, "#")
	path, query, _ := strings.Cut(rest, "?")
	opts = map[string]string{}
	for _, kv := range strings.Split(query, "&") {
		if k, v, _ := strings.Cut(kv, "="); k != "" && k != "optional" {
			opts[k] = v
		}
	}
	return path, opts, true
}

// TestGCPReferencesParse: every gcpsm:// reference of the GKE example and
// its README parses with gcpsm.ParseRef; short references have a project
// (GOOGLE_CLOUD_PROJECT in the same ConfigMap); the three secrets n8n needs
// come from Secret Manager.
func TestGCPReferencesParse(t *testing.T) {
	var refs []string
	project := ""
	for _, doc := range loadYAML(t, gcpFile) {
		if str(doc["kind"]) == "ConfigMap" {
			project = str(asMap(doc["data"])["GOOGLE_CLOUD_PROJECT"])
		}
		walkStrings(doc, str(doc["kind"]), func(loc, s string) {
			if strings.HasPrefix(s, gcpsm.Scheme+":") {
				refs = append(refs, s)
			}
		})
	}
	readme := readFile(t, filepath.Join("gcp", "README.md"))
	refs = append(refs, regexp.MustCompile(`gcpsm://[^\s`+"`"+`'"),]+`).FindAllString(readme, -1)...)
	short := 0
	for _, s := range refs {
		path, opts, _ := splitGCPRef(s)
		r, err := gcpsm.ParseRef(path, opts)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if r.Project == "" {
			short++
		}
	}
	if len(refs) < 6 || short == 0 {
		t.Errorf("found %d references (%d short): is the scan broken?", len(refs), short)
	}
	if project == "" {
		t.Errorf("%s: short references need GOOGLE_CLOUD_PROJECT in the ConfigMap", gcpFile)
	}
	for name, c := range k8sDeployments(t, gcpFile) {
		vol := c.volumes[c.mounts["/home/node/.n8n"]]
		if ed := asMap(vol["emptyDir"]); ed == nil || str(ed["medium"]) != "Memory" {
			t.Errorf("%s: %s: /home/node/.n8n must be an emptyDir with medium: Memory", gcpFile, name)
		}
	}
	for _, o := range k8sObjects(t, gcpFile) {
		if strings.HasPrefix(o.kind, "Cluster") {
			t.Errorf("%s: %s %s grants cluster-wide rights", gcpFile, o.kind, o.name)
		}
	}
	for _, v := range []string{"N8N_ENCRYPTION_KEY: gcpsm://", "DB_POSTGRESDB_PASSWORD: gcpsm://", "QUEUE_BULL_REDIS_PASSWORD: gcpsm://",
		"iam.gke.io/gcp-service-account", "roles/secretmanager.secretAccessor", "roles/iam.workloadIdentityUser"} {
		if !strings.Contains(readFile(t, gcpFile)+readme, v) {
			t.Errorf("the GKE example does not show %s", v)
		}
	}
}
