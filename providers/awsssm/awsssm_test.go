package awsssm_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/awscfg"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/syncbuf"
	"github.com/n8n-secrets/n8n-secrets/providers/awsssm"
)

func TestResolve(t *testing.T) {
	s := setup(t)
	ps := s.ParameterStore()
	ps.Put(usEast, "/n8n/prod/host", awsfake.String, canary("host"))
	ps.Put(usEast, "/n8n/prod/hosts", awsfake.StringList, canary("a")+","+canary("b"))
	ps.Put(usEast, "/n8n/prod/db", awsfake.SecureString, `{"user":"n8n","password":"`+canary("pw1")+`"}`)
	ps.Put(usEast, "/n8n/prod/db", awsfake.SecureString, `{"user":"n8n","password":"`+canary("pw2")+`"}`)
	ps.Put(usEast, "/n8n/prod/db", awsfake.SecureString, `{"user":"n8n","password":"`+canary("pw3")+`"}`, awsfake.WithKeyID("alias/n8n"))
	ps.Label(usEast, "/n8n/prod/db", 2, "stable")
	ps.Put(usEast, "n8n-key", awsfake.SecureString, canary("key"))
	ps.Put(euWest, "/n8n/eu", awsfake.String, canary("eu"))
	shared := ps.Put(usEast, "/central/n8n", awsfake.SecureString, canary("shared"), awsfake.WithOwner("210987654321"), awsfake.WithTier("Advanced"))
	sr := s.AddSecret(usEast, "prod/n8n/smtp", `{"pass":"`+canary("smtp1")+`"}`)
	v2 := s.PutVersion(usEast, "prod/n8n/smtp", awsfake.StringValue(`{"pass":"`+canary("smtp2")+`"}`))
	p := newProvider(t, awsssm.Config{})

	res, errs := resolve(t, p,
		"awsssm:///n8n/prod/host",
		"awsssm://n8n/prod/hosts",
		"awsssm:///n8n/prod/db#password",
		"awsssm:///n8n/prod/db?version=1#password",
		"awsssm:///n8n/prod/db?label=stable#/password",
		"awsssm://n8n-key",
		"awsssm:///n8n/eu?region=eu-west-1",
		"awsssm://"+shared.ARN,
		"awsssm:///aws/reference/secretsmanager/prod/n8n/smtp#pass",
		"awsssm:///aws/reference/secretsmanager/prod/n8n/smtp?label=AWSPREVIOUS#pass",
		"awsssm:///aws/reference/secretsmanager/prod/n8n/smtp?version="+sr.VersionID+"#pass",
	)
	wantValues(t, res, errs, canary("host"), canary("a")+","+canary("b"), canary("pw3"), canary("pw1"), canary("pw2"),
		canary("key"), canary("eu"), canary("shared"), canary("smtp2"), canary("smtp1"), canary("smtp1"))
	// The version each reports: the parameter's; the secret's VersionId.
	for i, want := range []string{"1", "1", "3", "1", "2", "1", "1", "1", v2, sr.VersionID, sr.VersionID} {
		if res[i].Version != want {
			t.Errorf("%s: version %q, want %q", res[i].Ref.Path(), res[i].Version, want)
		}
	}
	// Ten distinct names in us-east-1 (the shared ARN's region), one in
	// eu-west-1: two calls.
	if n := s.Calls(awsfake.OpGetParameters); n != 2 {
		t.Errorf("%d GetParameters calls, want 2", n)
	}
	if p.Requests() != 2 {
		t.Errorf("Requests() = %d, want 2", p.Requests())
	}
	if ps.Decryptions() != 5 {
		t.Errorf("%d KMS decryptions, want 5 (the SecureString versions read)", ps.Decryptions())
	}
	for _, c := range s.Log() {
		if c.Op != awsfake.OpGetParameters || c.Status != 200 {
			t.Errorf("call %s status %d", c.Op, c.Status)
		}
	}
}

func TestBatchOf25(t *testing.T) {
	s := setup(t)
	ps := s.ParameterStore()
	var refs, want []string
	for i := range 25 {
		name := fmt.Sprintf("/n8n/many/p%02d", i)
		ps.Put(usEast, name, awsfake.SecureString, canary(fmt.Sprint("many", i)))
		refs = append(refs, "awsssm://"+name)
		want = append(want, canary(fmt.Sprint("many", i)))
	}
	// Variables sharing a parameter share its name in the call.
	refs = append(refs, "awsssm:///n8n/many/p00", "awsssm://n8n/many/p01")
	want = append(want, want[0], want[1])
	p := newProvider(t, awsssm.Config{})
	res, errs := resolve(t, p, refs...)
	wantValues(t, res, errs, want...)
	if n := s.Calls(awsfake.OpGetParameters); n != 3 {
		t.Errorf("%d GetParameters calls, want 3", n)
	}
	names := 0
	for _, c := range s.Log() {
		if len(c.Names) > awsssm.MaxBatch {
			t.Errorf("a call named %d parameters", len(c.Names))
		}
		names += len(c.Names)
	}
	if names != 25 {
		t.Errorf("%d names asked, want 25", names)
	}
	if res[0].Attempts != 1 {
		t.Errorf("%d attempts", res[0].Attempts)
	}
}

func TestNotFoundAmongFound(t *testing.T) {
	s := setup(t)
	ps := s.ParameterStore()
	ps.Put(usEast, "/n8n/a", awsfake.SecureString, canary("a"))
	ps.Put(usEast, "/n8n/b", awsfake.String, canary("b1"))
	ps.Put(usEast, "/n8n/b", awsfake.String, canary("b2"))
	s.AddSecret(usEast, "sm", canary("sm"))
	p := newProvider(t, awsssm.Config{})

	res, errs := resolve(t, p, "awsssm:///n8n/a", "awsssm:///n8n/missing", "awsssm:///n8n/b?version=9", "awsssm:///n8n/b?label=nope",
		"awsssm:///n8n/gone?version=1", "awsssm:///aws/reference/secretsmanager/nope", "awsssm:///aws/reference/secretsmanager/sm?label=AWSPENDING",
		"awsssm:///n8n/optional?optional=true", "awsssm:///n8n/b?version=2")
	if len(errs) != 6 {
		t.Fatalf("%d errors, want 6: %s", len(errs), safe(errs))
	}
	if value(res[0]) != canary("a") || value(res[8]) != canary("b2") || !res[7].Removed {
		t.Error("the found ones must resolve, the optional one be removed")
	}
	for i, want := range map[int]string{
		1: "(us-east-1: no such parameter)",
		2: "/n8n/b version 9: secret not found (us-east-1: the parameter exists; its version 9 does not (the latest is 2",
		3: "/n8n/b label nope: secret not found (us-east-1: the parameter exists (latest version 2); no version carries the label nope)",
		4: "/n8n/gone version 1: secret not found (us-east-1: the parameter does not exist)",
		5: "Secrets Manager has no such secret)",
		6: "/aws/reference/secretsmanager/sm label AWSPENDING: secret not found (us-east-1: Secrets Manager has no such secret, or no such version or staging label of it)",
	} {
		wantCode(t, res[i:i+1], inject.CodeSecretNotFound, want)
	}
	if inject.ExitCodeOf(errs) != 65 {
		t.Errorf("exit %d, want 65", inject.ExitCodeOf(errs))
	}
	// One batch call, one call without decryption telling versions from
	// parameters; no retry of a missing one.
	if n := s.Calls(awsfake.OpGetParameters); n != 2 {
		t.Errorf("%d GetParameters calls, want 2", n)
	}
}

func TestDenied(t *testing.T) {
	s := setup(t)
	ps := s.ParameterStore()
	for _, n := range []string{"/n8n/a", "/n8n/b", "/n8n/denied", "/n8n/cmk"} {
		ps.Put(usEast, n, awsfake.SecureString, canary(n))
	}
	ps.Deny(usEast, "/n8n/denied")
	ps.DenyKMS(usEast, "/n8n/cmk")
	s.AddSecret(usEast, "refused", canary("refused"))
	s.DenySecret(usEast, "refused")
	s.AddSecret(usEast, "gone", canary("gone"))
	s.DeleteSecret(usEast, "gone")
	p := newProvider(t, awsssm.Config{})

	res, errs := resolve(t, p, "awsssm:///n8n/a", "awsssm:///n8n/denied", "awsssm:///n8n/cmk", "awsssm:///n8n/b",
		"awsssm:///aws/reference/secretsmanager/refused", "awsssm:///aws/reference/secretsmanager/gone")
	if len(errs) != 4 || value(res[0]) != canary("/n8n/a") || value(res[3]) != canary("/n8n/b") {
		t.Fatalf("errors %s; the allowed ones must resolve", safe(errs))
	}
	wantCode(t, res[1:2], inject.CodePermissionDenied, "awsssm: get /n8n/denied: permission denied", "AccessDeniedException", "ssm:GetParameters on resource: arn:aws:ssm:us-east-1:123456789012:parameter/n8n/denied")
	wantCode(t, res[2:3], inject.CodePermissionDenied, "KMS refused to decrypt the SecureString: allow kms:Decrypt on its key")
	wantCode(t, res[4:5], inject.CodePermissionDenied, "allow secretsmanager:GetSecretValue", awsfake.MsgDependencyFailed)
	wantCode(t, res[5:6], inject.CodeSecretNotFound, "marked for deletion")
	if inject.ExitCodeOf(errs) != 77 {
		t.Errorf("exit %d, want 77", inject.ExitCodeOf(errs))
	}
	for _, r := range res[1:3] {
		if r.Attempts != 1 {
			t.Errorf("%s: %d attempts: a denial must fail at once", r.Ref.Path(), r.Attempts)
		}
	}
	// The call of six failed as a whole, then each was read on its own.
	if n := s.Calls(awsfake.OpGetParameters); n != 7 {
		t.Errorf("%d GetParameters calls, want 7 (1 + 6)", n)
	}
	// Without ssm:GetParameters at all.
	ps.ClearFaults()
	ps.DenyOperation(awsfake.OpGetParameters)
	res, _ = resolve(t, p, "awsssm:///n8n/a")
	wantCode(t, res, inject.CodePermissionDenied, "ssm:GetParameters")
}

func TestThrottledThenRecovered(t *testing.T) {
	s := setup(t)
	ps := s.ParameterStore()
	for i := range 12 {
		ps.Put(usEast, fmt.Sprint("/p", i), awsfake.SecureString, canary(fmt.Sprint(i)))
	}
	p := newProvider(t, awsssm.Config{})
	for _, tt := range []struct {
		name  string
		fault func()
		refs  []string
		calls int
	}{
		{"throttled, one", func() { ps.ThrottleNext(2) }, []string{"awsssm:///p0"}, 3},
		{"throttled, batch", func() { ps.ThrottleNext(2) }, []string{"awsssm:///p0", "awsssm:///p1", "awsssm:///p2"}, 3},
		{"5xx, one", func() { ps.FailNext(2) }, []string{"awsssm:///p3"}, 3},
		{"5xx, two batches", func() { ps.FailNext(2) }, func() []string {
			var r []string
			for i := range 12 {
				r = append(r, fmt.Sprint("awsssm:///p", i))
			}
			return r
		}(), 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s.Reset()
			tt.fault()
			res, errs := resolve(t, p, tt.refs...)
			if len(errs) > 0 {
				t.Fatal(safe(errs))
			}
			if res[0].Attempts < 2 || s.Calls(awsfake.OpGetParameters) != tt.calls {
				t.Errorf("%d attempts, %d calls; want retries by the resolver and %d calls (no SDK retries)", res[0].Attempts, s.Calls(awsfake.OpGetParameters), tt.calls)
			}
			for i, r := range res {
				if !strings.HasPrefix(value(r), canaryPrefix) {
					t.Errorf("#%d: wrong value", i)
				}
			}
		})
	}
}

func TestUnavailable(t *testing.T) {
	s := setup(t)
	ps := s.ParameterStore()
	ps.Put(usEast, "/a", awsfake.String, canary("a"))
	ps.Put(usEast, "/b", awsfake.String, canary("b"))
	p := newProvider(t, awsssm.Config{})

	ps.FailNext(1000)
	for _, refs := range [][]string{{"awsssm:///a"}, {"awsssm:///a", "awsssm:///b"}} {
		res, errs := resolveIn(t, 400*time.Millisecond, p, refs...)
		if len(errs) != len(refs) || res[0].Err.Code != inject.CodeProviderUnavailable || inject.ExitCodeOf(errs) != 69 {
			t.Fatalf("%s, want PROVIDER_UNAVAILABLE and exit 69", safe(errs))
		}
		if res[0].Attempts < 2 {
			t.Errorf("%d attempts: want retries", res[0].Attempts)
		}
	}
	ps.ClearFaults()
	ps.ThrottleNext(1000)
	res, errs := resolveIn(t, 300*time.Millisecond, p, "awsssm:///a")
	if len(errs) != 1 || res[0].Err.Code != inject.CodeProviderUnavailable {
		t.Fatalf("throttled until the deadline: %s", safe(errs))
	}
	ps.ClearFaults()

	t.Run("nothing listening", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL_SSM", "http://"+closedAddr(t))
		p := newProvider(t, awsssm.Config{})
		res, _ := resolveIn(t, 400*time.Millisecond, p, "awsssm:///a", "awsssm:///b")
		wantCode(t, res, inject.CodeProviderUnavailable, "connection refused")
	})
	t.Run("slower than the deadline", func(t *testing.T) {
		s.SetDelay(5 * time.Second)
		defer s.SetDelay(0)
		res, _ := resolveIn(t, 300*time.Millisecond, p, "awsssm:///a")
		wantCode(t, res, inject.CodeProviderUnavailable)
	})
}

func TestAuthErrors(t *testing.T) {
	s := setup(t)
	s.ParameterStore().Put(usEast, "/a", awsfake.SecureString, canary("a"))
	s.ParameterStore().Put(usEast, "/b", awsfake.SecureString, canary("b"))
	base := map[string]string{"AWS_REGION": usEast, "AWS_ENDPOINT_URL_SSM": s.URL}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	expired := awsfake.Credential{AccessKeyID: "ASIAEXPIRED000000000", SecretAccessKey: "s", SessionToken: "t", Expires: time.Now().Add(-time.Hour)}
	s.AddCredential(expired)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unknown key", with("AWS_ACCESS_KEY_ID", "AKIAUNKNOWN000000000", "AWS_SECRET_ACCESS_KEY", "nope"), "UnrecognizedClientException"},
		{"wrong secret key", with("AWS_ACCESS_KEY_ID", awsfake.DefaultAccessKeyID, "AWS_SECRET_ACCESS_KEY", "wrong"), "InvalidSignatureException"},
		{"expired token", with("AWS_ACCESS_KEY_ID", expired.AccessKeyID, "AWS_SECRET_ACCESS_KEY", expired.SecretAccessKey, "AWS_SESSION_TOKEN", expired.SessionToken), "ExpiredTokenException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProvider(t, awsssm.Config{Getenv: env(tc.env)})
			res, errs := resolve(t, p, "awsssm:///a", "awsssm:///b")
			wantCode(t, res, inject.CodeAuthFailed, tc.want)
			if res[0].Attempts != 1 || inject.ExitCodeOf(errs) != 77 {
				t.Errorf("%d attempts, exit %d: rejected credentials fail at once with 77", res[0].Attempts, inject.ExitCodeOf(errs))
			}
		})
	}
	t.Run("no credentials anywhere", func(t *testing.T) {
		awsfake.IsolateEnv(t)
		t.Setenv("AWS_REGION", usEast)
		t.Setenv("AWS_ENDPOINT_URL_SSM", s.URL)
		s.Reset()
		p := newProvider(t, awsssm.Config{})
		res, _ := resolve(t, p, "awsssm:///a", "awsssm:///b")
		wantCode(t, res, inject.CodeAuthFailed, "could not get AWS credentials")
		if res[0].Attempts != 1 || s.TotalCalls() != 0 {
			t.Errorf("%d attempts, %d calls: missing credentials fail at once, before any request", res[0].Attempts, s.TotalCalls())
		}
	})
}

// TestCredentialProcessCanary: the SDK quotes a credential_process's
// output when it is not the JSON it wants, keys included; the store says
// which step failed and never the SDK's text.
func TestCredentialProcessCanary(t *testing.T) {
	s := setup(t)
	s.ParameterStore().Put(usEast, "/a", awsfake.SecureString, canary("a"))
	dir := t.TempDir()
	script := filepath.Join(dir, "creds.sh")
	writeFile(t, script, "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIA"+canaryPrefix+"KEY\", \"SecretAccessKey\": \""+canary("process-secret")+"\"' \n", 0o700)
	cfg := filepath.Join(dir, "config")
	writeFile(t, cfg, "[profile broken]\ncredential_process = "+script+"\n", 0o600)
	t.Setenv("AWS_CONFIG_FILE", cfg)
	t.Setenv("AWS_PROFILE", "broken")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	p := newProvider(t, awsssm.Config{})
	res, errs := resolve(t, p, "awsssm:///a")
	wantCode(t, res, inject.CodeAuthFailed, "the profile's credential_process failed", "the SDK's message is not shown")
	noCanary(t, errs)
	// The SDK's own error does quote it: the test would catch a leak.
	_, err := p.FetchRef(context.Background(), awsssm.Ref{Name: "/a"})
	if err == nil || strings.Contains(err.Error(), canaryPrefix) {
		t.Errorf("FetchRef: %s", safe(err))
	}
}

func TestConfiguration(t *testing.T) {
	s := awsfake.New(t)
	s.ParameterStore().Put(euWest, "/x", awsfake.String, canary("x"))
	c := s.Credential()

	t.Run("Getenv", func(t *testing.T) {
		awsfake.IsolateEnv(t) // the process environment holds nothing
		isolateMore(t)
		p := newProvider(t, awsssm.Config{Getenv: env(map[string]string{
			"AWS_DEFAULT_REGION": euWest, "AWS_ENDPOINT_URL": s.URL,
			"AWS_ACCESS_KEY_ID": c.AccessKeyID, "AWS_SECRET_ACCESS_KEY": c.SecretAccessKey})})
		res, errs := resolve(t, p, "awsssm:///x")
		wantValues(t, res, errs, canary("x"))
	})
	t.Run("no region", func(t *testing.T) {
		s.SetenvSSM(t, usEast)
		isolateMore(t)
		t.Setenv("AWS_REGION", "")
		s.Reset()
		p := newProvider(t, awsssm.Config{})
		res, errs := resolve(t, p, "awsssm:///x", "awsssm:///y")
		wantCode(t, res, inject.CodeNotConfigured, "AWS_REGION")
		if inject.ExitCodeOf(errs) != 64 || s.TotalCalls() != 0 {
			t.Errorf("exit %d, %d calls", inject.ExitCodeOf(errs), s.TotalCalls())
		}
		res, errs = resolve(t, p, "awsssm:///x?region=eu-west-1")
		wantValues(t, res, errs, canary("x"))
	})
	t.Run("plain http", func(t *testing.T) {
		for _, tt := range []struct {
			endpoint  string
			allowHTTP bool
			ok        bool
		}{
			{"http://ssm.example.com", false, false},
			{"http://10.0.0.5:4566", false, false},
			{"http://ssm.example.com", true, true},
			{"https://ssm.example.com", false, true},
			{"http://localhost:4566", false, true},
			{"http://[::1]:4566", false, true},
			{"ftp://x", true, false},
		} {
			awsfake.IsolateEnv(t)
			t.Setenv("AWS_ENDPOINT_URL_SSM", tt.endpoint)
			_, err := awsssm.New(awsssm.Config{AllowHTTP: tt.allowHTTP})
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, inject.ErrNotConfigured)) {
				t.Errorf("%s (allow %v): %v", tt.endpoint, tt.allowHTTP, err)
			}
			if err != nil && strings.HasPrefix(tt.endpoint, "http:") && !strings.Contains(err.Error(), "N8N_SECRETS_ALLOW_HTTP=true") {
				t.Errorf("%s: the message must name N8N_SECRETS_ALLOW_HTTP: %v", tt.endpoint, err)
			}
		}
		// AWS_ENDPOINT_URL, and endpoint_url in the shared config.
		awsfake.IsolateEnv(t)
		t.Setenv("AWS_ENDPOINT_URL", "http://all.example.com")
		if _, err := awsssm.New(awsssm.Config{}); err == nil || !strings.Contains(err.Error(), "all.example.com") {
			t.Errorf("AWS_ENDPOINT_URL: %v", err)
		}
		awsfake.IsolateEnv(t)
		cfg := t.TempDir() + "/config"
		writeFile(t, cfg, "[default]\nendpoint_url = http://ssm.example.com\n", 0o600)
		t.Setenv("AWS_CONFIG_FILE", cfg)
		if _, err := awsssm.New(awsssm.Config{}); err == nil || !strings.Contains(err.Error(), "ssm.example.com") {
			t.Errorf("endpoint_url in the shared config: %v", err)
		}
		// The Secrets Manager endpoint is not this store's.
		awsfake.IsolateEnv(t)
		t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://sm.example.com")
		if _, err := awsssm.New(awsssm.Config{}); err != nil {
			t.Errorf("AWS_ENDPOINT_URL_SECRETS_MANAGER: %v", err)
		}
	})
	t.Run("bad profile", func(t *testing.T) {
		awsfake.IsolateEnv(t)
		t.Setenv("AWS_PROFILE", "nope")
		if _, err := awsssm.New(awsssm.Config{}); !errors.Is(err, inject.ErrNotConfigured) || !strings.Contains(err.Error(), `"nope"`) {
			t.Errorf("unknown profile: %v", err)
		}
	})
}

func TestNewDoesNoIO(t *testing.T) {
	s := awsfake.New(t)
	cc := s.NewContainerCredentials(t)
	cc.Setenv(t)
	t.Setenv("AWS_REGION", usEast)
	t.Setenv("AWS_ENDPOINT_URL_SSM", s.URL)
	p := newProvider(t, awsssm.Config{})
	if s.TotalCalls() != 0 || cc.Calls() != 0 || p.Requests() != 0 {
		t.Errorf("New made %d Parameter Store and %d credential calls", s.TotalCalls(), cc.Calls())
	}
}

func TestContainerCredentials(t *testing.T) {
	s := awsfake.New(t)
	ps := s.ParameterStore()
	ps.Put(usEast, "/a", awsfake.SecureString, canary("a"))
	ps.Put(euWest, "/c", awsfake.SecureString, canary("c"))
	cc := s.NewContainerCredentials(t)
	cc.Setenv(t) // the ECS task role: no static keys anywhere
	isolateMore(t)
	t.Setenv("AWS_REGION", usEast)
	t.Setenv("AWS_ENDPOINT_URL_SSM", s.URL)
	p := newProvider(t, awsssm.Config{})

	res, errs := resolve(t, p, "awsssm:///a", "awsssm:///c?region=eu-west-1")
	wantValues(t, res, errs, canary("a"), canary("c"))
	issued := cc.Issued()
	if cc.Calls() != 1 || len(issued) != 1 {
		t.Fatalf("credential endpoint called %d times, want 1", cc.Calls())
	}
	for _, c := range s.Log() {
		if c.AccessKeyID != issued[0].AccessKeyID || c.Status != 200 {
			t.Errorf("%s in %s signed with %q (status %d), want the task role's key", c.Op, c.Region, c.AccessKeyID, c.Status)
		}
	}
	t.Run("token refused", func(t *testing.T) {
		t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong")
		res, _ := resolve(t, newProvider(t, awsssm.Config{}), "awsssm:///a")
		wantCode(t, res, inject.CodeAuthFailed, "the container credentials endpoint")
	})
	t.Run("endpoint failing", func(t *testing.T) {
		cc.FailNext(3) // the SDK's credential client makes 3 attempts
		res, errs := resolve(t, newProvider(t, awsssm.Config{}), "awsssm:///a")
		wantValues(t, res, errs, canary("a"))
		if res[0].Attempts != 2 {
			t.Errorf("%d attempts, want 2", res[0].Attempts)
		}
	})
}

func TestBinarySecretReference(t *testing.T) {
	s := setup(t)
	s.AddBinarySecret(usEast, "tls/key", []byte(canary("binary")))
	res, _ := resolve(t, newProvider(t, awsssm.Config{}), "awsssm:///aws/reference/secretsmanager/tls/key")
	wantCode(t, res, inject.CodeBadData, "SecretBinary", "awssm://")
}

// TestNoValueInOutputs plants canaries as values and reads them through
// every path that fails, with a debug logger: neither errors nor log lines
// hold one. The SourceResult of a Secrets Manager reference repeats the
// value: it is decoded for the VersionId only.
func TestNoValueInOutputs(t *testing.T) {
	s := setup(t)
	ps := s.ParameterStore()
	ps.Put(usEast, "/ok", awsfake.SecureString, canary("ok"))
	ps.Put(usEast, "/denied", awsfake.SecureString, canary("denied"))
	ps.Put(usEast, "/kms", awsfake.SecureString, canary("kms"))
	ps.Put(usEast, "/list", awsfake.StringList, canary("l1")+","+canary("l2"))
	ps.Deny(usEast, "/denied")
	ps.DenyKMS(usEast, "/kms")
	s.AddSecret(usEast, "sm", `{"k":"`+canary("sm")+`"}`)
	s.AddBinarySecret(usEast, "bin", []byte(canary("bin")))
	var logs syncbuf.Buffer
	p := newProvider(t, awsssm.Config{Logger: debugLogger(&logs)})
	res, errs := resolve(t, p, "awsssm:///ok#nokey", "awsssm:///denied", "awsssm:///kms", "awsssm:///list#/0",
		"awsssm:///aws/reference/secretsmanager/sm#missing", "awsssm:///aws/reference/secretsmanager/bin", "awsssm:///ok?version=5")
	if len(errs) != 7 {
		t.Fatalf("%d errors, want 7", len(errs))
	}
	for _, r := range res {
		for _, text := range []string{r.Err.Error(), fmt.Sprint(r.Err), fmt.Sprintf("%+v", r.Value), r.Version} {
			if strings.Contains(text, canaryPrefix) {
				t.Errorf("%s: an output holds a value", r.Ref.Path())
			}
		}
	}
	if strings.Contains(logs.String(), canaryPrefix) {
		t.Error("a log line holds a value")
	}
}

func TestReviewAccess(t *testing.T) {
	s := setup(t) // static keys of an IAM user (AKIA…)
	s.ParameterStore().Put(usEast, "/a", awsfake.String, canary("a"))
	p := newProvider(t, awsssm.Config{})
	found, err := p.ReviewAccess(context.Background(), []awsssm.Ref{{Name: "/a"}})
	if err != nil || len(found) != 1 || found[0].Code != awscfg.CodeLongLivedKeys {
		t.Fatalf("%v, %v; want one AWS_LONG_LIVED_KEYS", found, err)
	}
	if strings.Contains(found[0].Message, awsfake.DefaultAccessKeyID) || strings.Contains(found[0].Message, awsfake.DefaultSecretAccessKey) {
		t.Error("the finding names the key")
	}
	if found, err := p.ReviewAccess(context.Background(), nil); found != nil || err != nil {
		t.Errorf("no refs: %v, %v", found, err)
	}
}

// TestConcurrentUse: one provider, many goroutines, regions and batches.
func TestConcurrentUse(t *testing.T) {
	s := setup(t)
	ps := s.ParameterStore()
	var refs []awsssm.Ref
	for i := range 30 {
		region := []string{usEast, euWest}[i%2]
		name := fmt.Sprint("/c/p", i)
		ps.Put(region, name, awsfake.SecureString, canary(name))
		refs = append(refs, awsssm.Ref{Name: name, Region: region})
	}
	p := newProvider(t, awsssm.Config{})
	done := make(chan []error)
	for range 8 {
		go func() {
			var errs []error
			for i, r := range p.FetchRefs(context.Background(), refs) {
				if r.Err != nil || string(r.Payload.Value.Reveal()) != canary(refs[i].Name) {
					errs = append(errs, fmt.Errorf("%s: wrong result (%s)", refs[i].Name, safe(r.Err)))
				}
			}
			done <- errs
		}()
	}
	for range 8 {
		if errs := <-done; len(errs) > 0 {
			t.Error(errs)
		}
	}
	if got := s.Calls(awsfake.OpGetParameters); got != 8*4 {
		t.Errorf("%d calls, want 32 (8 × 2 regions × 2 batches of ≤10)", got)
	}
}
