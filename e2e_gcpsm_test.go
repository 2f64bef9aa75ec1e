package main

// End-to-end tests of gcpsm:// references: the real binary against
// internal/testenv/gcpsmfake, a Secret Manager REST endpoint and an OAuth
// token endpoint on loopback that check what Google's check (the bearer
// token, the service account's signed assertion, IAM roles per secret, the
// CRC32C of every payload). The service account's private key, the tokens
// and the values are canaries.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/gcpsmfake"
)

const (
	gcpProject = "n8n-prod-4711"
	gcpNumber  = "318552740113"
	gcpSA      = "n8n-secrets@n8n-prod-4711.iam.gserviceaccount.com"
)

// gcpEnv starts the fake with the project, writes a key of the service
// account, and returns the settings that point the binary at both; the
// key's private part is a canary.
func (e *e2e) gcpEnv(t *testing.T) (*gcpsmfake.Server, []string) {
	f := gcpsmfake.New(t)
	f.AddProject(gcpProject, gcpNumber)
	key := f.ServiceAccountKey(gcpSA, gcpProject)
	var k struct {
		PrivateKey string `json:"private_key"`
	}
	if err := json.Unmarshal(key, &k); err != nil || k.PrivateKey == "" {
		t.Fatalf("service account key: %v", err)
	}
	for _, line := range strings.Split(k.PrivateKey, "\n") {
		if len(line) >= 60 && !strings.HasPrefix(line, "-----") {
			e.canaries = append(e.canaries, line)
		}
	}
	file := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(file, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return f, []string{
		"GOOGLE_APPLICATION_CREDENTIALS=" + file,
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER=" + f.APIURL(),
		"GOOGLE_CLOUD_PROJECT=" + gcpProject,
		"N8N_SECRETS_N8N=off",
		"N8N_SECRETS_LOG_LEVEL=debug",
		"E2E_CHILD_EXIT=0",
	}
}

// tokensNotShown fails the test if an access token the fake issued is in s.
func tokensNotShown(t *testing.T, f *gcpsmfake.Server, s string) {
	t.Helper()
	for i, tok := range f.Tokens() {
		if tok != "" && strings.Contains(s, tok) {
			t.Errorf("output holds access token #%d", i)
		}
	}
}

func TestGCPSMValuesReachChild(t *testing.T) {
	e := newE2E(t)
	f, env := e.gcpEnv(t)
	key, pw, old := e.canary("gcpkey"), e.canary("gcppw"), e.canary("gcpold")
	f.AddVersion(gcpProject+"/n8n-key", []byte(key))
	f.AddVersion(gcpProject+"/n8n-db", []byte(old))
	f.AddVersion(gcpProject+"/n8n-db", []byte(`{"password":"`+pw+`"}`))
	sa := "serviceAccount:" + gcpSA
	// On the project: a missing secret is then NOT_FOUND, not a denial
	// (Google does not say whether a secret one may not read exists).
	f.Grant(sa, gcpsmfake.RoleAccessor, gcpProject)
	env = append(env,
		"N8N_ENCRYPTION_KEY=gcpsm://n8n-key",
		"DB_POSTGRESDB_PASSWORD=gcpsm://projects/"+gcpProject+"/secrets/n8n-db#password",
		"OLD=gcpsm://projects/"+gcpProject+"/secrets/n8n-db/versions/1",
		"OPTIONAL=gcpsm://n8n-none?optional=true")
	r := e.run(env, "--", self(t))
	if r.code != 0 || r.child == nil {
		t.Fatalf("exit %d, child ran: %v\nstderr: %s", r.code, r.child != nil, r.stderr)
	}
	got := envOf(r.child)
	for k, v := range map[string]string{"N8N_ENCRYPTION_KEY": key, "DB_POSTGRESDB_PASSWORD": pw, "OLD": old} {
		if got[k] != v {
			t.Errorf("child %s differs from the expected value (%d vs %d bytes)", k, len(got[k]), len(v))
		}
	}
	for _, k := range []string{"GOOGLE_APPLICATION_CREDENTIALS", "OPTIONAL"} {
		if _, ok := got[k]; ok {
			t.Errorf("child has %s", k)
		}
	}
	tokensNotShown(t, f, r.stdout+r.stderr)
	r = e.run(env, "check")
	if r.code != 0 || !strings.Contains(r.stdout, "n8n-db") || !strings.Contains(r.stdout, "gcpsm") {
		t.Errorf("check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	tokensNotShown(t, f, r.stdout+r.stderr)
}

func TestGCPSMFailures(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *e2e, f *gcpsmfake.Server) []string
		code  int
		log   string
	}{
		{"not found", func(e *e2e, f *gcpsmfake.Server) []string {
			f.Grant("serviceAccount:"+gcpSA, gcpsmfake.RoleAccessor, gcpProject)
			return []string{"K=gcpsm://n8n-none"}
		}, 65, "SECRET_NOT_FOUND"},
		{"denied", func(e *e2e, f *gcpsmfake.Server) []string {
			f.AddVersion(gcpProject+"/n8n-denied", []byte(e.canary("denied")))
			return []string{"K=gcpsm://n8n-denied"}
		}, 77, "PERMISSION_DENIED"},
		{"down past the deadline", func(e *e2e, f *gcpsmfake.Server) []string {
			f.AddVersion(gcpProject+"/n8n-ok", []byte(e.canary("ok")))
			f.Grant("serviceAccount:"+gcpSA, gcpsmfake.RoleAccessor, gcpProject+"/n8n-ok")
			f.FailNext(1000)
			return []string{"K=gcpsm://n8n-ok", "N8N_SECRETS_TIMEOUT=700ms"}
		}, 69, "PROVIDER_UNAVAILABLE"},
		{"plain http off loopback", func(e *e2e, f *gcpsmfake.Server) []string {
			return []string{"K=gcpsm://n8n-ok", "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER=http://secretmanager.example.com/"}
		}, 64, "PROVIDER_NOT_CONFIGURED"},
		{"bad reference", func(e *e2e, f *gcpsmfake.Server) []string {
			return []string{"K=gcpsm://projects/" + gcpProject + "/secrets/n8n-ok/versions/0"}
		}, 65, "BAD_REFERENCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newE2E(t)
			f, env := e.gcpEnv(t)
			env = append(env, tt.setup(e, f)...)
			r := e.run(env, "--", self(t))
			r.assertRefused(t, tt.code, tt.log)
			tokensNotShown(t, f, r.stdout+r.stderr)
		})
	}
}

// TestSuperviseGCPSMRollsOutNewVersions: a new version of a secret is seen
// through versions.get (metadata, no payload) and rolled out by a restart.
func TestSuperviseGCPSMRollsOutNewVersions(t *testing.T) {
	e := newE2E(t)
	f, env := e.gcpEnv(t)
	key, pw := e.canary("key"), e.canary("pw")
	sa := "serviceAccount:" + gcpSA
	for name, v := range map[string]string{"n8n-key": key, "n8n-db": pw} {
		f.AddVersion(gcpProject+"/"+name, []byte(v))
		f.Grant(sa, gcpsmfake.RoleAccessor, gcpProject+"/"+name)
		f.Grant(sa, gcpsmfake.RoleViewer, gcpProject+"/"+name)
	}
	env = append(env, superviseEnv("N8N_ENCRYPTION_KEY=gcpsm://n8n-key", "DB_POSTGRESDB_PASSWORD=gcpsm://n8n-db",
		"N8N_SECRETS_REFRESH=300ms")...)
	r := e.startSupervised(env, nil)
	r.waitStarts(1, 30*time.Second)
	access := f.Count("api", ":access")
	r.waitFor("idle refreshes", 10*time.Second, func() bool { return f.Count("api", "/n8n-db/versions/latest") >= 3 })
	if n := f.Count("api", ":access") - access; n != 0 {
		t.Errorf("idle refreshes read %d values: the version must be enough", n)
	}
	pw2 := e.canary("pw2")
	f.AddVersion(gcpProject+"/n8n-db", []byte(pw2))
	starts := r.waitStarts(2, 30*time.Second)
	if got := childEnv(starts[1]); got["DB_POSTGRESDB_PASSWORD"] != pw2 || got["N8N_ENCRYPTION_KEY"] != key {
		t.Error("the restarted child did not get the new version")
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
	tokensNotShown(t, f, r.stdout.String()+r.stderr.String())
}
