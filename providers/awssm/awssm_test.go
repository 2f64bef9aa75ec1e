package awssm_test

// Tests against internal/testenv/awsfake, a Secrets Manager endpoint that speaks the
// SDK's wire protocol (awsJson1_1, SigV4) on loopback: no AWS endpoint can
// be reached here. Every test isolates the environment (awsfake.IsolateEnv)
// so that nothing on the machine (keys, profiles, IMDS) takes part. The
// end-to-end tests through the binary are in the repository root.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
	"github.com/n8n-secrets/n8n-secrets/providers/awssm"
)

const (
	usEast = "us-east-1"
	euWest = "eu-west-1"

	canaryPrefix = "CANARY-awssm-"
)

func canary(label string) string { return canaryPrefix + label }

// setup starts a fake Secrets Manager and points the SDK's default
// configuration at it: region us-east-1, the fake's endpoint and keys.
func setup(t testing.TB) *awsfake.Server {
	t.Helper()
	s := awsfake.New(t)
	s.Setenv(t, usEast)
	isolateMore(t)
	return s
}

// isolateMore clears what awsfake.IsolateEnv leaves: a CA bundle of the
// machine's (parsed by every config load, it costs milliseconds).
func isolateMore(t testing.TB) {
	t.Setenv("AWS_CA_BUNDLE", "")
}

func newProvider(t testing.TB, opts awssm.Options) *awssm.Provider {
	t.Helper()
	p, err := awssm.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func parse(t testing.TB, refs ...string) []inject.Request {
	t.Helper()
	var reqs []inject.Request
	for i, s := range refs {
		r, err := inject.Stores{awssm.Store}.Parse(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		reqs = append(reqs, inject.Request{Var: fmt.Sprintf("V%d", i), Ref: r})
	}
	return reqs
}

// resolve resolves refs through the core's resolver, with its retries, under
// timeout, and checks that no error holds a secret value.
func resolveIn(t testing.TB, timeout time.Duration, p inject.Provider, refs ...string) ([]inject.Result, []error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r := &inject.Resolver{Providers: map[string]inject.Provider{awssm.Scheme: p},
		Backoff: inject.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}}
	res, errs := r.Resolve(ctx, parse(t, refs...))
	noCanary(t, errs)
	return res, errs
}

func resolve(t testing.TB, p inject.Provider, refs ...string) ([]inject.Result, []error) {
	t.Helper()
	return resolveIn(t, 20*time.Second, p, refs...)
}

func value(r inject.Result) string { return string(r.Value.Reveal()) }

// noCanary fails if an error's text holds a secret value; it names the
// error's position, never its text.
func noCanary(t testing.TB, errs []error) {
	t.Helper()
	for i, err := range errs {
		if strings.Contains(err.Error(), canaryPrefix) {
			t.Errorf("error #%d holds a secret value", i)
		}
	}
}

// wantValues fails unless every result holds the value want[i]; it prints
// lengths, never values.
func wantValues(t testing.TB, res []inject.Result, errs []error, want ...string) {
	t.Helper()
	if len(errs) > 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
	for i, w := range want {
		if got := value(res[i]); got != w {
			t.Errorf("%s: wrong value (%d bytes, want %d)", res[i].Ref, len(got), len(w))
		}
	}
}

func TestNamesARNsAndRegions(t *testing.T) {
	s := setup(t)
	us := s.AddSecret(usEast, "n8n/api-key", canary("us"))
	eu := s.AddSecret(euWest, "n8n/api-key", canary("eu"))
	s.AddSecret(euWest, "n8n/eu-only", canary("eu-only"))
	p := newProvider(t, awssm.Options{})

	res, errs := resolve(t, p,
		"awssm://n8n/api-key",                  // default region us-east-1
		"awssm://n8n/api-key?region=eu-west-1", // the option
		"awssm://"+eu.ARN,                      // the ARN's region wins over the default
		"awssm://"+us.ARN,
		"awssm://"+us.PartialARN(),
		"awssm://"+eu.PartialARN(),
		"awssm://n8n/eu-only?region=eu-west-1",
	)
	wantValues(t, res, errs, canary("us"), canary("eu"), canary("eu"), canary("us"), canary("us"), canary("eu"), canary("eu-only"))

	// One batch call per region, each signed for its region.
	regions := map[string][]string{}
	for _, c := range s.Log() {
		regions[c.Region] = append(regions[c.Region], c.Op)
	}
	if !slices.Equal(regions[usEast], []string{awsfake.OpBatchGetSecretValue}) ||
		!slices.Equal(regions[euWest], []string{awsfake.OpBatchGetSecretValue}) || len(regions) != 2 {
		t.Errorf("calls by region = %v, want one BatchGetSecretValue in each of two", regions)
	}

	// The same name in the other region is another secret.
	res, errs = resolve(t, p, "awssm://n8n/eu-only")
	if len(errs) != 1 || res[0].Err.Code != inject.CodeSecretNotFound {
		t.Errorf("eu-only read in us-east-1: %v, want SECRET_NOT_FOUND", errs)
	}
}

// TestServiceManagedNames: the secrets RDS creates for a database's master
// user are named rds!db-<uuid> (rds!cluster-<uuid> for Aurora); CreateSecret
// refuses a ! but the service's own secrets carry it, and n8n's database
// password is often one of them. Read by name and by ARN.
func TestServiceManagedNames(t *testing.T) {
	s := setup(t)
	db := s.AddSecret(usEast, "rds!db-3f0c1a2b-4d5e-4f60-8a9b-0c1d2e3f4a5b", `{"username":"n8n","password":"`+canary("rds")+`"}`)
	cl := s.AddSecret(usEast, "rds!cluster-0a1b2c3d-1111-4222-8333-444455556666", canary("aurora"))
	p := newProvider(t, awssm.Options{})
	res, errs := resolve(t, p,
		"awssm://rds!db-3f0c1a2b-4d5e-4f60-8a9b-0c1d2e3f4a5b#password",
		"awssm://"+db.ARN+"#password",
		"awssm://"+cl.ARN,
	)
	wantValues(t, res, errs, canary("rds"), canary("rds"), canary("aurora"))
}

func TestValues(t *testing.T) {
	s := setup(t)
	str := s.AddSecret(usEast, "plain", canary("plain"))
	doc := `{"username":"n8n","password":"` + canary("pw") + `","port":5432,"hosts":["a","` + canary("host") + `"]}`
	s.AddSecret(usEast, "db", doc)
	bin := []byte{0xff, 0xfe, 'b', 'i', 'n', 0x01, 0x80}
	s.AddBinarySecret(usEast, "binary", bin)
	s.AddSecret(usEast, "empty", "")
	p := newProvider(t, awssm.Options{})

	refs := []string{"awssm://plain", "awssm://db#password", "awssm://db#/hosts/1", "awssm://db#port", "awssm://db", "awssm://binary", "awssm://empty"}
	want := []string{canary("plain"), canary("pw"), canary("host"), "5432", doc, string(bin), ""}
	// Through FetchBatch (several refs) and Fetch (one at a time).
	res, errs := resolve(t, p, refs...)
	wantValues(t, res, errs, want...)
	if res[0].Version != str.VersionID {
		t.Errorf("version %q, want the VersionId %q", res[0].Version, str.VersionID)
	}
	for i, ref := range refs {
		res, errs := resolve(t, p, ref)
		wantValues(t, res, errs, want[i])
	}

	// A selector on a value that is not JSON is bad data, named without the value.
	res, errs = resolve(t, p, "awssm://plain#key")
	if len(errs) != 1 || res[0].Err.Code != inject.CodeBadData {
		t.Errorf("selector on plain text: %v, want BAD_DATA", errs)
	}
	res, errs = resolve(t, p, "awssm://db#nope")
	if len(errs) != 1 || res[0].Err.Code != inject.CodeKeyNotFound {
		t.Errorf("missing key: %v, want KEY_NOT_FOUND", errs)
	}
}

func TestStagesAndVersions(t *testing.T) {
	s := setup(t)
	first := s.AddSecret(usEast, "rotating", `{"password":"`+canary("v1")+`"}`)
	second := s.PutVersion(usEast, "rotating", awsfake.StringValue(`{"password":"`+canary("v2")+`"}`))
	pending := s.PutVersion(usEast, "rotating", awsfake.StringValue(`{"password":"`+canary("v3")+`"}`), "AWSPENDING")
	s.AddSecret(usEast, "other", canary("other"))
	p := newProvider(t, awssm.Options{})

	res, errs := resolve(t, p,
		"awssm://rotating#password",
		"awssm://rotating?version-stage=AWSPREVIOUS#password",
		"awssm://rotating?version-stage=AWSCURRENT#password",
		"awssm://rotating?version-stage=AWSPENDING#password",
		"awssm://rotating?version-id="+first.VersionID+"#password",
		"awssm://rotating?version-id="+pending+"&version-stage=AWSPENDING#password",
		"awssm://other",
	)
	wantValues(t, res, errs, canary("v2"), canary("v1"), canary("v2"), canary("v3"), canary("v1"), canary("v3"), canary("other"))
	if res[0].Version != second || res[1].Version != first.VersionID || res[3].Version != pending {
		t.Errorf("versions %q %q %q, want %q %q %q", res[0].Version, res[1].Version, res[3].Version, second, first.VersionID, pending)
	}
	// Pinned refs go through GetSecretValue, one each; the two others in one batch.
	if g, b := s.Calls(awsfake.OpGetSecretValue), s.Calls(awsfake.OpBatchGetSecretValue); g != 5 || b != 1 {
		t.Errorf("GetSecretValue %d, BatchGetSecretValue %d; want 5 and 1", g, b)
	}

	tests := []struct {
		name, ref string
		code      inject.Code
		msg       string
	}{
		{"no such stage", "awssm://rotating?version-stage=NOPE", inject.CodeSecretNotFound, "staging label: NOPE"},
		{"no such version", "awssm://rotating?version-id=00000000-0000-0000-0000-000000000000", inject.CodeSecretNotFound, "VersionId"},
		{"stage not on version", "awssm://rotating?version-id=" + first.VersionID + "&version-stage=AWSCURRENT", inject.CodeSecretNotFound, "InvalidRequestException"},
		{"version id too short", "awssm://rotating?version-id=abc", inject.CodeBadReference, "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, errs := resolve(t, p, tt.ref)
			if len(errs) != 1 || res[0].Err.Code != tt.code || !strings.Contains(errs[0].Error(), tt.msg) {
				t.Fatalf("errs = %v, want %s mentioning %q", errs, tt.code, tt.msg)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	s := setup(t)
	s.AddSecret(usEast, "ok", canary("ok"))
	s.AddSecret(usEast, "denied", canary("denied"))
	s.DenySecret(usEast, "denied")
	s.AddSecret(usEast, "kms", canary("kms"))
	s.FailDecryption(usEast, "kms")
	s.AddSecret(usEast, "deleted", canary("deleted"))
	s.DeleteSecret(usEast, "deleted")
	p := newProvider(t, awssm.Options{})

	tests := []struct {
		name, ref string
		code      inject.Code
		exit      int
		msg       string
	}{
		{"not found", "awssm://nope", inject.CodeSecretNotFound, 65, "awssm: get nope: secret not found (us-east-1: ResourceNotFoundException: "},
		{"access denied", "awssm://denied", inject.CodePermissionDenied, 77, "awssm: get denied: permission denied (us-east-1: AccessDeniedException: "},
		{"KMS", "awssm://kms", inject.CodePermissionDenied, 77, "awssm: get kms: permission denied: KMS could not decrypt the secret: check kms:Decrypt on its key (us-east-1: DecryptionFailure: "},
		{"marked for deletion", "awssm://deleted", inject.CodeSecretNotFound, 65, "marked for deletion"},
		{"optional and missing", "awssm://nope?optional=true", inject.Code{}, 0, ""},
	}
	check := func(t *testing.T, res inject.Result, code inject.Code, exit int, msg string) {
		t.Helper()
		if code.IsZero() {
			if res.Err != nil || !res.Removed {
				t.Fatalf("want the variable removed, got %v", res.Err)
			}
			return
		}
		if res.Err == nil || res.Err.Code != code || code.Exit() != exit || !strings.Contains(res.Err.Error(), msg) {
			t.Fatalf("err = %v, want %s (exit %d) with %q", res.Err, code, exit, msg)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := resolve(t, p, tt.ref)
			check(t, res[0], tt.code, tt.exit, tt.msg)
		})
	}
	// The same, all in one batch: per-secret errors of BatchGetSecretValue
	// map to per-ref errors, and the good secret is read.
	t.Run("batch", func(t *testing.T) {
		s.Reset()
		refs := []string{"awssm://ok"}
		for _, tt := range tests {
			refs = append(refs, tt.ref)
		}
		res, _ := resolve(t, p, refs...)
		if value(res[0]) != canary("ok") {
			t.Error("the good secret of the batch was not read")
		}
		for i, tt := range tests {
			check(t, res[i+1], tt.code, tt.exit, tt.msg)
		}
		if b, g := s.Calls(awsfake.OpBatchGetSecretValue), s.Calls(awsfake.OpGetSecretValue); b != 1 || g != 0 {
			t.Errorf("BatchGetSecretValue %d, GetSecretValue %d; want 1 and 0", b, g)
		}
	})
}

func TestAuthErrors(t *testing.T) {
	s := setup(t)
	s.AddSecret(usEast, "a", canary("a"))
	s.AddSecret(usEast, "b", canary("b"))

	t.Run("unknown key", func(t *testing.T) {
		p := newProvider(t, awssm.Options{Getenv: env(map[string]string{
			"AWS_REGION": usEast, "AWS_ENDPOINT_URL_SECRETS_MANAGER": s.URL,
			"AWS_ACCESS_KEY_ID": "AKIAUNKNOWN000000000", "AWS_SECRET_ACCESS_KEY": "nope"})})
		for _, refs := range [][]string{{"awssm://a"}, {"awssm://a", "awssm://b"}} {
			res, errs := resolve(t, p, refs...)
			if len(errs) != len(refs) || res[0].Err.Code != inject.CodeAuthFailed || !strings.Contains(errs[0].Error(), "UnrecognizedClientException") {
				t.Errorf("%d refs: %v, want AUTH_FAILED", len(refs), errs)
			}
		}
	})
	t.Run("wrong secret key", func(t *testing.T) {
		p := newProvider(t, awssm.Options{Getenv: env(map[string]string{
			"AWS_REGION": usEast, "AWS_ENDPOINT_URL_SECRETS_MANAGER": s.URL,
			"AWS_ACCESS_KEY_ID": awsfake.DefaultAccessKeyID, "AWS_SECRET_ACCESS_KEY": "wrong"})})
		res, errs := resolve(t, p, "awssm://a")
		if len(errs) != 1 || res[0].Err.Code != inject.CodeAuthFailed || !strings.Contains(errs[0].Error(), "InvalidSignatureException") {
			t.Errorf("%v, want AUTH_FAILED", errs)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		c := awsfake.Credential{AccessKeyID: "ASIAEXPIRED000000000", SecretAccessKey: "s", SessionToken: "t", Expires: time.Now().Add(-time.Hour)}
		s.AddCredential(c)
		p := newProvider(t, awssm.Options{Getenv: env(map[string]string{
			"AWS_REGION": usEast, "AWS_ENDPOINT_URL_SECRETS_MANAGER": s.URL,
			"AWS_ACCESS_KEY_ID": c.AccessKeyID, "AWS_SECRET_ACCESS_KEY": c.SecretAccessKey, "AWS_SESSION_TOKEN": c.SessionToken})})
		res, errs := resolve(t, p, "awssm://a")
		if len(errs) != 1 || res[0].Err.Code != inject.CodeAuthFailed || !strings.Contains(errs[0].Error(), "ExpiredTokenException") {
			t.Errorf("%v, want AUTH_FAILED", errs)
		}
	})
	t.Run("no credentials anywhere", func(t *testing.T) {
		awsfake.IsolateEnv(t)
		t.Setenv("AWS_REGION", usEast)
		t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", s.URL)
		s.Reset()
		p := newProvider(t, awssm.Options{})
		res, errs := resolve(t, p, "awssm://a", "awssm://b")
		if len(errs) != 2 || res[0].Err.Code != inject.CodeAuthFailed || !strings.Contains(errs[0].Error(), "could not get AWS credentials") {
			t.Errorf("%v, want AUTH_FAILED", errs)
		}
		if res[0].Attempts != 1 {
			t.Errorf("%d attempts: missing credentials must fail at once", res[0].Attempts)
		}
		if s.TotalCalls() != 0 {
			t.Errorf("%d calls reached Secrets Manager without credentials", s.TotalCalls())
		}
	})
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfiguration(t *testing.T) {
	s := awsfake.New(t)
	s.AddSecret(euWest, "x", canary("x"))
	c := s.Credential()

	t.Run("Getenv", func(t *testing.T) {
		awsfake.IsolateEnv(t) // the process environment holds nothing
		p := newProvider(t, awssm.Options{Getenv: env(map[string]string{
			"AWS_DEFAULT_REGION": euWest, "AWS_ENDPOINT_URL": s.URL,
			"AWS_ACCESS_KEY_ID": c.AccessKeyID, "AWS_SECRET_ACCESS_KEY": c.SecretAccessKey})})
		res, errs := resolve(t, p, "awssm://x")
		wantValues(t, res, errs, canary("x"))
	})
	t.Run("no region", func(t *testing.T) {
		s.Setenv(t, usEast)
		t.Setenv("AWS_REGION", "")
		s.Reset()
		p := newProvider(t, awssm.Options{})
		res, errs := resolve(t, p, "awssm://x", "awssm://y")
		if len(errs) != 2 || res[0].Err.Code != inject.CodeNotConfigured || !strings.Contains(errs[0].Error(), "AWS_REGION") {
			t.Errorf("%v, want PROVIDER_NOT_CONFIGURED naming AWS_REGION", errs)
		}
		// A region on the reference, or in its ARN, is enough.
		res, errs = resolve(t, p, "awssm://x?region=eu-west-1")
		wantValues(t, res, errs, canary("x"))
	})
	t.Run("plain http", func(t *testing.T) {
		for _, tt := range []struct {
			endpoint  string
			allowHTTP bool
			ok        bool
		}{
			{"http://secrets.example.com", false, false},
			{"http://10.0.0.5:4566", false, false},
			{"http://secrets.example.com", true, true},
			{"https://secrets.example.com", false, true},
			{"http://localhost:4566", false, true},
			{"http://[::1]:4566", false, true},
			{"ftp://x", true, false},
		} {
			awsfake.IsolateEnv(t)
			t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", tt.endpoint)
			_, err := awssm.New(awssm.Options{AllowHTTP: tt.allowHTTP})
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, inject.ErrNotConfigured)) {
				t.Errorf("%s (allow %v): %v", tt.endpoint, tt.allowHTTP, err)
			}
			if err != nil && strings.HasPrefix(tt.endpoint, "http:") && !strings.Contains(err.Error(), "N8N_SECRETS_ALLOW_HTTP=true") {
				t.Errorf("%s: the message must name N8N_SECRETS_ALLOW_HTTP: %v", tt.endpoint, err)
			}
		}
		// The rule holds wherever the endpoint comes from: the shared config.
		awsfake.IsolateEnv(t)
		cfg := t.TempDir() + "/config"
		writeFile(t, cfg, "[default]\nendpoint_url = http://secrets.example.com\n")
		t.Setenv("AWS_CONFIG_FILE", cfg)
		if _, err := awssm.New(awssm.Options{}); err == nil || !strings.Contains(err.Error(), "secrets.example.com") {
			t.Errorf("endpoint_url in the shared config: %v", err)
		}
	})
	t.Run("bad profile", func(t *testing.T) {
		awsfake.IsolateEnv(t)
		t.Setenv("AWS_PROFILE", "nope")
		if _, err := awssm.New(awssm.Options{}); !errors.Is(err, inject.ErrNotConfigured) {
			t.Errorf("unknown profile: %v", err)
		}
	})
}

func TestNewDoesNoIO(t *testing.T) {
	s := awsfake.New(t)
	cc := s.NewContainerCredentials(t)
	cc.Setenv(t)
	t.Setenv("AWS_REGION", usEast)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", s.URL)
	if _, err := awssm.New(awssm.Options{}); err != nil {
		t.Fatal(err)
	}
	if s.TotalCalls() != 0 || cc.Calls() != 0 {
		t.Errorf("New made %d Secrets Manager and %d credential calls", s.TotalCalls(), cc.Calls())
	}
}

func TestContainerCredentials(t *testing.T) {
	s := awsfake.New(t)
	s.AddSecret(usEast, "a", canary("a"))
	s.AddSecret(usEast, "b", canary("b"))
	s.AddSecret(euWest, "c", canary("c"))
	cc := s.NewContainerCredentials(t)
	cc.Setenv(t) // no static keys anywhere
	t.Setenv("AWS_REGION", usEast)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", s.URL)
	p := newProvider(t, awssm.Options{})

	res, errs := resolve(t, p, "awssm://a", "awssm://b", "awssm://c?region=eu-west-1")
	wantValues(t, res, errs, canary("a"), canary("b"), canary("c"))
	res, errs = resolve(t, p, "awssm://a")
	wantValues(t, res, errs, canary("a"))
	// Credentials are fetched once and shared by both regions' clients.
	issued := cc.Issued()
	if cc.Calls() != 1 || len(issued) != 1 {
		t.Fatalf("credential endpoint called %d times, want 1", cc.Calls())
	}
	for _, c := range s.Log() {
		if c.AccessKeyID != issued[0].AccessKeyID || c.Status != 200 {
			t.Errorf("%s in %s signed with %q (status %d), want the container's key", c.Op, c.Region, c.AccessKeyID, c.Status)
		}
	}

	t.Run("token refused", func(t *testing.T) {
		t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong")
		p := newProvider(t, awssm.Options{})
		res, errs := resolve(t, p, "awssm://a", "awssm://b")
		if len(errs) != 2 || res[0].Err.Code != inject.CodeAuthFailed {
			t.Errorf("%v, want AUTH_FAILED", errs)
		}
	})
	t.Run("endpoint failing, then recovering", func(t *testing.T) {
		// The SDK's credential client makes 3 attempts; the resolver retries
		// the 5xx it then reports, and the fourth request succeeds.
		cc.FailNext(3)
		before := cc.Calls()
		p := newProvider(t, awssm.Options{})
		res, errs := resolve(t, p, "awssm://a", "awssm://b")
		wantValues(t, res, errs, canary("a"), canary("b"))
		if res[0].Attempts != 2 || cc.Calls()-before != 4 {
			t.Errorf("%d attempts, %d credential calls; want 2 and 4", res[0].Attempts, cc.Calls()-before)
		}
	})
	t.Run("endpoint down", func(t *testing.T) {
		t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://"+closedAddr(t)+"/creds")
		p := newProvider(t, awssm.Options{})
		res, errs := resolve(t, p, "awssm://a")
		if len(errs) != 1 || res[0].Err.Code != inject.CodeAuthFailed {
			t.Fatalf("%v, want AUTH_FAILED", errs)
		}
		// awssm names the step from the chain's error alone (awsssm names
		// the provider the chain chose: internal/awscfg.ChainError).
		const want = "could not get AWS credentials: the SDK's credential chain (no credentials found: environment keys, AWS_PROFILE, web identity, container credentials, IMDS) failed (the SDK's message is not shown: it may hold credentials)"
		if !strings.Contains(errs[0].Error(), want) || strings.Contains(errs[0].Error(), "connection refused") {
			t.Errorf("%v, want the step %q", errs[0], want)
		}
	})
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestThrottledThenRecovered(t *testing.T) {
	s := setup(t)
	for i := range 5 {
		s.AddSecret(usEast, fmt.Sprint("s", i), canary(fmt.Sprint(i)))
	}
	p := newProvider(t, awssm.Options{})
	for _, tt := range []struct {
		name  string
		fault func()
		refs  []string
	}{
		{"throttled, one", func() { s.ThrottleNext(2) }, []string{"awssm://s0"}},
		{"throttled, batch", func() { s.ThrottleNext(2) }, []string{"awssm://s0", "awssm://s1", "awssm://s2"}},
		{"5xx, one", func() { s.FailNext(2) }, []string{"awssm://s3"}},
		{"5xx, batch", func() { s.FailNext(2) }, []string{"awssm://s3", "awssm://s4"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s.Reset()
			tt.fault()
			res, errs := resolve(t, p, tt.refs...)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if res[0].Attempts != 3 || s.TotalCalls() != 3 {
				t.Errorf("%d attempts, %d calls; want 3 and 3 (two faults, then success, no SDK retries)", res[0].Attempts, s.TotalCalls())
			}
			if !strings.HasPrefix(value(res[0]), canaryPrefix) {
				t.Error("wrong value")
			}
		})
	}
}

func TestDownPastDeadline(t *testing.T) {
	s := setup(t)
	s.AddSecret(usEast, "a", canary("a"))
	s.AddSecret(usEast, "b", canary("b"))
	p := newProvider(t, awssm.Options{})

	s.FailNext(1000)
	for _, refs := range [][]string{{"awssm://a"}, {"awssm://a", "awssm://b"}} {
		res, errs := resolveIn(t, 400*time.Millisecond, p, refs...)
		if len(errs) != len(refs) || res[0].Err.Code != inject.CodeProviderUnavailable || inject.ExitCodeOf(errs) != 69 {
			t.Fatalf("%v, want PROVIDER_UNAVAILABLE and exit 69", errs)
		}
		if res[0].Attempts < 2 || s.Calls(awsfake.OpGetSecretValue)+s.Calls(awsfake.OpBatchGetSecretValue) < 2 {
			t.Errorf("%d attempts: want retries", res[0].Attempts)
		}
	}
	s.ClearFaults()

	t.Run("nothing listening", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://"+closedAddr(t))
		p := newProvider(t, awssm.Options{})
		res, errs := resolveIn(t, 400*time.Millisecond, p, "awssm://a", "awssm://b")
		if len(errs) != 2 || res[0].Err.Code != inject.CodeProviderUnavailable || !strings.Contains(errs[0].Error(), "connection refused") {
			t.Fatalf("%v, want PROVIDER_UNAVAILABLE (connection refused)", errs)
		}
	})
	t.Run("slower than the deadline", func(t *testing.T) {
		s.SetDelay(5 * time.Second)
		defer s.SetDelay(0)
		res, errs := resolveIn(t, 300*time.Millisecond, p, "awssm://a")
		if len(errs) != 1 || res[0].Err.Code != inject.CodeProviderUnavailable {
			t.Fatalf("%v, want PROVIDER_UNAVAILABLE", errs)
		}
	})
}

// addMany adds n secrets and returns references to them, naming them in
// turn by name, full ARN and partial ARN, and their values.
func addMany(s *awsfake.Server, n int) (refs, values []string) {
	for i := range n {
		v := canary(fmt.Sprint("many-", i))
		sr := s.AddSecret(usEast, fmt.Sprintf("n8n/many/%02d", i), v)
		id := []string{sr.Name, sr.ARN, sr.PartialARN()}[i%3]
		refs = append(refs, "awssm://"+id)
		values = append(values, v)
	}
	return refs, values
}

func TestBatching(t *testing.T) {
	s := setup(t)
	refs, values := addMany(s, 45)
	p := newProvider(t, awssm.Options{})
	res, errs := resolve(t, p, refs...)
	wantValues(t, res, errs, values...)
	if b, g := s.Calls(awsfake.OpBatchGetSecretValue), s.Calls(awsfake.OpGetSecretValue); b != 3 || g != 0 {
		t.Errorf("BatchGetSecretValue %d, GetSecretValue %d; want 3 and 0", b, g)
	}
	for _, c := range s.Log() {
		if len(c.SecretIDs) > awssm.MaxBatch {
			t.Errorf("a batch call named %d ids", len(c.SecretIDs))
		}
	}
	if got := len(s.RequestedSecretIDs()); got != 45 {
		t.Errorf("%d ids requested, want 45", got)
	}

	// Variables sharing a secret share its fetch; a pinned version goes
	// through GetSecretValue.
	s.Reset()
	sr := s.AddSecret(usEast, "n8n/shared", `{"a":"`+canary("a")+`","b":"`+canary("b")+`"}`)
	res, errs = resolve(t, p, "awssm://n8n/shared#a", "awssm://n8n/shared#b", "awssm://"+sr.ARN+"#a", refs[0], refs[1],
		"awssm://n8n/shared?version-stage=AWSCURRENT#b", "awssm://n8n/shared?version-id="+sr.VersionID+"#a")
	wantValues(t, res, errs, canary("a"), canary("b"), canary("a"), values[0], values[1], canary("b"), canary("a"))
	if b, g := s.Calls(awsfake.OpBatchGetSecretValue), s.Calls(awsfake.OpGetSecretValue); b != 1 || g != 2 {
		t.Errorf("BatchGetSecretValue %d, GetSecretValue %d; want 1 and 2", b, g)
	}
	for _, c := range s.Log() {
		if c.Op == awsfake.OpBatchGetSecretValue && len(c.SecretIDs) != 4 {
			t.Errorf("the batch named %d ids, want 4 (name, ARN and two others)", len(c.SecretIDs))
		}
	}
}

// TestBatchCallErrors covers errors of a whole BatchGetSecretValue call.
func TestBatchCallErrors(t *testing.T) {
	s := setup(t)
	refs, values := addMany(s, 3)
	p := newProvider(t, awssm.Options{})

	// An error about a secret, failing the whole call, cannot be pinned on
	// one: each secret is read on its own.
	s.InjectError(1, 400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	res, errs := resolve(t, p, refs...)
	wantValues(t, res, errs, values...)
	if b, g := s.Calls(awsfake.OpBatchGetSecretValue), s.Calls(awsfake.OpGetSecretValue); b != 1 || g != 3 {
		t.Errorf("BatchGetSecretValue %d, GetSecretValue %d; want 1 and 3", b, g)
	}
	// That is not a denial: the next batch is a batch again.
	s.Reset()
	res, errs = resolve(t, p, refs...)
	wantValues(t, res, errs, values...)
	if b, g := s.Calls(awsfake.OpBatchGetSecretValue), s.Calls(awsfake.OpGetSecretValue); b != 1 || g != 0 {
		t.Errorf("BatchGetSecretValue %d, GetSecretValue %d; want 1 and 0", b, g)
	}
	// An error of the call itself applies to every secret in it.
	s.Reset()
	s.InjectError(1, 400, "SomethingNewException", "a permanent fault")
	res, errs = resolve(t, p, refs...)
	if len(errs) != 3 || res[0].Err.Code != inject.CodeProviderError || !strings.Contains(errs[2].Error(), "SomethingNewException") {
		t.Errorf("%v, want PROVIDER_ERROR for each", errs)
	}
}

// TestBatchPages follows NextToken. awsfake answers a SecretIdList in one
// page, as AWS does for up to 20 ids; this endpoint splits it in two.
func TestBatchPages(t *testing.T) {
	var mu sync.Mutex
	var calls []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		if r.Header.Get("X-Amz-Target") != "secretsmanager.BatchGetSecretValue" || json.NewDecoder(r.Body).Decode(&in) != nil {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		calls = append(calls, in)
		mu.Unlock()
		entry := func(name string) map[string]any {
			return map[string]any{"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + name + "-AbCdEf",
				"Name": name, "SecretString": canary(name), "VersionId": "v-" + name}
		}
		out := map[string]any{"SecretValues": []any{entry("a")}, "Errors": []any{}, "NextToken": "page-2"}
		if in["NextToken"] == "page-2" {
			out = map[string]any{"SecretValues": []any{entry("b")},
				"Errors": []any{map[string]any{"SecretId": "c", "ErrorCode": "ResourceNotFoundException", "Message": "not here"}}}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)
	}))
	defer srv.Close()
	awsfake.IsolateEnv(t)
	isolateMore(t)
	p := newProvider(t, awssm.Options{Getenv: env(map[string]string{"AWS_REGION": usEast, "AWS_ENDPOINT_URL_SECRETS_MANAGER": srv.URL,
		"AWS_ACCESS_KEY_ID": "AKIAPAGES", "AWS_SECRET_ACCESS_KEY": "x"})})
	res, errs := resolve(t, p, "awssm://a", "awssm://b", "awssm://c?optional=true")
	wantValues(t, res, errs, canary("a"), canary("b"))
	if !res[2].Removed || res[1].Version != "v-b" {
		t.Errorf("c: removed %v; b: version %q", res[2].Removed, res[1].Version)
	}
	if len(calls) != 2 || calls[1]["NextToken"] != "page-2" || fmt.Sprint(calls[1]["SecretIdList"]) != "[a b c]" {
		t.Errorf("calls = %v, want two, the second with NextToken and the same ids", calls)
	}
}

// logBuffer is a slog handler's output, safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestBatchDeniedFallsBack(t *testing.T) {
	s := setup(t)
	refs, values := addMany(s, 45)
	s.DenyOperation(awsfake.OpBatchGetSecretValue)
	var logs logBuffer
	p := newProvider(t, awssm.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})

	// The first FetchBatch sends its three batch calls at once, as it must
	// when batches are allowed; all three are denied, and every secret is
	// then read with GetSecretValue.
	res, errs := resolve(t, p, refs...)
	wantValues(t, res, errs, values...)
	if b, g := s.Calls(awsfake.OpBatchGetSecretValue), s.Calls(awsfake.OpGetSecretValue); b != 3 || g != 45 {
		t.Errorf("BatchGetSecretValue %d, GetSecretValue %d; want 3 (denied) and 45", b, g)
	}
	// The denial is remembered: no batch call again.
	s.Reset()
	res, errs = resolve(t, p, refs...)
	wantValues(t, res, errs, values...)
	if b, g := s.Calls(awsfake.OpBatchGetSecretValue), s.Calls(awsfake.OpGetSecretValue); b != 0 || g != 45 {
		t.Errorf("second time: BatchGetSecretValue %d, GetSecretValue %d; want 0 and 45", b, g)
	}
	if n := strings.Count(logs.String(), "BatchGetSecretValue refused"); n != 1 || !strings.Contains(logs.String(), `"level":"INFO"`) {
		t.Errorf("the denial was logged %d times, want once at info:\n%s", n, logs.String())
	}

	// With up to 20 secrets (one batch call), a fresh provider makes
	// exactly one denied call.
	s.Reset()
	p = newProvider(t, awssm.Options{})
	res, errs = resolve(t, p, refs[:15]...)
	wantValues(t, res, errs, values[:15]...)
	if b, g := s.Calls(awsfake.OpBatchGetSecretValue), s.Calls(awsfake.OpGetSecretValue); b != 1 || g != 15 {
		t.Errorf("15 secrets: BatchGetSecretValue %d, GetSecretValue %d; want 1 and 15", b, g)
	}
}

// TestConcurrentUse reads from many goroutines across regions at once; run
// with -race, it checks that clients are created once, safely.
func TestConcurrentUse(t *testing.T) {
	s := setup(t)
	regions := []string{usEast, euWest, "ap-southeast-2"}
	for _, r := range regions {
		s.AddSecret(r, "x", canary(r))
	}
	p := newProvider(t, awssm.Options{})
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			r := regions[i%3]
			ref, _ := inject.Stores{awssm.Store}.Parse("awssm://x?region=" + r)
			var got string
			if i%2 == 0 {
				pl, err := p.Fetch(context.Background(), ref)
				if err != nil {
					t.Error(err)
					return
				}
				got = string(pl.Value.Reveal())
			} else {
				br := p.FetchBatch(context.Background(), []inject.Reference{ref, ref})
				if br[0].Err != nil {
					t.Error(br[0].Err)
					return
				}
				got = string(br[1].Payload.Value.Reveal())
			}
			if got != canary(r) {
				t.Errorf("%s: wrong value", r)
			}
		})
	}
	wg.Wait()
}

// TestNoValueInErrors plants canaries in every secret and checks every
// error and log line of every failure mode for them.
func TestNoValueInErrors(t *testing.T) {
	s := setup(t)
	var logs logBuffer
	p := newProvider(t, awssm.Options{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	s.AddSecret(usEast, "json", `{"a":"`+canary("json")+`"}`)
	s.AddSecret(usEast, "text", canary("text"))
	s.AddSecret(usEast, "denied", canary("denied"))
	s.DenySecret(usEast, "denied")
	s.AddSecret(usEast, "kms", canary("kms"))
	s.FailDecryption(usEast, "kms")
	s.AddSecret(usEast, "nul", "a\x00"+canary("nul"))
	refs := []string{"awssm://json#nope", "awssm://json#/a/b", "awssm://text#k", "awssm://denied", "awssm://kms",
		"awssm://nul", "awssm://json?version-stage=NOPE", "awssm://missing"}
	var all []error
	for _, r := range refs {
		_, errs := resolve(t, p, r)
		all = append(all, errs...)
	}
	_, errs := resolve(t, p, refs...)
	all = append(all, errs...)
	s.DenyOperation(awsfake.OpBatchGetSecretValue)
	_, errs = resolve(t, newProvider(t, awssm.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}), refs...)
	all = append(all, errs...)
	if len(all) != 3*len(refs) {
		t.Errorf("%d errors, want %d", len(all), 3*len(refs))
	}
	noCanary(t, all)
	if strings.Contains(logs.String(), canaryPrefix) {
		t.Error("a log line holds a secret value")
	}
}

func writeFile(t testing.TB, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
