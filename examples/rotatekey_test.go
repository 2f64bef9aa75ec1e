package examples

// Rehearsals of rotate/rotate-key.sh, the encryption-key rotation, on each
// platform, with its steps run for real: the real n8n (internal/testenv/n8nreal)
// writes credentials into a real PostgreSQL under the old key and runs as the
// main; the script writes a new key into a real Vault (or a Docker secret),
// stops the main, runs the binary's rekey in the one-off container its
// platform would run (compose run, the Kubernetes Job of
// kubernetes/rekey-job.yaml, a Swarm service), pins the new fingerprint and
// starts the main again; then the real n8n decrypts every credential with
// the new key and none with the old. The docker and kubectl clients are the
// stand-ins of platform_test.go.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8nreal"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/vaulttest"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/providers"
)

// rotateRig is one rehearsal of rotate-key.sh.
type rotateRig struct {
	t     *testing.T
	sec   *secrets
	in    *n8nreal.Install
	pg    *pgtest.Server
	dir   string // the stand-in's state and files
	state string // its state file
	bin   string // directory of the docker and kubectl links
	creds []n8nreal.Credential
	keyA  string
}

// newRotateRig starts PostgreSQL and has the real n8n import canary
// credentials under keyA.
func newRotateRig(t *testing.T, keyA string) *rotateRig {
	t.Helper()
	r := &rotateRig{t: t, sec: &secrets{t: t}, in: n8nreal.V1(t), keyA: keyA, dir: t.TempDir(), bin: t.TempDir()}
	r.sec.add(keyA)
	r.state = filepath.Join(r.dir, "state.json")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"docker", "kubectl"} {
		if err := os.Symlink(self, filepath.Join(r.bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	r.pg = pgtest.Start(t)
	r.pg.CreateDatabase("n8n", "n8n", "rotate-pg-password")
	for i, v := range []string{"rotate-cred-value-one", "rotate-cred-pässword-two"} {
		c := n8nreal.Credential{ID: fmt.Sprintf("rotateCred%06d", i+1), Name: fmt.Sprintf("c%d", i+1), Type: "httpBasicAuth",
			Data: map[string]any{"user": "u", "password": v}}
		r.creds = append(r.creds, c)
		r.sec.add(v)
	}
	if out, err := r.node(keyA).ImportCredentials(r.creds); err != nil {
		t.Fatalf("n8n import:credentials: %v\n%s", err, r.sec.show(out))
	}
	return r
}

// node returns a real n8n node on the rehearsal's database with key.
func (r *rotateRig) node(key string) *n8nreal.Node {
	return n8nreal.NewNode(r.t, r.in, "N8N_ENCRYPTION_KEY="+key, "DB_TYPE=postgresdb", "DB_POSTGRESDB_HOST="+r.pg.Host,
		fmt.Sprintf("DB_POSTGRESDB_PORT=%d", r.pg.Port), "DB_POSTGRESDB_DATABASE=n8n", "DB_POSTGRESDB_USER=n8n",
		"DB_POSTGRESDB_PASSWORD=rotate-pg-password")
}

// sandboxSet is what every container gets instead of the file's
// addresses: the real PostgreSQL, regular mode (no Redis here).
func (r *rotateRig) sandboxSet() map[string]string {
	return map[string]string{"DB_POSTGRESDB_HOST": r.pg.Host, "DB_POSTGRESDB_PORT": fmt.Sprint(r.pg.Port),
		"EXECUTIONS_MODE": "regular"}
}

// save writes the stand-in's state; load reads it back.
func (r *rotateRig) save(st *fakeState) {
	r.t.Helper()
	st.Bin, st.N8NDir, st.N8NMajor = n8nSecrets(r.t), r.in.Dir, r.in.Major()
	if st.Services == nil || st.Set == nil {
		r.t.Fatal("rotateRig: state without services or sandbox settings")
	}
	if err := st.save(r.state); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() {
		// Nodes the stand-in started outlive it: stop them.
		if st, err := loadFake(r.state); err == nil {
			for _, s := range st.Services {
				st.stopNode(s)
			}
		}
	})
}

func (r *rotateRig) load() *fakeState {
	r.t.Helper()
	st, err := loadFake(r.state)
	if err != nil {
		r.t.Fatal(err)
	}
	return st
}

// client runs the docker or kubectl stand-in, as the scripts do.
func (r *rotateRig) client(name string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command(filepath.Join(r.bin, name), args...)
	cmd.Env = append(os.Environ(), "FAKE_PLATFORM="+r.state)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("%s %v: %v\n%s", name, args, err, r.sec.show(string(out)))
	}
	return string(out)
}

// healthy waits until the main runs n8n and answers its readiness check.
func (r *rotateRig) healthy() *fakeRun {
	r.t.Helper()
	deadline := time.Now().Add(n8nreal.StartTimeout)
	for time.Now().Before(deadline) {
		st := r.load()
		node := st.Services["n8n"].Node
		if node != nil && node.PID > 0 && processAlive(node.PID) {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz/readiness", node.Port))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return node
				}
			}
		} else if node != nil {
			r.t.Fatalf("the main exited:\n%s", r.sec.show(readFile(r.t, node.Log)))
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.t.Fatal("the main is not healthy after the start timeout")
	return nil
}

// rotate runs rotate-key.sh with the stand-ins first on PATH, in dir,
// and returns its exit code and output (checked for secrets).
func (r *rotateRig) rotate(dir string, env map[string]string, args ...string) (int, string) {
	r.t.Helper()
	script, err := filepath.Abs(filepath.Join("rotate", "rotate-key.sh"))
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + r.bin + ":" + os.Getenv("PATH"), "HOME=" + r.t.TempDir(), "FAKE_PLATFORM=" + r.state,
		"N8N_SERVICES=n8n"}
	for _, k := range sortedKeys(env) {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	out, _ := cmd.CombinedOutput()
	r.sec.assertAbsent("rotate-key.sh output", string(out))
	r.t.Logf("rotate-key.sh %s: exit %d\n%s", strings.Join(args, " "), cmd.ProcessState.ExitCode(), r.sec.show(string(out)))
	return cmd.ProcessState.ExitCode(), string(out)
}

// after checks a completed rotation to newKey: the main runs n8n with it
// (the fingerprint logged, healthy), then, stopped, the real n8n decrypts
// every credential with newKey and none with the old key.
func (r *rotateRig) after(newKey string) {
	r.t.Helper()
	r.sec.add(newKey)
	if newKey == r.keyA || len(newKey) != 44 {
		r.t.Fatalf("the new key has %d bytes and equals the old one: %v", len(newKey), newKey == r.keyA)
	}
	node := r.healthy()
	log := readFile(r.t, node.Log)
	r.sec.assertAbsent("the main's log", log)
	if fp := n8n.Fingerprint(newKey); !strings.Contains(log, `"n8n_key_fingerprint":"`+fp+`"`) {
		r.t.Errorf("the main did not log the new key's fingerprint %s", fp)
	}
	st := r.load()
	st.stopNode(st.Services["n8n"])

	got, out, err := r.node(newKey).ExportCredentials()
	if err != nil {
		r.t.Fatalf("after the rotation, n8n cannot decrypt under the new key: %v\n%s", err, r.sec.show(out))
	}
	if len(got) != len(r.creds) {
		r.t.Fatalf("after the rotation: %d credentials, want %d", len(got), len(r.creds))
	}
	for i := range got {
		if got[i].ID != r.creds[i].ID || !reflect.DeepEqual(got[i].Data, r.creds[i].Data) {
			r.t.Errorf("after the rotation, credential %s does not hold its plaintext", r.creds[i].ID)
		}
	}
	if _, out, err := r.node(r.keyA).ExportCredentials(); err == nil || !strings.Contains(out, "could not be decrypted") {
		r.t.Errorf("after the rotation, n8n under the old key: %v, want its decryption failure", err)
	}
}

// order checks that the calls matching each pattern come in this order.
func (r *rotateRig) order(patterns ...string) {
	r.t.Helper()
	calls := r.load().Calls
	last := -1
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		i := slices.IndexFunc(calls[last+1:], re.MatchString)
		if i < 0 {
			r.t.Errorf("no call matching %q after call %d; calls:\n%s", p, last, strings.Join(calls, "\n"))
			return
		}
		last += 1 + i
	}
}

func TestRotateKeyComposeRehearsal(t *testing.T) {
	n8nSecrets(t)
	srv := vaulttest.Start(t)
	srv.MountKV("secret", 2)
	kv := kvReader{t, srv}
	svcs := services(t, composeFile)
	sb := newSandbox(t, filepath.Dir(composeFile))
	sec := &secrets{t: t}
	sec.add(srv.RootToken)
	_, initEnv, _ := runVaultInit(t, srv, svcs, sb, sec)
	keyA := str(kv.data("secret/n8n/core")["encryption_key"])
	r := newRotateRig(t, keyA)
	r.sec.add(srv.RootToken, readFile(t, filepath.Join(initEnv["OUT_DIR"], "vault_secret_id")))

	// The compose file, copied: the script writes .env beside it.
	work := t.TempDir()
	composeCopy := filepath.Join(work, "compose.yaml")
	if err := os.WriteFile(composeCopy, []byte(readFile(t, composeFile)), 0o600); err != nil {
		t.Fatal(err)
	}
	main := svcs["n8n"]
	dataDir, ok := sb.hostPath(main.mounts(), "/home/node/.n8n")
	if !ok {
		t.Fatal("compose: the main has no volume at /home/node/.n8n")
	}
	secretsDir, ok := sb.hostPath(main.mounts(), "/run/secrets")
	if !ok {
		t.Fatal("compose: the main has no volume at /run/secrets")
	}
	set := r.sandboxSet()
	set["VAULT_ADDR"] = srv.Addr
	r.save(&fakeState{Kind: "compose", ComposeFile: composeCopy, RootToken: srv.RootToken, Set: set,
		Paths:    map[string]string{"/run/secrets": secretsDir},
		Services: map[string]*fakeService{"n8n": {Replicas: 1, DataDir: dataDir}}})
	r.client("docker", "compose", "-f", composeCopy, "up", "-d", "--wait", "--no-deps", "--force-recreate", "n8n")
	r.healthy()
	if _, err := os.Stat(filepath.Join(dataDir, "config")); err != nil {
		t.Fatalf("n8n wrote no settings file into its volume: %v", err)
	}

	code, out := r.rotate(work, map[string]string{"VAULT_ADDR": srv.Addr}, "compose", composeCopy)
	if code != 0 {
		t.Fatalf("rotate-key.sh compose: exit %d\n%s", code, r.sec.show(out))
	}
	newKey := str(kv.data("secret/n8n/core")["encryption_key"])
	fp := n8n.Fingerprint(newKey)
	if !strings.Contains(out, "ok: every node runs with the key of version 2, fingerprint "+fp) {
		t.Errorf("rotate-key.sh does not report version 2 and the new key's fingerprint %s:\n%s", fp, r.sec.show(out))
	}
	if env := readFile(t, filepath.Join(work, ".env")); !strings.Contains(env, "N8N_KEY_FINGERPRINT="+fp+"\n") {
		t.Errorf(".env does not pin the new fingerprint: %q", env)
	}
	r.after(newKey)
	r.order(`^docker compose .* stop n8n$`, `run .*--entrypoint n8n-secrets n8n rekey --from vault://secret/n8n/core\?version=1#encryption_key --to vault://secret/n8n/core\?version=2#encryption_key --apply --rewrap-only=false$`,
		`--entrypoint rm n8n -f /home/node/.n8n/config$`, `up -d --wait --no-deps --force-recreate n8n$`, `^docker exec n8n-\S+ n8n-secrets verify-key$`)
}

// TestRotateKeyComposeRefused: a node the script does not stop (one on
// another host, say) still holds the database, so rekey refuses; the
// script puts the old key back as the newest version in Vault and starts
// the nodes with it, and nothing in the database changed.
func TestRotateKeyComposeRefused(t *testing.T) {
	n8nSecrets(t)
	srv := vaulttest.Start(t)
	srv.MountKV("secret", 2)
	kv := kvReader{t, srv}
	svcs := services(t, composeFile)
	sb := newSandbox(t, filepath.Dir(composeFile))
	sec := &secrets{t: t}
	_, initEnv, _ := runVaultInit(t, srv, svcs, sb, sec)
	keyA := str(kv.data("secret/n8n/core")["encryption_key"])
	r := newRotateRig(t, keyA)
	r.sec.add(srv.RootToken, readFile(t, filepath.Join(initEnv["OUT_DIR"], "vault_secret_id")))
	forgotten, err := r.node(keyA).Start()
	if err != nil {
		t.Fatalf("a second n8n on the database: %v", err)
	}
	defer forgotten.Stop()
	checksum := func() string {
		return r.pg.Exec("n8n", `SELECT md5(string_agg(id || ':' || data, ',' ORDER BY id)) FROM credentials_entity`)
	}
	before := checksum()

	work := t.TempDir()
	composeCopy := filepath.Join(work, "compose.yaml")
	if err := os.WriteFile(composeCopy, []byte(readFile(t, composeFile)), 0o600); err != nil {
		t.Fatal(err)
	}
	main := svcs["n8n"]
	dataDir, _ := sb.hostPath(main.mounts(), "/home/node/.n8n")
	secretsDir, _ := sb.hostPath(main.mounts(), "/run/secrets")
	set := r.sandboxSet()
	set["VAULT_ADDR"] = srv.Addr
	r.save(&fakeState{Kind: "compose", ComposeFile: composeCopy, RootToken: srv.RootToken, Set: set,
		Paths:    map[string]string{"/run/secrets": secretsDir},
		Services: map[string]*fakeService{"n8n": {Replicas: 1, DataDir: dataDir}}})
	r.client("docker", "compose", "-f", composeCopy, "up", "-d", "--wait", "--no-deps", "--force-recreate", "n8n")
	r.healthy()

	code, out := r.rotate(work, map[string]string{"VAULT_ADDR": srv.Addr}, "compose", composeCopy)
	if code != 1 || !strings.Contains(out, "the key was NOT rotated") {
		t.Fatalf("rotate-key.sh while another n8n holds the database: exit %d, want 1 and the key not rotated\n%s", code, r.sec.show(out))
	}
	if checksum() != before {
		t.Error("the refused rekey changed credentials_entity")
	}
	if got := str(kv.data("secret/n8n/core")["encryption_key"]); got != keyA {
		t.Error("after the refused rekey, the newest version in Vault is not the old key")
	}
	node := r.healthy()
	if fp := n8n.Fingerprint(keyA); !strings.Contains(readFile(t, node.Log), `"n8n_key_fingerprint":"`+fp+`"`) {
		t.Errorf("after the refused rekey, the main does not run with the old key (%s)", fp)
	}
	if b, err := os.ReadFile(filepath.Join(work, ".env")); err == nil && strings.Contains(string(b), "N8N_KEY_FINGERPRINT=") {
		t.Error("the refused rotation pinned a fingerprint")
	}
}

func TestRotateKeyKubernetesRehearsal(t *testing.T) {
	n8nSecrets(t)
	srv := vaulttest.Start(t)
	srv.MountKV("secret", 2)
	kv := kvReader{t, srv}
	keyA := "k8s-rotate-key-" + strings.Repeat("A", 29)
	r := newRotateRig(t, keyA)
	r.sec.add(srv.RootToken)
	srv.PutKV("secret/n8n/core", map[string]any{"encryption_key": keyA})
	srv.PutKV("secret/n8n/db", map[string]any{"password": "rotate-pg-password", "user": "n8n"})
	srv.PutKV("secret/n8n/redis", map[string]any{"password": "rotate-redis-password"})
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, selfSignedCA(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := runScript(t, filepath.Join("kubernetes", "vault-kubernetes-auth.sh"), map[string]string{
		"VAULT_ADDR": srv.Addr, "VAULT_TOKEN": srv.RootToken, "K8S_HOST": "https://127.0.0.1:1", "K8S_CA_FILE": caFile,
	}, ""); code != 0 {
		t.Fatalf("vault-kubernetes-auth.sh: exit %d\n%s", code, r.sec.show(out))
	}
	deps := k8sDeployments(t, k8sVaultFile)
	jwt := srv.EnableKubernetes("kubernetes", "vaulttest-reviewer", deps["n8n"].serviceAccount, deps["n8n"].namespace, "default")
	jwtFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(jwtFile, []byte(jwt), 0o600); err != nil {
		t.Fatal(err)
	}
	configMap := map[string]string{}
	for _, o := range k8sObjects(t, k8sVaultFile) {
		if o.kind == "ConfigMap" && o.name == "n8n-env" {
			for k, v := range asMap(o.raw["data"]) {
				configMap[k] = str(v)
			}
		}
	}
	set := r.sandboxSet()
	set["VAULT_ADDR"] = srv.Addr
	set["VAULT_JWT_FILE"] = jwtFile // the pod's token is at the default path
	r.save(&fakeState{Kind: "kubernetes", ConfigMap: configMap, Set: set, Drop: []string{"VAULT_CACERT"},
		Services: map[string]*fakeService{"n8n": {Replicas: 1, Env: map[string]string{}}}})
	r.client("kubectl", "-n", "n8n", "scale", "deployment/n8n", "--replicas=1")
	r.healthy()

	// --rewrap-only on a 1.x database: rekey refuses it (nothing written),
	// the Job fails, the old key becomes the newest version again and the
	// main starts with it.
	vaultEnv := map[string]string{"VAULT_ADDR": srv.Addr, "VAULT_TOKEN": srv.RootToken}
	code, out := r.rotate(t.TempDir(), vaultEnv, "--rewrap-only", "kubernetes", "n8n")
	if code != 1 || !strings.Contains(out, "the key was NOT rotated") {
		t.Fatalf("rotate-key.sh --rewrap-only kubernetes on n8n 1.x: exit %d, want 1 and the key not rotated\n%s", code, r.sec.show(out))
	}
	if str(kv.data("secret/n8n/core")["encryption_key"]) != keyA {
		t.Fatal("after the refused rekey, the newest version in Vault is not the old key")
	}
	if fp := n8n.Fingerprint(keyA); !strings.Contains(readFile(t, r.healthy().Log), `"n8n_key_fingerprint":"`+fp+`"`) {
		t.Errorf("after the refused rekey, the main does not run with the old key (%s)", fp)
	}
	if r.load().ConfigMap["N8N_SECRETS_EXPECT_KEY_FINGERPRINT"] != "" {
		t.Error("the refused rotation pinned a fingerprint")
	}

	// The full rekey, from the version the old key now has (3) to 4.
	code, out = r.rotate(t.TempDir(), vaultEnv, "kubernetes", "n8n")
	if code != 0 {
		t.Fatalf("rotate-key.sh kubernetes: exit %d\n%s", code, r.sec.show(out))
	}
	if !strings.Contains(out, "rekey --from vault://secret/n8n/core?version=3#encryption_key --to vault://secret/n8n/core?version=4#encryption_key") {
		t.Errorf("the second rotation does not rekey from version 3 to 4:\n%s", r.sec.show(out))
	}
	newKey := str(kv.data("secret/n8n/core")["encryption_key"])
	fp := n8n.Fingerprint(newKey)
	st := r.load()
	if st.ConfigMap["N8N_SECRETS_EXPECT_KEY_FINGERPRINT"] != fp {
		t.Errorf("the ConfigMap pins %q, want the new fingerprint %s", st.ConfigMap["N8N_SECRETS_EXPECT_KEY_FINGERPRINT"], fp)
	}
	if st.Job != nil {
		t.Error("the rekey Job was not deleted")
	}
	r.after(newKey)
	r.order(`scale deployment/n8n --replicas=0$`, `apply -f -$`, `logs job/n8n-rekey$`, `patch configmap n8n-env`,
		`scale deployment/n8n --replicas=1$`, `exec pod/n8n-\S+ -- n8n-secrets verify-key$`)
}

func TestRotateKeySwarmRehearsal(t *testing.T) {
	n8nSecrets(t)
	keyA := "swarm-rotate-key-" + strings.Repeat("S", 27)
	r := newRotateRig(t, keyA)
	stack := services(t, stackFile)
	top := asMap(loadYAML(t, stackFile)[0]["secrets"])
	secretFiles := map[string]string{}
	for name, v := range map[string]string{"n8n_encryption_key_v1": keyA, "n8n_db_password_v1": "rotate-pg-password", "n8n_redis_password_v1": "rotate-redis-password"} {
		f := filepath.Join(r.dir, "secret-"+name)
		if err := os.WriteFile(f, []byte(v+"\n"), 0o400); err != nil {
			t.Fatal(err)
		}
		secretFiles[name] = f
	}
	svc := &fakeService{Replicas: 1, Env: stack["n8n"].env(nil), SwarmSecrets: map[string]string{}}
	for _, s := range stack["n8n"].raw["secrets"].([]any) {
		src := str(asMap(s)["source"])
		target := str(asMap(s)["target"])
		if target == "" {
			target = src
		}
		svc.SwarmSecrets[target] = interpolate(str(asMap(top[src])["name"]), nil)
	}
	r.save(&fakeState{Kind: "swarm", Secrets: secretFiles, Set: r.sandboxSet(), Services: map[string]*fakeService{"n8n": svc}})
	r.client("docker", "service", "scale", "--detach=false", "n8n_n8n=1")
	r.healthy()

	code, out := r.rotate(t.TempDir(), map[string]string{"ENCRYPTION_KEY_VERSION": "1", "DB_PASSWORD_VERSION": "1"}, "swarm", "n8n")
	if code != 0 {
		t.Fatalf("rotate-key.sh swarm: exit %d\n%s", code, r.sec.show(out))
	}
	st := r.load()
	f, ok := st.Secrets["n8n_encryption_key_v2"]
	if !ok {
		t.Fatal("no secret n8n_encryption_key_v2")
	}
	newKey := readFile(t, f)
	fp := n8n.Fingerprint(newKey)
	if got := st.Services["n8n"].Env["N8N_SECRETS_EXPECT_KEY_FINGERPRINT"]; got != fp {
		t.Errorf("the service pins %q, want the new fingerprint %s", got, fp)
	}
	if st.Services["n8n"].SwarmSecrets["n8n_encryption_key"] != "n8n_encryption_key_v2" {
		t.Errorf("the service reads %s as n8n_encryption_key, want n8n_encryption_key_v2", st.Services["n8n"].SwarmSecrets["n8n_encryption_key"])
	}
	if !strings.Contains(out, "deploy with ENCRYPTION_KEY_VERSION=2 N8N_KEY_FINGERPRINT="+fp) {
		t.Errorf("rotate-key.sh does not say how to deploy from now on:\n%s", r.sec.show(out))
	}
	r.after(newKey)
	r.order(`^docker secret create n8n_encryption_key_v2 -$`, `service scale --detach=false n8n_n8n=0$`,
		`service create --name n8n_n8n-rekey .* --entrypoint n8n-secrets \S+ rekey --from file:n8n_encryption_key_old --to file:n8n_encryption_key_new --apply --rewrap-only=false$`,
		`service update .*--secret-add source=n8n_encryption_key_v2,target=n8n_encryption_key.* n8n_n8n$`, `^docker exec n8n-\S+ n8n-secrets verify-key$`)
}

// TestRekeyJob checks kubernetes/rekey-job.yaml against the Deployments of
// vault-auth.yaml: the image of their init containers (the binary alone),
// the same ServiceAccount, ConfigMap and Vault CA,
// the binary alone as its command, and references to the Deployments' key
// that parse once Kubernetes has expanded the versions.
func TestRekeyJob(t *testing.T) {
	path := filepath.Join("kubernetes", "rekey-job.yaml")
	objs := k8sObjects(t, path)
	if len(objs) != 1 || objs[0].kind != "Job" {
		t.Fatalf("%s: want one Job, got %d objects", path, len(objs))
	}
	job := objs[0]
	main := k8sDeployments(t, k8sVaultFile)["n8n"]
	if job.namespace != main.namespace {
		t.Errorf("%s: namespace %s, the Deployments' is %s", path, job.namespace, main.namespace)
	}
	if l := asMap(asMap(job.raw["metadata"])["labels"]); str(l["app.kubernetes.io/name"]) == "n8n" {
		t.Errorf("%s: labelled app.kubernetes.io/name=n8n: rotate-key.sh and verify.sh would count it as an n8n node", path)
	}
	spec := asMap(job.raw["spec"])
	if str(spec["backoffLimit"]) != "0" {
		t.Errorf("%s: backoffLimit %v, want 0 (no retry behind the operator's back)", path, spec["backoffLimit"])
	}
	pod := asMap(asMap(spec["template"])["spec"])
	if str(pod["serviceAccountName"]) != main.serviceAccount || str(pod["restartPolicy"]) != "Never" {
		t.Errorf("%s: ServiceAccount %v and restartPolicy %v, want %s and Never", path, pod["serviceAccountName"], pod["restartPolicy"], main.serviceAccount)
	}
	c := asMap(pod["containers"].([]any)[0])
	initImage := str(asMap(main.pod["initContainers"].([]any)[0])["image"])
	if str(c["image"]) != initImage {
		t.Errorf("%s: image %v, the Deployments' init containers copy n8n-secrets from %s", path, c["image"], initImage)
	}
	cmd := strList(c["command"])
	if !slices.Equal(cmd, []string{binaryImagePath}) {
		t.Errorf("%s: command %q, want the image's binary alone (%s)", path, cmd, binaryImagePath)
	}
	env := map[string]string{}
	for _, e := range c["env"].([]any) {
		env[str(asMap(e)["name"])] = str(asMap(e)["value"])
	}
	if env["N8N_ENCRYPTION_KEY"] != main.env["N8N_ENCRYPTION_KEY"] {
		t.Errorf("%s: N8N_ENCRYPTION_KEY %q, the Deployments' is %q", path, env["N8N_ENCRYPTION_KEY"], main.env["N8N_ENCRYPTION_KEY"])
	}
	var refs []inject.Reference
	args := strList(c["args"])
	for i, a := range args {
		args[i] = k8sExpand(a, env)
	}
	if len(args) != 7 || args[0] != "rekey" || args[1] != "--from" || args[3] != "--to" || args[5] != "--apply" || args[6] != "--rewrap-only=false" {
		t.Fatalf("%s: args %q, want rekey --from REF --to REF --apply --rewrap-only=false", path, args)
	}
	for _, a := range []string{args[2], args[4]} {
		ref, err := providers.Stores.Parse(a)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		refs = append(refs, ref)
	}
	key, err := providers.Stores.Parse(main.env["N8N_ENCRYPTION_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	for i, ref := range refs {
		if ref.Scheme != key.Scheme || ref.Path() != key.Path() || ref.Selector != key.Selector {
			t.Errorf("%s: reference %d names %s#%s, the Deployments' key is %s#%s", path, i, ref.Path(), ref.Selector, key.Path(), key.Selector)
		}
	}
	if refs[0].Version() != "1" || refs[1].Version() != "2" {
		t.Errorf("%s: versions %s → %s, want the file's defaults 1 → 2", path, refs[0].Version(), refs[1].Version())
	}
	var ef []string
	for _, e := range c["envFrom"].([]any) {
		ef = append(ef, str(asMap(asMap(e)["configMapRef"])["name"]))
	}
	if !slices.Equal(ef, []string{"n8n-env"}) {
		t.Errorf("%s: envFrom %v, want the Deployments' ConfigMap n8n-env", path, ef)
	}
	mounts := map[string]string{}
	for _, vm := range c["volumeMounts"].([]any) {
		mounts[str(asMap(vm)["mountPath"])] = str(asMap(vm)["name"])
	}
	if ca := main.env["VAULT_CACERT"]; mounts[filepath.Dir(ca)] != main.mounts[filepath.Dir(ca)] {
		t.Errorf("%s: does not mount Vault's CA at %s as the Deployments do", path, filepath.Dir(ca))
	}
	// rotate-key.sh rewrites both versions with sed: its patterns match.
	script := readFile(t, filepath.Join("rotate", "rotate-key.sh"))
	data := readFile(t, path)
	for name, class := range map[string]string{"REKEY_FROM_VERSION": "[0-9]*", "REKEY_TO_VERSION": "[0-9]*", "REKEY_REWRAP_ONLY": "[a-z]*"} {
		if !strings.Contains(script, "s/{name: "+name+`, value: \"`+class+`\"}/`) {
			t.Errorf("rotate-key.sh does not set %s", name)
		}
		if !regexp.MustCompile(`\{name: ` + name + `, value: "` + class + `"\}`).MatchString(data) {
			t.Errorf("%s: no line {name: %s, value: \"…\"} for rotate-key.sh to set", path, name)
		}
	}
}
