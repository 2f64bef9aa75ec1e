package gcpsm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/gcpsmfake"
)

// TestLibraryTextNotShown: what a token endpoint or STS answers goes
// through x/oauth2's error text; only the OAuth error code and the HTTP
// status come out, never the description (which can quote a token).
func TestLibraryTextNotShown(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   error
		text   string
	}{
		{"refused with a description", 400, `{"error":"invalid_grant","error_description":"` + canary + `"}`, inject.ErrAuth, "HTTP 400, invalid_grant"},
		{"an error code that is not one", 401, `{"error":"` + canary + `"}`, inject.ErrAuth, "HTTP 401)"},
		{"not JSON", 403, canary, inject.ErrAuth, "HTTP 403)"},
		{"server fault", 503, `{"error":"temporarily_unavailable","error_description":"` + canary + `"}`, inject.ErrUnavailable, "HTTP 503, temporarily_unavailable"},
		{"throttled", 429, canary, inject.ErrUnavailable, "HTTP 429"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			w := newWorld(t)
			dir := t.TempDir()
			// A service account key and an external account, both at srv.
			sa := filepath.Join(dir, "sa.json")
			_ = os.WriteFile(sa, []byte(strings.Replace(string(w.keyJSON), w.fake.OAuthURL()+"/token", srv.URL+"/token", 1)), 0o600)
			subject := filepath.Join(dir, "subject")
			_ = os.WriteFile(subject, []byte("subject-"+canary), 0o600)
			ext := filepath.Join(dir, "ext.json")
			_ = os.WriteFile(ext, []byte(strings.Replace(string(w.fake.ExternalAccount("//iam.googleapis.com/x", subject)), w.fake.OAuthURL(), srv.URL, 1)), 0o600)
			for _, file := range []string{sa, ext} {
				w.env["GOOGLE_APPLICATION_CREDENTIALS"] = file
				_, err := w.provider(t).FetchRef(ctxT(t), mustRef(t, "projects/"+project+"/secrets/x"))
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
					t.Errorf("%s: err = %v, want %v holding %q", filepath.Base(file), err, tc.want, tc.text)
				}
				checkNoLeak(t, w, fmt.Sprint(err))
			}
		})
	}
}

// TestHungTokenEndpoint: a token endpoint that never answers cannot hold
// the start past its deadline; the failure is transient (69).
func TestHungTokenEndpoint(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	w := newWorld(t)
	sa := filepath.Join(t.TempDir(), "sa.json")
	_ = os.WriteFile(sa, []byte(strings.Replace(string(w.keyJSON), w.fake.OAuthURL()+"/token", srv.URL+"/token", 1)), 0o600)
	w.env["GOOGLE_APPLICATION_CREDENTIALS"] = sa
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := w.provider(t).FetchRef(ctx, mustRef(t, "projects/"+project+"/secrets/x"))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) || inject.CodeOf(err) != inject.CodeProviderUnavailable {
			t.Fatalf("err = %v, want the deadline (PROVIDER_UNAVAILABLE)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("FetchRef did not return after its deadline")
	}
}

// TestFederationSourceURLs: a federation's credential_source may name
// another cloud's metadata service in plain http on a link-local address;
// any other plain http address is refused before a request.
func TestFederationSourceURLs(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://169.254.169.254/metadata/identity/oauth2/token?resource=api://x", true},
		{"http://[fd00:ec2::254]/latest/meta-data/", true},
		{"http://127.0.0.1:8080/token", true},
		{"https://idp.example.com/token", true},
		{"http://10.0.0.5/token", false},
		{"http://idp.example.com/token", false},
	} {
		p := w.provider(t)
		cf := credFile{Type: "external_account", TokenURL: "https://sts.googleapis.com/v1/token", CredentialSource: &credSourceURLs{URL: tc.url}}
		err := p.checkCredURLs(&cf, "the file")
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.url, err, tc.ok)
		}
		if err != nil && (!errors.Is(err, inject.ErrNotConfigured) || !strings.Contains(err.Error(), "credential_source.url")) {
			t.Errorf("%s: %v, want ErrNotConfigured naming the field", tc.url, err)
		}
	}
	// The exception is for the source only: STS itself in plain http is not.
	cf := credFile{Type: "external_account", TokenURL: "http://169.254.169.254/v1/token"}
	if err := w.provider(t).checkCredURLs(&cf, "the file"); !errors.Is(err, inject.ErrNotConfigured) {
		t.Errorf("plain http STS: %v, want refused", err)
	}
}

// TestResolverCanaries runs failures and successes through the core's
// resolver, with its logger at debug: no value, token or key in any error
// or log line, and the payload's value prints redacted.
func TestResolverCanaries(t *testing.T) {
	w := newWorld(t)
	w.fake.AddVersion(project+"/ok", []byte(`{"k":"`+canary+`"}`))
	w.fake.AddVersion(project+"/off", []byte(canary))
	w.fake.SetState(project+"/off", 1, gcpsmfake.Disabled)
	w.fake.AddVersion(project+"/denied", []byte(canary))
	w.fake.Grant(saPrin, gcpsmfake.RoleAccessor, project+"/ok")
	w.fake.Grant(saPrin, gcpsmfake.RoleAccessor, project+"/off")
	w.fake.Throttle(1)
	p := w.provider(t)
	r := &inject.Resolver{Providers: map[string]inject.Provider{Scheme: store{p}}, Backoff: inject.Backoff{Initial: time.Millisecond, Max: time.Millisecond},
		Logger: w.provider(t).log}
	reqs := []inject.Request{
		{Var: "A", Ref: inject.Reference{Scheme: Scheme, Loc: refOf("projects/" + project + "/secrets/ok"), Selector: "k"}},
		{Var: "B", Ref: inject.Reference{Scheme: Scheme, Loc: refOf("projects/" + project + "/secrets/off")}},
		{Var: "C", Ref: inject.Reference{Scheme: Scheme, Loc: refOf("projects/" + project + "/secrets/denied")}},
		{Var: "D", Ref: inject.Reference{Scheme: Scheme, Loc: refOf("projects/" + project + "/secrets/ok"), Selector: "missing"}},
	}
	res, errs := r.Resolve(ctxT(t), reqs)
	if len(errs) != 3 || string(res[0].Value.Reveal()) != canary {
		t.Fatalf("errs = %v", errs)
	}
	out := fmt.Sprintf("%v %+v %#v %s", errs, res, res, w.logs.String())
	checkNoLeak(t, w, out)
	if !strings.Contains(w.logs.String(), "RETRYING") {
		t.Errorf("the throttled read was not retried through the resolver")
	}
}
