package examples

// The Nomad job: parsed with HCL (hashicorp/hcl/v2, already a dependency of
// the binary for the audit's Vault policies: the test adds nothing to it)
// into the part of Nomad's job schema it uses, then checked as the
// Kubernetes files are: the official image with n8n-secrets installed by a
// prestart task, the image's entrypoint with n8n-secrets in between, and
// Vault's JWT login with the task's workload identity. Nomad's own jobspec
// parser lives in the Nomad module, which is not under an open-source
// licence since Nomad 1.7: it is not used.

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/vault/api"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/vaulttest"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/providers"
)

var nomadFile = filepath.Join("nomad", "n8n.nomad.hcl")

// The part of Nomad's job specification the example uses; anything else
// in a block is kept in Rest, and must not hide a misspelt attribute: every
// block's attributes are listed, and unknown ones fail the decode.
type nomadSpec struct {
	Jobs []nomadJob `hcl:"job,block"`
}

type nomadJob struct {
	Name   string       `hcl:"name,label"`
	Type   string       `hcl:"type,optional"`
	Groups []nomadGroup `hcl:"group,block"`
}

type nomadGroup struct {
	Name    string        `hcl:"name,label"`
	Count   int           `hcl:"count,optional"`
	Network []nomadAnyBlk `hcl:"network,block"`
	Tasks   []nomadTask   `hcl:"task,block"`
}

type nomadAnyBlk struct {
	Rest hcl.Body `hcl:",remain"`
}

type nomadTask struct {
	Name       string          `hcl:"name,label"`
	Driver     string          `hcl:"driver"`
	Lifecycle  *nomadLifecycle `hcl:"lifecycle,block"`
	Config     nomadDocker     `hcl:"config,block"`
	Identities []nomadIdentity `hcl:"identity,block"`
	Env        *nomadAnyBlk    `hcl:"env,block"`
	Resources  *nomadAnyBlk    `hcl:"resources,block"`
}

type nomadLifecycle struct {
	Hook    string `hcl:"hook"`
	Sidecar bool   `hcl:"sidecar,optional"`
}

type nomadDocker struct {
	Image          string       `hcl:"image"`
	Entrypoint     []string     `hcl:"entrypoint,optional"`
	Command        string       `hcl:"command,optional"`
	Args           []string     `hcl:"args,optional"`
	Ports          []string     `hcl:"ports,optional"`
	ReadonlyRootfs bool         `hcl:"readonly_rootfs,optional"`
	Mounts         []nomadMount `hcl:"mount,block"`
}

type nomadMount struct {
	Type     string        `hcl:"type"`
	Target   string        `hcl:"target"`
	Readonly bool          `hcl:"readonly,optional"`
	Tmpfs    []nomadAnyBlk `hcl:"tmpfs_options,block"`
}

type nomadIdentity struct {
	Name string   `hcl:"name,optional"`
	Aud  []string `hcl:"aud,optional"`
	File bool     `hcl:"file,optional"`
	TTL  string   `hcl:"ttl,optional"`
}

// parseNomad parses and decodes a job file.
func parseNomad(t *testing.T, file string) nomadJob {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(src, file, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("%s: %s", file, diags.Error())
	}
	var spec nomadSpec
	if diags := gohcl.DecodeBody(f.Body, nil, &spec); diags.HasErrors() {
		t.Fatalf("%s: %s", file, diags.Error())
	}
	if len(spec.Jobs) != 1 {
		t.Fatalf("%s: %d jobs, want one", file, len(spec.Jobs))
	}
	return spec.Jobs[0]
}

// envOf returns the attributes of an env block (every value a string).
func (b *nomadAnyBlk) strings(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	if b == nil {
		return out
	}
	attrs, diags := b.Rest.JustAttributes()
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for name, a := range attrs {
		var v string
		if diags := gohcl.DecodeExpression(a.Expr, nil, &v); diags.HasErrors() {
			t.Fatalf("env %s: %s", name, diags.Error())
		}
		out[name] = v
	}
	return out
}

func TestNomadJob(t *testing.T) {
	job := parseNomad(t, nomadFile)
	if job.Name != "n8n" || job.Type != "service" {
		t.Errorf("job %q of type %q, want the service n8n", job.Name, job.Type)
	}
	df := parseDockerfile(t, dockerfilePath)
	roleArgs := map[string][]string{"main": nil, "worker": {"worker", "--concurrency=10"}, "webhook": {"webhook"}}
	var groups []string
	keys := map[string]string{}
	known := knownSettings(t)
	for _, g := range job.Groups {
		groups = append(groups, g.Name)
		problems := checkNomadGroup(t, g, df.args["N8N_VERSION"], roleArgs[g.Name], known)
		for _, p := range problems {
			t.Errorf("%s: group %s: %s", nomadFile, g.Name, p)
		}
		for _, task := range g.Tasks {
			if k, ok := task.Env.strings(t)["N8N_ENCRYPTION_KEY"]; ok {
				keys[g.Name] = k
			}
		}
	}
	if !slices.Equal(groups, []string{"main", "worker", "webhook"}) {
		t.Errorf("%s: groups %v, want main, worker and webhook", nomadFile, groups)
	}
	if len(keys) != 3 || keys["main"] != keys["worker"] || keys["main"] != keys["webhook"] {
		t.Errorf("%s: the groups' N8N_ENCRYPTION_KEY differ: %v", nomadFile, keys)
	}
	for _, g := range job.Groups {
		if g.Name == "main" && g.Count != 1 {
			t.Errorf("%s: %d mains: one at a time (no multi-main here)", nomadFile, g.Count)
		}
	}

	// The check fails on what it must refuse.
	base := job.Groups[1]
	for what, spoil := range map[string]func(g *nomadGroup){
		"own image": func(g *nomadGroup) { g.Tasks[1].Config.Image = "registry.example.com/n8n-secrets/n8n:2.40.0" },
		"n8n directly": func(g *nomadGroup) {
			g.Tasks[1].Config.Entrypoint = []string{"tini", "--", "/alloc/data/n8n-secrets", "--", "n8n"}
		},
		"no prestart":       func(g *nomadGroup) { g.Tasks[0].Lifecycle = nil },
		"install elsewhere": func(g *nomadGroup) { g.Tasks[0].Config.Args = []string{"install", "/local"} },
		"no identity file":  func(g *nomadGroup) { g.Tasks[1].Identities[0].File = false },
		"writable root":     func(g *nomadGroup) { g.Tasks[1].Config.ReadonlyRootfs = false },
		"no /tmp":           func(g *nomadGroup) { g.Tasks[1].Config.Mounts = g.Tasks[1].Config.Mounts[:2] },
	} {
		g := base
		g.Tasks = slices.Clone(base.Tasks)
		for i := range g.Tasks {
			task := g.Tasks[i]
			task.Config.Args = slices.Clone(task.Config.Args)
			task.Config.Entrypoint = slices.Clone(task.Config.Entrypoint)
			task.Config.Mounts = slices.Clone(task.Config.Mounts)
			task.Identities = slices.Clone(task.Identities)
			g.Tasks[i] = task
		}
		spoil(&g)
		if len(checkNomadGroup(t, g, df.args["N8N_VERSION"], roleArgs["worker"], known)) == 0 {
			t.Errorf("checkNomadGroup accepts a group with %s", what)
		}
	}
}

// checkNomadGroup returns what is wrong with a group of the job.
func checkNomadGroup(t *testing.T, g nomadGroup, n8nVersion string, args []string, known map[string]bool) []string {
	t.Helper()
	var bad []string
	badf := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	var installer, n8nTask *nomadTask
	for i := range g.Tasks {
		switch task := &g.Tasks[i]; {
		case task.Lifecycle != nil:
			installer = task
		default:
			n8nTask = task
		}
	}
	if installer == nil || n8nTask == nil || len(g.Tasks) != 2 {
		badf("want a prestart task that installs n8n-secrets and the n8n task")
		return bad
	}
	ic := installer.Config
	if installer.Lifecycle.Hook != "prestart" || installer.Lifecycle.Sidecar || installer.Driver != "docker" {
		badf("task %s: lifecycle %+v: want a prestart task that ends", installer.Name, *installer.Lifecycle)
	}
	// The docker driver's command is Docker's CMD, after the image's
	// ENTRYPOINT: the binary image is run through entrypoint.
	if !pinned(ic.Image) || !strings.HasSuffix(strings.Split(ic.Image, ":")[0], "/n8n-secrets") ||
		!slices.Equal(ic.Entrypoint, []string{binaryImagePath}) || ic.Command != "" || len(ic.Args) != 2 || ic.Args[0] != "install" {
		badf("task %s: %s %q %q: want the pinned binary image running %s install DIR", installer.Name, ic.Image, ic.Entrypoint, ic.Args, binaryImagePath)
		return bad
	}
	dir := ic.Args[1]
	// Nomad's docker driver mounts the allocation's shared folder at /alloc
	// in every task of the group.
	if dir != "/alloc" && !strings.HasPrefix(dir, "/alloc/") {
		badf("task %s installs into %s, which the group's tasks do not share (/alloc)", installer.Name, dir)
	}

	c := n8nTask.Config
	if c.Image != "n8nio/n8n:"+n8nVersion {
		badf("task %s runs %s, want the official n8nio/n8n:%s", n8nTask.Name, c.Image, n8nVersion)
	}
	want := []string{"tini", "--", path.Join(dir, "n8n-secrets"), "--", "/docker-entrypoint.sh"}
	if !slices.Equal(c.Entrypoint, want) || c.Command != "" || !slices.Equal(c.Args, args) {
		badf("task %s: entrypoint %q command %q args %q, want %q and args %q", n8nTask.Name, c.Entrypoint, c.Command, c.Args, want, args)
	}
	if !c.ReadonlyRootfs {
		badf("task %s: the root file system is not read-only", n8nTask.Name)
	}
	for _, w := range n8nWritable {
		if !slices.ContainsFunc(c.Mounts, func(m nomadMount) bool { return m.Target == w && m.Type == "tmpfs" && !m.Readonly }) {
			badf("task %s: no writable tmpfs at %s, where n8n writes", n8nTask.Name, w)
		}
	}
	env := n8nTask.Env.strings(t)
	for k, v := range env {
		if strings.HasPrefix(k, "VAULT_") || strings.HasPrefix(k, "N8N_SECRETS_") {
			if !known[k] {
				badf("task %s: %s is not a setting of n8n-secrets", n8nTask.Name, k)
			}
		}
		if providers.Stores.IsReference(v) {
			if _, err := providers.Stores.Parse(v); err != nil {
				badf("task %s: %s: %v", n8nTask.Name, k, err)
			}
		}
	}
	// Vault's JWT login with the task's workload identity, which Nomad
	// writes to secrets/nomad_<name>.jwt (mounted at /secrets).
	if env["VAULT_AUTH_METHOD"] != "jwt" || env["VAULT_AUTH_ROLE"] == "" || env["VAULT_AUTH_MOUNT"] == "" {
		badf("task %s: want VAULT_AUTH_METHOD=jwt with a mount and a role", n8nTask.Name)
	}
	found := false
	for _, id := range n8nTask.Identities {
		name := id.Name
		if name == "" {
			name = "default"
		}
		if id.File && env["VAULT_JWT_FILE"] == "/secrets/nomad_"+name+".jwt" && slices.Contains(id.Aud, "vault.io") && id.TTL != "" {
			found = true
		}
	}
	if !found {
		badf("task %s: VAULT_JWT_FILE %q is not the file of a workload identity (file = true, aud vault.io, a ttl)", n8nTask.Name, env["VAULT_JWT_FILE"])
	}
	for _, k := range []string{"N8N_ENCRYPTION_KEY", "DB_POSTGRESDB_PASSWORD", "QUEUE_BULL_REDIS_PASSWORD"} {
		if !strings.HasPrefix(env[k], "vault://") {
			badf("task %s: %s is not a vault:// reference", n8nTask.Name, k)
		}
	}
	return bad
}

// TestNomadVaultRehearsal runs each group's n8n task through the binary
// against a real Vault set up as the README says: JWT auth at jwt-nomad
// with the role n8n of the README (parsed from it), and a JWT shaped like
// Nomad's workload identity for that task (its claims, audience vault.io),
// in the file the task's VAULT_JWT_FILE names. Nomad's JWKS endpoint is the
// one thing replaced: the mount trusts the test's key directly.
func TestNomadVaultRehearsal(t *testing.T) {
	n8nSecrets(t)
	srv := vaulttest.Start(t)
	srv.MountKV("secret", 2)
	kv := kvReader{t, srv}
	sec := &secrets{t: t}
	key, dbPassword, redisPassword := "nomad-key-"+strings.Repeat("N", 34), "nomad-db-password-1234", "nomad-redis-password-5678"
	sec.add(srv.RootToken, key, dbPassword, redisPassword)
	srv.PutKV("secret/n8n/core", map[string]any{"encryption_key": key})
	srv.PutKV("secret/n8n/db", map[string]any{"password": dbPassword})
	srv.PutKV("secret/n8n/redis", map[string]any{"password": redisPassword})
	srv.WritePolicy("n8n-read", `path "secret/data/n8n/*" { capabilities = ["read"] }`)

	c := srv.Client()
	if err := c.Sys().EnableAuthWithOptions("jwt-nomad", &api.EnableAuthOptions{Type: "jwt"}); err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("auth/jwt-nomad/config", map[string]any{
		"jwt_validation_pubkeys": []string{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))},
	}); err != nil {
		t.Fatal(err)
	}
	readme := readFile(t, "README.md")
	_, role, ok := strings.Cut(readme, "vault write auth/jwt-nomad/role/n8n - <<'EOF_ROLE'\n")
	role, _, ok2 := strings.Cut(role, "\nEOF_ROLE")
	if !ok || !ok2 {
		t.Fatal("README.md: no role n8n for jwt-nomad")
	}
	var roleData map[string]any
	if err := json.Unmarshal([]byte(role), &roleData); err != nil {
		t.Fatalf("README.md: the role n8n is not JSON: %v", err)
	}
	if _, err := c.Logical().Write("auth/jwt-nomad/role/n8n", roleData); err != nil {
		t.Fatalf("the README's role n8n: %v", err)
	}

	job := parseNomad(t, nomadFile)
	for _, g := range job.Groups {
		task := g.Tasks[len(g.Tasks)-1]
		env := task.Env.strings(t)
		// Nomad's workload identity for this task (Nomad 1.7's claims).
		now := time.Now()
		jwt, err := vaulttest.SignJWT(rsaKey, map[string]any{
			"aud": []string{"vault.io"}, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"sub":             "global:default:" + job.Name + ":" + g.Name + ":" + task.Name + ":vault_default",
			"nomad_namespace": "default", "nomad_job_id": job.Name, "nomad_allocation_id": "5d0f3f3e-0000-4000-8000-000000000001",
			"nomad_task": task.Name,
		})
		if err != nil {
			t.Fatal(err)
		}
		jwtFile := filepath.Join(t.TempDir(), "nomad_vault_default.jwt")
		if err := os.WriteFile(jwtFile, []byte(jwt), 0o600); err != nil {
			t.Fatal(err)
		}
		env["VAULT_ADDR"] = srv.Addr // plain HTTP on loopback
		env["VAULT_JWT_FILE"] = jwtFile
		dir, standIn := standInEntrypoint(t)
		ep := task.Config.Entrypoint
		i := slices.Index(ep, "/alloc/data/n8n-secrets")
		if i < 0 {
			t.Fatalf("group %s: entrypoint %q", g.Name, ep)
		}
		var args []string
		for _, a := range append(slices.Clone(ep[i+1:]), task.Config.Args...) {
			if a == "/docker-entrypoint.sh" {
				a = standIn
			}
			args = append(args, a)
		}
		r := runBinary(t, env, dir, args...)
		if fp := checkRole(t, "nomad "+g.Name, task.Env.strings(t), task.Config.Args, r,
			func(_, v string) (string, bool) { return kv.resolve(v) }, sec); fp != n8n.Fingerprint(key) {
			t.Errorf("group %s logged fingerprint %s, want %s", g.Name, fp, n8n.Fingerprint(key))
		}
	}
	if n := loginTokensLeft(t, srv, "jwt-nomad"); n != 0 {
		t.Errorf("%d JWT login tokens left: n8n-secrets must revoke its token before exec", n)
	}
}
