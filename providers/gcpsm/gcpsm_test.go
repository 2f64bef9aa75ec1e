package gcpsm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/gcpsmfake"
)

const canary = "CANARY-gcpsm-7f3a9e-value"

func TestFetchLatestPinnedAlias(t *testing.T) {
	w := newWorld(t)
	w.fake.AddVersion(project+"/n8n-db", []byte("old-"+canary))
	w.fake.AddVersion(project+"/n8n-db", []byte(`{"password":"`+canary+`"}`))
	w.fake.SetAlias(project+"/n8n-db", "stable", 1)
	w.fake.Grant(saPrin, gcpsmfake.RoleAccessor, project+"/n8n-db")
	p := w.provider(t)
	ctx := ctxT(t)

	for _, tc := range []struct {
		ref, want, version string
	}{
		{"projects/" + project + "/secrets/n8n-db", `{"password":"` + canary + `"}`, "2"},
		{"projects/" + project + "/secrets/n8n-db/versions/latest", `{"password":"` + canary + `"}`, "2"},
		{"projects/" + project + "/secrets/n8n-db/versions/1", "old-" + canary, "1"},
		{"projects/" + number + "/secrets/n8n-db/versions/1", "old-" + canary, "1"},
		{"projects/" + project + "/secrets/n8n-db/versions/stable", "old-" + canary, "1"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			pl, err := p.FetchRef(ctx, mustRef(t, tc.ref))
			if err != nil {
				t.Fatalf("FetchRef: %v", err)
			}
			if string(pl.Value.Reveal()) != tc.want {
				t.Errorf("value differs (length %d, want %d)", pl.Value.Len(), len(tc.want))
			}
			if pl.Version != tc.version {
				t.Errorf("Version = %q, want %q", pl.Version, tc.version)
			}
		})
	}
	// One token for all: x/oauth2 reuses it until it nears expiry.
	if n := w.fake.Count("oauth", "/token"); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	if got, want := p.Requests(), int64(len(w.fake.Requests())); got != want {
		t.Errorf("Requests() = %d, the fake saw %d", got, want)
	}
}

func TestShortFormProjectOrder(t *testing.T) {
	w := newWorld(t)
	w.fake.AddProject("other-project-1", "100000000001")
	w.fake.AddProject("other-project-2", "100000000002")
	for i, pr := range []string{project, "other-project-1", "other-project-2"} {
		w.fake.AddVersion(pr+"/n8n-key", fmt.Appendf(nil, "value-%d", i))
		w.fake.Grant(saPrin, gcpsmfake.RoleAccessor, pr)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"key file's project_id", nil, "value-0"},
		{"CLOUDSDK_CORE_PROJECT beats the key file", map[string]string{"CLOUDSDK_CORE_PROJECT": "other-project-2"}, "value-2"},
		{"GOOGLE_CLOUD_PROJECT beats gcloud's", map[string]string{"GOOGLE_CLOUD_PROJECT": "other-project-1", "CLOUDSDK_CORE_PROJECT": "other-project-2"}, "value-1"},
		{"GCLOUD_PROJECT", map[string]string{"GCLOUD_PROJECT": "other-project-2"}, "value-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				w.env[k] = v
			}
			defer func() {
				for k := range tc.env {
					delete(w.env, k)
				}
			}()
			pl, err := w.provider(t).FetchRef(ctxT(t), mustRef(t, "n8n-key"))
			if err != nil {
				t.Fatalf("FetchRef: %v", err)
			}
			if got := string(pl.Value.Reveal()); got != tc.want {
				t.Errorf("read %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("short form with a version", func(t *testing.T) {
		w.fake.AddVersion(project+"/n8n-key", []byte("newer"))
		pl, err := w.provider(t).FetchRef(ctxT(t), mustRef(t, "n8n-key/versions/1"))
		if err != nil || string(pl.Value.Reveal()) != "value-0" || pl.Version != "1" {
			t.Fatalf("FetchRef: %v (version %q)", err, pl.Version)
		}
	})
	t.Run("bad project variable", func(t *testing.T) {
		w.env["GOOGLE_CLOUD_PROJECT"] = "Not A Project"
		defer delete(w.env, "GOOGLE_CLOUD_PROJECT")
		_, err := w.provider(t).FetchRef(ctxT(t), mustRef(t, "n8n-key"))
		if !errors.Is(err, inject.ErrNotConfigured) || !strings.Contains(err.Error(), "GOOGLE_CLOUD_PROJECT") || strings.Contains(err.Error(), "Not A Project") {
			t.Fatalf("err = %v, want ErrNotConfigured naming the variable, not its value", err)
		}
	})
}

func TestRegionalSecret(t *testing.T) {
	w := newWorld(t)
	w.fake.AddVersion(project+"/europe-west1/n8n-db", []byte("regional"))
	w.fake.Grant(saPrin, gcpsmfake.RoleAccessor, project)
	pl, err := w.provider(t).FetchRef(ctxT(t), mustRef(t, "projects/"+project+"/locations/europe-west1/secrets/n8n-db"))
	if err != nil || string(pl.Value.Reveal()) != "regional" {
		t.Fatalf("FetchRef: %v", err)
	}
	if n := w.fake.Count("api", "/locations/europe-west1/secrets/n8n-db/versions/latest:access"); n != 1 {
		t.Errorf("regional access requests = %d, want 1", n)
	}
	// Without the override, a regional secret goes to its regional endpoint.
	p, err := New(Config{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.baseURL(mustRef(t, "projects/p-123456/locations/me-central2/secrets/s")); got != "https://secretmanager.me-central2.rep.googleapis.com" {
		t.Errorf("regional endpoint = %s", got)
	}
	if got := p.baseURL(mustRef(t, "s")); got != DefaultEndpoint {
		t.Errorf("global endpoint = %s", got)
	}
}

func TestFailures(t *testing.T) {
	w := newWorld(t)
	sec := project + "/n8n-db"
	w.fake.AddVersion(sec, []byte(canary))
	w.fake.AddVersion(sec, []byte(canary+"-2"))
	w.fake.AddVersion(sec, []byte(canary+"-3"))
	w.fake.SetState(sec, 1, gcpsmfake.Disabled)
	w.fake.SetState(sec, 2, gcpsmfake.Destroyed)
	w.fake.AddVersion(project+"/forbidden", []byte(canary))
	w.fake.Grant(saPrin, gcpsmfake.RoleAccessor, sec)
	w.fake.Grant(saPrin, gcpsmfake.RoleAccessor, project+"/missing")
	ref := func(s string) Ref { return mustRef(t, "projects/"+project+"/secrets/"+s) }

	for _, tc := range []struct {
		name  string
		ref   Ref
		setup func()
		want  error
		text  string
	}{
		{"secret not found", ref("missing"), nil, inject.ErrNotFound, "NOT_FOUND"},
		{"version not found", ref("n8n-db/versions/9"), nil, inject.ErrNotFound, "NOT_FOUND"},
		{"denied", ref("forbidden"), nil, inject.ErrPermission, "PERMISSION_DENIED"},
		{"unknown project is denied", mustRef(t, "projects/no-such-project/secrets/x"), nil, inject.ErrPermission, "PERMISSION_DENIED"},
		{"disabled version", ref("n8n-db/versions/1"), nil, inject.ErrNotFound, "the version is disabled"},
		{"destroyed version", ref("n8n-db/versions/2"), nil, inject.ErrNotFound, "the version is destroyed"},
		{"latest disabled", ref("n8n-db"), func() { w.fake.SetState(sec, 3, gcpsmfake.Disabled) }, inject.ErrNotFound, "the version is disabled"},
		{"checksum mismatch", ref("n8n-db/versions/3"), func() { w.fake.SetState(sec, 3, gcpsmfake.Enabled); w.fake.CorruptChecksums(true) }, inject.ErrBadData, "CRC32C"},
		{"throttled", ref("n8n-db/versions/3"), func() { w.fake.CorruptChecksums(false); w.fake.Throttle(1) }, inject.ErrUnavailable, "RESOURCE_EXHAUSTED"},
		{"unavailable", ref("n8n-db/versions/3"), func() { w.fake.FailNext(1) }, inject.ErrUnavailable, "UNAVAILABLE"},
		{"token revoked", ref("n8n-db/versions/3"), func() { w.fake.RevokeTokens() }, inject.ErrAuth, "UNAUTHENTICATED"},
		{"key deleted", ref("n8n-db/versions/3"), func() { w.fake.DeleteKeys() }, inject.ErrAuth, "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			// A new provider each time: no token kept from before.
			p := w.provider(t)
			if tc.name == "token revoked" {
				// The token is fetched before the revocation.
				p = provOnce
			}
			_, err := p.FetchRef(ctxT(t), tc.ref)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) || !strings.HasPrefix(err.Error(), "gcpsm: get ") {
				t.Errorf("err = %q, want it prefixed and holding %q", err, tc.text)
			}
			checkNoLeak(t, w, err.Error())
		})
		if tc.name == "unavailable" {
			// The next test's provider got its token here.
			provOnce = w.provider(t)
			if _, err := provOnce.FetchRef(ctxT(t), ref("n8n-db/versions/3")); err != nil {
				t.Fatalf("before revoking: %v", err)
			}
		}
	}
}

var provOnce *Provider

// TestRevokedTokenReplaced: after a 401 the next read gets a new token
// instead of failing with the revoked one until it expires.
func TestRevokedTokenReplaced(t *testing.T) {
	for _, viaMetadata := range []bool{false, true} {
		w := newWorld(t)
		if viaMetadata {
			delete(w.env, "GOOGLE_APPLICATION_CREDENTIALS")
			t.Setenv("GCE_METADATA_HOST", w.fake.MetadataHost())
			w.fake.SetMetadataAccount(saPrin, project)
		}
		w.fake.AddVersion(project+"/db", []byte(canary))
		w.fake.Grant(saPrin, gcpsmfake.RoleAccessor, project)
		p := w.provider(t)
		ref := mustRef(t, "projects/"+project+"/secrets/db")
		if _, err := p.FetchRef(ctxT(t), ref); err != nil {
			t.Fatal(err)
		}
		w.fake.RevokeTokens()
		if _, err := p.FetchRef(ctxT(t), ref); !errors.Is(err, inject.ErrAuth) {
			t.Fatalf("metadata %v: with the revoked token: %v, want ErrAuth", viaMetadata, err)
		}
		if _, err := p.FetchRef(ctxT(t), ref); err != nil {
			t.Fatalf("metadata %v: after a 401: %v, want a new token", viaMetadata, err)
		}
	}
}

func TestNetworkUnavailable(t *testing.T) {
	w := newWorld(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	w.env[EndpointVar] = "http://" + addr
	_, err = w.provider(t).FetchRef(ctxT(t), mustRef(t, "projects/"+project+"/secrets/x"))
	if !errors.Is(err, inject.ErrUnavailable) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v, want ErrUnavailable (connection refused)", err)
	}
	if strings.Contains(err.Error(), addr) {
		t.Errorf("err names the address: %v", err)
	}
}

// TestRetriedUnderDeadline: the resolver retries a throttled read and it
// recovers; the provider itself sends one request per attempt.
func TestRetriedUnderDeadline(t *testing.T) {
	w := newWorld(t)
	w.fake.AddVersion(project+"/n8n-db", []byte(canary))
	w.fake.Grant(saPrin, gcpsmfake.RoleAccessor, project)
	w.fake.Throttle(2)
	p := w.provider(t)
	r := &inject.Resolver{Providers: map[string]inject.Provider{Scheme: store{p}}, Backoff: inject.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond}}
	res, errs := r.Resolve(ctxT(t), []inject.Request{{Var: "DB_POSTGRESDB_PASSWORD", Ref: inject.Reference{Scheme: Scheme, Loc: refOf("projects/" + project + "/secrets/n8n-db")}}})
	if len(errs) > 0 {
		t.Fatalf("Resolve: %v", errs)
	}
	if string(res[0].Value.Reveal()) != canary || res[0].Attempts != 3 || res[0].Version != "1" {
		t.Errorf("attempts = %d, version %q", res[0].Attempts, res[0].Version)
	}
	if n := w.fake.Count("api", ":access"); n != 3 {
		t.Errorf("access requests = %d, want 3 (one per attempt, no retries of the provider's own)", n)
	}

	// Unavailable until the deadline: 69, and the error says so.
	w.fake.FailNext(1 << 30)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, errs = r.Resolve(ctx, []inject.Request{{Var: "X", Ref: inject.Reference{Scheme: Scheme, Loc: refOf("projects/" + project + "/secrets/n8n-db/versions/1")}}})
	if len(errs) != 1 || inject.CodeOf(errs[0]) != inject.CodeProviderUnavailable || inject.ExitCodeOf(errs) != inject.ExitUnavailable {
		t.Fatalf("errs = %v, want PROVIDER_UNAVAILABLE", errs)
	}
}

func TestWatch(t *testing.T) {
	w := newWorld(t)
	sec := project + "/n8n-db"
	w.fake.AddVersion(sec, []byte(canary))
	w.fake.Grant(saPrin, gcpsmfake.RoleAccessor, sec)
	w.fake.Grant(saPrin, gcpsmfake.RoleViewer, sec)
	p := w.provider(t)
	ctx := ctxT(t)
	latest, pinned := mustRef(t, "projects/"+project+"/secrets/n8n-db"), mustRef(t, "projects/"+project+"/secrets/n8n-db/versions/1")

	pl, err := p.FetchRef(ctx, latest)
	if err != nil {
		t.Fatal(err)
	}
	res := p.WatchRefs(ctx, []Ref{latest, pinned})
	if res[0].Err != nil || res[0].Stamp != pl.Version || res[1].Stamp != "1" {
		t.Fatalf("watch = %+v, want stamps %q and 1", res, pl.Version)
	}
	accessBefore := w.fake.Count("api", ":access")
	w.fake.AddVersion(sec, []byte(canary+"-rotated"))
	res = p.WatchRefs(ctx, []Ref{latest, pinned})
	if res[0].Err != nil || res[0].Stamp != "2" || res[1].Stamp != "1" {
		t.Fatalf("after rotation: %+v, want 2 and 1", res)
	}
	if got := w.fake.Count("api", ":access"); got != accessBefore {
		t.Errorf("watching read the value: %d access requests, was %d", got, accessBefore)
	}
	if got := w.fake.Count("api", "/n8n-db/versions/latest"); got != 2 {
		t.Errorf("versions.get on latest = %d, want one per watch (2)", got)
	}
	// The stamp equals what a fetch reports for the same version.
	pl, err = p.FetchRef(ctx, latest)
	if err != nil || pl.Version != res[0].Stamp {
		t.Fatalf("fetch version %q, watch stamp %q (%v)", pl.Version, res[0].Stamp, err)
	}

	w.fake.SetState(sec, 2, gcpsmfake.Disabled)
	res = p.WatchRefs(ctx, []Ref{latest})
	if !errors.Is(res[0].Err, inject.ErrNotFound) || !strings.Contains(res[0].Err.Error(), "disabled") {
		t.Errorf("disabled latest: %v, want ErrNotFound (disabled)", res[0].Err)
	}

	// Without the viewer role: a denial that names the permission.
	w.fake.AddVersion(project+"/no-viewer", []byte("x"))
	w.fake.Grant(saPrin, gcpsmfake.RoleAccessor, project+"/no-viewer")
	res = p.WatchRefs(ctx, []Ref{mustRef(t, "projects/"+project+"/secrets/no-viewer")})
	if !errors.Is(res[0].Err, inject.ErrPermission) || !strings.Contains(res[0].Err.Error(), "secretmanager.versions.get") {
		t.Errorf("no viewer: %v", res[0].Err)
	}
	checkNoLeak(t, w, fmt.Sprint(res), w.logs.String())
}

func TestMetadataServer(t *testing.T) {
	w := newWorld(t)
	delete(w.env, "GOOGLE_APPLICATION_CREDENTIALS")
	t.Setenv("GCE_METADATA_HOST", w.fake.MetadataHost())
	principal := "principal://iam.googleapis.com/projects/" + number + "/locations/global/workloadIdentityPools/" + project + ".svc.id.goog/subject/ns/n8n/sa/n8n"
	w.fake.AddVersion(project+"/n8n-key", []byte(canary))
	w.fake.Grant(principal, gcpsmfake.RoleAccessor, project+"/n8n-key")

	w.fake.SetMetadataAccount("", "")
	_, err := w.provider(t).FetchRef(ctxT(t), mustRef(t, "projects/"+project+"/secrets/n8n-key"))
	if !errors.Is(err, inject.ErrAuth) || !strings.Contains(err.Error(), "no service account") {
		t.Fatalf("no workload identity: %v, want ErrAuth", err)
	}

	w.fake.SetMetadataAccount(principal, project)
	p := w.provider(t)
	before := w.fake.Count("metadata", "/token")
	for range 2 {
		pl, err := p.FetchRef(ctxT(t), mustRef(t, "n8n-key"))
		if err != nil || string(pl.Value.Reveal()) != canary {
			t.Fatalf("FetchRef through the metadata server: %v", err)
		}
	}
	if n := w.fake.Count("metadata", "/token") - before; n != 1 {
		t.Errorf("metadata token requests = %d, want 1 (kept until near expiry)", n)
	}
	if n := w.fake.Count("metadata", "/project/project-id"); n < 1 {
		t.Errorf("the project was not asked of the metadata server")
	}
	checkNoLeak(t, w, w.logs.String())
}

func TestExternalAccount(t *testing.T) {
	w := newWorld(t)
	aud := "//iam.googleapis.com/projects/" + number + "/locations/global/workloadIdentityPools/aks/providers/aks-oidc"
	principal := "principal://iam.googleapis.com/projects/" + number + "/locations/global/workloadIdentityPools/aks/subject/system:serviceaccount:n8n:n8n"
	dir := t.TempDir()
	subject := filepath.Join(dir, "token")
	if err := os.WriteFile(subject, []byte("eyJhbGciOi.subject-"+canary+".sig"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "cred.json")
	if err := os.WriteFile(cfg, w.fake.ExternalAccount(aud, subject), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env["GOOGLE_APPLICATION_CREDENTIALS"] = cfg
	w.fake.AddVersion(project+"/n8n-key", []byte(canary))
	w.fake.Grant(principal, gcpsmfake.RoleAccessor, project+"/n8n-key")

	_, err := w.provider(t).FetchRef(ctxT(t), mustRef(t, "projects/"+project+"/secrets/n8n-key"))
	if !errors.Is(err, inject.ErrAuth) || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("unknown subject token: %v, want ErrAuth (invalid_grant)", err)
	}
	checkNoLeak(t, w, err.Error())

	w.fake.AddSubjectToken(aud, "eyJhbGciOi.subject-"+canary+".sig", principal)
	pl, err := w.provider(t).FetchRef(ctxT(t), mustRef(t, "projects/"+project+"/secrets/n8n-key"))
	if err != nil || string(pl.Value.Reveal()) != canary {
		t.Fatalf("FetchRef with workload identity federation: %v", err)
	}
	if n := w.fake.Count("oauth", "/v1/token"); n != 2 {
		t.Errorf("STS requests = %d, want 2", n)
	}
}

func TestCredentialFileProblems(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	privateKey := string(w.keyJSON[strings.Index(string(w.keyJSON), "-----BEGIN"):][:200])
	for _, tc := range []struct {
		name, file string
		want       error
		text       string
	}{
		{"missing", filepath.Join(dir, "nope.json"), inject.ErrAuth, "no such file"},
		{"not JSON", write("bad.json", "{"+canary), inject.ErrAuth, "not a JSON credentials file"},
		{"unknown type", write("type.json", `{"type":"`+canary+`"}`), inject.ErrAuth, "no supported type"},
		{"broken key", write("key.json", `{"type":"service_account","client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\n`+canary+`\n-----END PRIVATE KEY-----\n","token_uri":"`+w.fake.OAuthURL()+`/token"}`), inject.ErrAuth, "could not give a token"},
		{"plain http token_uri", write("http.json", strings.Replace(string(w.keyJSON), w.fake.OAuthURL(), "http://oauth2.example.com", 1)), inject.ErrNotConfigured, "token_uri uses plain http://"},
		{"a directory", dir, inject.ErrAuth, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.env["GOOGLE_APPLICATION_CREDENTIALS"] = tc.file
			_, err := w.provider(t).FetchRef(ctxT(t), mustRef(t, "projects/"+project+"/secrets/x"))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %v, want %v holding %q", err, tc.want, tc.text)
			}
			checkNoLeak(t, w, err.Error())
			if strings.Contains(err.Error(), privateKey[30:60]) || strings.Contains(err.Error(), dir) {
				t.Errorf("err holds the key or the path: %v", err)
			}
		})
	}
	if n := w.fake.Count("oauth", ""); n != 0 {
		t.Errorf("%d token requests for files refused before any", n)
	}
}

func TestPlainHTTPRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   map[string]string
		allow bool
		ok    bool
	}{
		{"endpoint off loopback", map[string]string{EndpointVar: "http://secretmanager.internal.example"}, false, false},
		{"endpoint off loopback, allowed", map[string]string{EndpointVar: "http://secretmanager.internal.example"}, true, true},
		{"endpoint on loopback", map[string]string{EndpointVar: "http://127.0.0.1:8080"}, false, true},
		{"https regional endpoint", map[string]string{EndpointVar: "https://secretmanager.europe-west1.rep.googleapis.com/"}, false, true},
		{"endpoint not a URL", map[string]string{EndpointVar: "secretmanager.googleapis.com"}, false, false},
		{"endpoint with a query", map[string]string{EndpointVar: "https://x.example/?a=" + canary}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{Getenv: func(k string) string { return tc.env[k] }, AllowHTTP: tc.allow})
			if (err == nil) != tc.ok {
				t.Fatalf("New: %v, want ok=%v", err, tc.ok)
			}
			if err != nil && (!errors.Is(err, inject.ErrNotConfigured) || !strings.Contains(err.Error(), EndpointVar) || strings.Contains(err.Error(), canary)) {
				t.Errorf("err = %v, want ErrNotConfigured naming %s", err, EndpointVar)
			}
		})
	}

	// A proxy off loopback in plain http would see a plain-http request's
	// bearer token: refused before anything is sent.
	w := newWorld(t)
	w.env["HTTP_PROXY"] = "http://proxy.example:3128"
	w.env["NO_PROXY"] = ""
	w.env[EndpointVar] = "http://secretmanager.internal.example"
	p, err := New(Config{Getenv: func(k string) string { return w.env[k] }, AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	p.route.allowHTTP = false // only the proxy rule is under test
	_, err = p.FetchRef(ctxT(t), mustRef(t, "projects/"+project+"/secrets/x"))
	if !errors.Is(err, inject.ErrNotConfigured) {
		t.Fatalf("err = %v, want ErrNotConfigured", err)
	}
}

// checkNoLeak fails when an output holds the canary, a token the fake
// issued, or a piece of the private key.
func checkNoLeak(t *testing.T, w *world, outputs ...string) {
	t.Helper()
	key := string(w.keyJSON)
	i := strings.Index(key, "-----BEGIN PRIVATE KEY-----\\n")
	keyPiece := key[i+40 : i+80]
	for _, out := range outputs {
		for _, bad := range append(w.fake.Tokens(), canary, keyPiece) {
			if strings.Contains(out, bad) {
				t.Errorf("output holds a secret (%.12s…): %.300s", bad, out)
			}
		}
	}
}
