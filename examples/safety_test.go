package examples

// The examples are copied as they are: these tests keep them safe to copy.
// Every file audits clean with n8n-secrets' own audit, ports are published
// on loopback only, the rollout waits for each node to be healthy, n8n's
// settings folder (which holds the key) is in memory on Kubernetes, the
// optional ClusterRoleBinding is a file of its own, and the AppRole secret
// ids vault-init issues are short-lived.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/audit"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/vaulttest"
	"github.com/n8n-secrets/n8n-secrets/providers"
)

// TestExamplesAuditClean runs the audit over examples/ and docker/: no
// error, no warning; a finding accepted in a file must say why.
func TestExamplesAuditClean(t *testing.T) {
	rep, err := audit.Run(context.Background(), providers.Stores, []string{".", filepath.Join(root, "docker")})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, f := range rep.Files {
		kinds[filepath.ToSlash(f.Path)] = f.Kind
	}
	for p, want := range map[string]string{
		"compose/compose.yaml": "compose", "swarm/stack.yaml": "compose",
		"kubernetes/vault-auth.yaml": "kubernetes", "kubernetes/secret-volume.yaml": "kubernetes",
		"kubernetes/vault-tokenreview-rbac.yaml": "kubernetes", "../docker/Dockerfile": "dockerfile",
		gcpFile: "kubernetes",
	} {
		if kinds[p] != want {
			t.Errorf("the audit took %s for %q, want %s (files: %v)", p, kinds[p], want, kinds)
		}
	}
	suppressed := 0
	for _, f := range rep.Findings {
		switch {
		case f.Suppressed != nil:
			suppressed++
			if f.Suppressed.Justification == "" {
				t.Errorf("%s %s: suppressed without a justification", f.Location(), f.Code)
			}
		case f.Severity >= audit.Warning:
			t.Errorf("%s %s %s: %s: %s", f.Location(), f.Severity, f.Code, f.Subject, f.Message)
		}
	}
	if suppressed > 1 {
		t.Errorf("%d findings suppressed: only the compose network's plain http is accepted", suppressed)
	}
}

// TestComposeSafeToCopy: ports on loopback only; every n8n service has a
// healthcheck (workers with their health server on), and nodes that need
// the main wait for it to be healthy.
func TestComposeSafeToCopy(t *testing.T) {
	svcs := services(t, composeFile)
	for _, name := range sortedKeys(svcs) {
		for _, p := range strList(svcs[name].raw["ports"]) {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("compose: %s publishes %q on every interface: want 127.0.0.1:…", name, p)
			}
		}
	}
	for _, name := range n8nServices {
		s := svcs[name]
		hc := asMap(s.raw["healthcheck"])
		test := strings.Join(strList(hc["test"]), " ")
		if !strings.Contains(test, "/healthz") {
			t.Errorf("compose: %s has no healthcheck on /healthz (%q)", name, test)
		}
		if slices.Contains(s.command(), "worker") && s.env(nil)["QUEUE_HEALTH_CHECK_ACTIVE"] != "true" {
			t.Errorf("compose: %s: a worker answers /healthz only with QUEUE_HEALTH_CHECK_ACTIVE=true", name)
		}
		if dep := asMap(asMap(s.raw["depends_on"])["n8n"]); dep != nil && str(dep["condition"]) != "service_healthy" {
			t.Errorf("compose: %s waits for the main to be %s, want service_healthy", name, str(dep["condition"]))
		}
	}
}

// TestRollWaitsForHealthy runs roll.sh compose with a stand-in docker
// client: each service is recreated with --wait, workers first, the main
// last, and a node that does not become healthy stops the rollout before
// the next one.
func TestRollWaitsForHealthy(t *testing.T) {
	roll := func(failOn string) (int, string, []string) {
		fake := t.TempDir()
		calls := filepath.Join(fake, "calls")
		docker := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + calls + "'\n" +
			"case \"$*\" in *' " + failOn + "') exit 1 ;; esac\nexit 0\n"
		if err := os.WriteFile(filepath.Join(fake, "docker"), []byte(docker), 0o700); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sh", filepath.Join("..", "rotate", "roll.sh"), "compose", "compose.yaml")
		cmd.Dir = filepath.Dir(composeFile)
		cmd.Env = []string{"PATH=" + fake + ":" + os.Getenv("PATH")}
		out, _ := cmd.CombinedOutput()
		b, _ := os.ReadFile(calls)
		return cmd.ProcessState.ExitCode(), string(out), strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	code, out, calls := roll("none")
	if code != 0 || len(calls) != 3 {
		t.Fatalf("roll.sh compose: exit %d, %d docker calls:\n%s", code, len(calls), out)
	}
	for i, want := range []string{"n8n-worker", "n8n-webhook", "n8n"} {
		if !strings.HasSuffix(calls[i], " "+want) || !strings.Contains(calls[i], "up -d --no-deps --force-recreate --wait ") {
			t.Errorf("docker call %d: %q, want up … --wait … %s", i, calls[i], want)
		}
	}
	code, out, calls = roll("n8n-webhook")
	if code == 0 || len(calls) != 2 || !strings.Contains(out, "n8n-webhook did not become healthy") {
		t.Errorf("a webhook that fails its healthcheck: exit %d, calls %q, want a stop before the main:\n%s", code, calls, out)
	}
}

// TestKubernetesSafeToCopy: vault-auth.yaml grants nothing cluster-wide
// (the TokenReview binding is a separate, optional file), and n8n's
// settings folder is a memory-backed emptyDir on every Deployment.
func TestKubernetesSafeToCopy(t *testing.T) {
	for _, o := range k8sObjects(t, k8sVaultFile) {
		if strings.HasPrefix(o.kind, "Cluster") {
			t.Errorf("%s: %s %s: the example must not grant cluster-wide rights (vault-tokenreview-rbac.yaml is the optional one)", k8sVaultFile, o.kind, o.name)
		}
	}
	rbac := filepath.Join("kubernetes", "vault-tokenreview-rbac.yaml")
	objs := k8sObjects(t, rbac)
	if len(objs) != 1 || objs[0].kind != "ClusterRoleBinding" || !strings.Contains(readFile(t, rbac), "OPTIONAL") {
		t.Errorf("%s: want the one optional ClusterRoleBinding, marked OPTIONAL", rbac)
	}
	for _, f := range []string{k8sVaultFile, k8sFileFile} {
		for name, c := range k8sDeployments(t, f) {
			vol := c.volumes[c.mounts["/home/node/.n8n"]]
			if ed := asMap(vol["emptyDir"]); ed == nil || str(ed["medium"]) != "Memory" {
				t.Errorf("%s: %s: /home/node/.n8n (n8n writes the key there) must be an emptyDir with medium: Memory", f, name)
			}
		}
	}
}

// TestAppRoleSecretIDShortLived runs vault-init.sh against a real Vault and
// reads back what it issued: a secret id with a TTL and a use limit, and
// short-lived tokens.
func TestAppRoleSecretIDShortLived(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed to run the compose init script")
	}
	srv := vaulttest.Start(t)
	srv.MountKV("secret", 2)
	out := t.TempDir()
	code, log := runScript(t, filepath.Join("compose", "vault-init.sh"),
		map[string]string{"VAULT_ADDR": srv.Addr, "VAULT_TOKEN": srv.RootToken, "OUT_DIR": out}, "")
	if code != 0 {
		t.Fatalf("vault-init.sh: exit %d:\n%s", code, strings.ReplaceAll(log, srv.RootToken, "<root>"))
	}
	secretID := readFile(t, filepath.Join(out, "vault_secret_id"))
	c := srv.Client()
	sec, err := c.Logical().Write("auth/approle/role/n8n/secret-id/lookup", map[string]any{"secret_id": secretID})
	if err != nil || sec == nil {
		t.Fatalf("secret-id lookup: %v", err)
	}
	if ttl := str(sec.Data["secret_id_ttl"]); ttl != "3600" {
		t.Errorf("the secret id lives %ss, want 3600 (1h)", ttl)
	}
	if uses := str(sec.Data["secret_id_num_uses"]); uses != "30" {
		t.Errorf("the secret id serves %s logins, want 30", uses)
	}
	role, err := c.Logical().Read("auth/approle/role/n8n")
	if err != nil || role == nil {
		t.Fatalf("reading the role: %v", err)
	}
	if ttl, max := str(role.Data["token_ttl"]), str(role.Data["token_max_ttl"]); ttl != "300" || max != "900" {
		t.Errorf("login tokens: ttl %ss, max %ss; want 300 and 900", ttl, max)
	}
}
