package main

// End-to-end tests of awssm:// references: the real binary against
// internal/testenv/awsfake, a Secrets Manager endpoint speaking the SDK's wire
// protocol on loopback. The binary's environment is only what each test
// gives it (e.run), with HOME in a temporary directory and IMDS disabled,
// so nothing on this machine takes part.

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
)

// awsEnv returns the settings that point the binary at s with region and
// s's default keys, and registers the secret key as a canary.
func (e *e2e) awsEnv(s *awsfake.Server, region string) []string {
	c := s.Credential()
	e.canaries = append(e.canaries, c.SecretAccessKey)
	return []string{
		"AWS_REGION=" + region,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + s.URL,
		"AWS_ACCESS_KEY_ID=" + c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true",
		"N8N_SECRETS_N8N=off",
		"N8N_SECRETS_LOG_LEVEL=debug",
		"E2E_CHILD_EXIT=0",
	}
}

func TestAWSSMValuesReachChild(t *testing.T) {
	e := newE2E(t)
	s := awsfake.New(t)
	key, pw, eu := e.canary("awskey"), e.canary("awspw"), e.canary("aweu")
	s.AddSecret("us-east-1", "n8n/core", key)
	s.AddSecret("us-east-1", "n8n/db", `{"user":"n8n","password":"`+pw+`","port":5432}`)
	euRef := s.AddSecret("eu-west-1", "n8n/eu", eu)
	// Temporary keys with a session token, as an assumed role has.
	sess := awsfake.Credential{AccessKeyID: "ASIAE2EAWSSM00000001", SecretAccessKey: e.canary("awssecret"), SessionToken: e.canary("awstoken")}
	s.AddCredential(sess)

	env := []string{
		"AWS_REGION=us-east-1",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + s.URL,
		"AWS_ACCESS_KEY_ID=" + sess.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + sess.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + sess.SessionToken,
		"AWS_EC2_METADATA_DISABLED=true",
		"N8N_SECRETS_N8N=off",
		"N8N_SECRETS_LOG_LEVEL=debug",
		"E2E_CHILD_EXIT=0",
		"N8N_ENCRYPTION_KEY=awssm://n8n/core",
		"DB_POSTGRESDB_PASSWORD=awssm://n8n/db#password",
		"DB_POSTGRESDB_PORT=awssm://n8n/db#/port",
		"EU_SECRET=awssm://" + euRef.ARN,
		"OPTIONAL=awssm://n8n/none?optional=true",
	}
	r := e.run(env, "--", self(t))
	if r.code != 0 || r.child == nil {
		t.Fatalf("exit %d, child ran: %v\nstderr: %s", r.code, r.child != nil, r.stderr)
	}
	got := envOf(r.child)
	for k, v := range map[string]string{"N8N_ENCRYPTION_KEY": key, "DB_POSTGRESDB_PASSWORD": pw, "DB_POSTGRESDB_PORT": "5432",
		"EU_SECRET": eu, "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_SECRETS_MANAGER": s.URL} {
		if got[k] != v {
			t.Errorf("child %s differs from the expected value (%d vs %d bytes)", k, len(got[k]), len(v))
		}
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "OPTIONAL"} {
		if _, ok := got[k]; ok {
			t.Errorf("child has %s", k)
		}
	}
	// us-east-1: three secrets (one optional and missing) in one batch; eu-west-1: one, by GetSecretValue.
	if b, g := s.Calls(awsfake.OpBatchGetSecretValue), s.Calls(awsfake.OpGetSecretValue); b != 1 || g != 1 {
		t.Errorf("BatchGetSecretValue %d, GetSecretValue %d; want 1 and 1", b, g)
	}

	// check lists each variable with its version, and no value.
	r = e.run(env, "check")
	if r.code != 0 || !strings.Contains(r.stdout, "n8n/db#password") || !strings.Contains(r.stdout, euRef.VersionID) {
		t.Errorf("check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Passed through, the keys reach the child.
	r = e.run(append(env, "N8N_SECRETS_PASSTHROUGH=AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN"), "--", self(t))
	if r.code != 0 || r.child == nil {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
	}
	got = envOf(r.child)
	if got["AWS_ACCESS_KEY_ID"] != sess.AccessKeyID || got["AWS_SECRET_ACCESS_KEY"] != sess.SecretAccessKey || got["AWS_SESSION_TOKEN"] != sess.SessionToken {
		t.Error("passed-through AWS keys did not reach the child")
	}
}

func TestAWSSMContainerCredentials(t *testing.T) {
	e := newE2E(t)
	s := awsfake.New(t)
	v := e.canary("awscc")
	s.AddSecret("us-east-1", "n8n/core", `{"encryption_key":"`+v+`"}`)
	cc := s.NewContainerCredentials(t, awsfake.WithToken(e.canary("cctoken")))
	tokenFile := e.plant("eks-pod-identity-token", cc.Token)
	common := []string{
		"AWS_REGION=us-east-1",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + s.URL,
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + cc.URL,
		"AWS_EC2_METADATA_DISABLED=true",
		"N8N_SECRETS_N8N=off",
		"N8N_SECRETS_LOG_LEVEL=debug",
		"E2E_CHILD_EXIT=0",
		"N8N_ENCRYPTION_KEY=awssm://n8n/core#encryption_key",
	}
	for _, tt := range []struct {
		name  string
		token string // the variable that carries the token
	}{
		{"token", "AWS_CONTAINER_AUTHORIZATION_TOKEN=" + cc.Token},
		{"token file", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=" + tokenFile},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := cc.Calls()
			r := e.run(append(common, tt.token), "--", self(t))
			if r.code != 0 || r.child == nil {
				t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
			}
			got := envOf(r.child)
			if got["N8N_ENCRYPTION_KEY"] != v {
				t.Error("the secret did not reach the child")
			}
			for k := range got {
				if strings.HasPrefix(k, "AWS_CONTAINER_") {
					t.Errorf("child has %s", k)
				}
			}
			if cc.Calls()-before != 1 {
				t.Errorf("%d credential calls, want 1", cc.Calls()-before)
			}
			r = e.run(append(common, tt.token, "N8N_SECRETS_PASSTHROUGH=AWS_CONTAINER_*"), "--", self(t))
			if r.code != 0 || r.child == nil || envOf(r.child)["AWS_CONTAINER_CREDENTIALS_FULL_URI"] != cc.URL {
				t.Errorf("passed through, the container variables must reach the child: exit %d\n%s", r.code, r.stderr)
			}
		})
	}
	for _, c := range s.Log() {
		if !strings.HasPrefix(c.AccessKeyID, "ASIA") {
			t.Errorf("a request was signed with %q, not container credentials", c.AccessKeyID)
		}
	}
}

func TestAWSSMExitCodes(t *testing.T) {
	s := awsfake.New(t)
	values := map[string]string{}
	for _, name := range []string{"ok", "denied", "kms"} {
		values[name] = "CANARY-aws" + name + "-xxxx"
		s.AddSecret("us-east-1", "n8n/"+name, values[name])
	}
	values["json"] = "CANARY-awsjson-xxxx"
	s.AddSecret("us-east-1", "n8n/json", `{"a":"`+values["json"]+`"}`)
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "http://" + l.Addr().String()
	}()
	tests := []struct {
		name  string
		setup func(e *e2e) []string // extra env
		code  int
		log   string // the stable code in the log
	}{
		{"not found", func(e *e2e) []string { return []string{"K=awssm://n8n/none"} }, 65, "SECRET_NOT_FOUND"},
		{"missing key", func(e *e2e) []string { return []string{"K=awssm://n8n/json#nope"} }, 65, "KEY_NOT_FOUND"},
		{"denied", func(e *e2e) []string { return []string{"K=awssm://n8n/denied"} }, 77, "PERMISSION_DENIED"},
		{"KMS", func(e *e2e) []string { return []string{"K=awssm://n8n/kms", "L=awssm://n8n/ok"} }, 77, "PERMISSION_DENIED"},
		{"bad credentials", func(e *e2e) []string {
			return []string{"K=awssm://n8n/ok", "AWS_SECRET_ACCESS_KEY=" + e.canary("wrongkey")}
		}, 77, "AUTH_FAILED"},
		{"no credentials", func(e *e2e) []string {
			return []string{"K=awssm://n8n/ok", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="}
		}, 77, "AUTH_FAILED"},
		{"down past the deadline", func(e *e2e) []string {
			s.FailNext(1000)
			return []string{"K=awssm://n8n/ok", "L=awssm://n8n/json#a", "N8N_SECRETS_TIMEOUT=700ms"}
		}, 69, "PROVIDER_UNAVAILABLE"},
		{"nothing listening", func(e *e2e) []string {
			return []string{"K=awssm://n8n/ok", "AWS_ENDPOINT_URL_SECRETS_MANAGER=" + closed, "N8N_SECRETS_TIMEOUT=500ms"}
		}, 69, "PROVIDER_UNAVAILABLE"},
		{"plain http off loopback", func(e *e2e) []string {
			return []string{"K=awssm://n8n/ok", "AWS_ENDPOINT_URL_SECRETS_MANAGER=http://secretsmanager.example.com"}
		}, 64, "PROVIDER_NOT_CONFIGURED"},
		{"no region", func(e *e2e) []string { return []string{"K=awssm://n8n/ok", "AWS_REGION="} }, 64, "PROVIDER_NOT_CONFIGURED"},
		{"bad reference", func(e *e2e) []string { return []string{"K=awssm://n8n/ok?version-stage="} }, 65, "BAD_REFERENCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.ClearFaults()
			s.DenySecret("us-east-1", "n8n/denied")
			s.FailDecryption("us-east-1", "n8n/kms")
			e := newE2E(t)
			for _, v := range values {
				e.canaries = append(e.canaries, v)
			}
			// Later settings override earlier ones: the binary's environment
			// is a list, and the last of two equal names wins in Go's os/exec.
			env := append(e.awsEnv(s, "us-east-1"), tt.setup(e)...)
			r := e.run(env, "--", self(t))
			r.assertRefused(t, tt.code, tt.log)
		})
	}
}

// TestAWSSMCredentialProcessOutputNeverShown: a credential_process whose
// output is not valid JSON makes the SDK quote that output (keys included)
// in its error. The binary names the failing step instead, exit 77, in the
// log and in check --json.
func TestAWSSMCredentialProcessOutputNeverShown(t *testing.T) {
	e := newE2E(t)
	s := awsfake.New(t)
	id, secret, token := e.canary("procid"), e.canary("procsecret"), e.canary("proctoken")
	script := e.plant("cred.sh", "#!/bin/sh\necho 'Version: 1, AccessKeyId: "+id+", SecretAccessKey: "+secret+", SessionToken: "+token+"'\n")
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := e.plant("aws-config", "[profile broken]\nregion = us-east-1\ncredential_process = "+script+"\n")
	env := []string{
		"AWS_CONFIG_FILE=" + cfg, "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(e.home, "none"), "AWS_PROFILE=broken",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + s.URL, "AWS_EC2_METADATA_DISABLED=true",
		"N8N_SECRETS_N8N=off", "N8N_SECRETS_LOG_LEVEL=debug", "K=awssm://n8n/core",
	}
	r := e.run(env, "--", self(t))
	if r.code != 77 || r.child != nil || !strings.Contains(r.stderr, "credential_process") || !strings.Contains(r.stderr, `"code":"AUTH_FAILED"`) {
		t.Fatalf("exit %d, want 77 naming the credential_process step\n%s", r.code, r.stderr)
	}
	r = e.run(env, "check", "--json")
	if r.code != 77 || !strings.Contains(r.stdout, "credential_process") {
		t.Fatalf("check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if s.Calls(awsfake.OpGetSecretValue)+s.Calls(awsfake.OpBatchGetSecretValue) != 0 {
		t.Error("a request was sent without credentials")
	}
}

// TestAWSSMAliasCredentials: the SDK also reads AWS_ACCESS_KEY and
// AWS_SECRET_KEY; with them the secret resolves, and neither they nor
// AWS_SECURITY_TOKEN (the session token's older name) reach the child.
func TestAWSSMAliasCredentials(t *testing.T) {
	e := newE2E(t)
	s := awsfake.New(t)
	v := e.canary("aliasvalue")
	s.AddSecret("us-east-1", "n8n/core", v)
	c := s.Credential()
	e.canaries = append(e.canaries, c.SecretAccessKey)
	legacy := e.canary("legacytoken")
	env := []string{
		"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_SECRETS_MANAGER=" + s.URL, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ACCESS_KEY=" + c.AccessKeyID, "AWS_SECRET_KEY=" + c.SecretAccessKey, "AWS_SECURITY_TOKEN=" + legacy,
		"N8N_SECRETS_N8N=off", "E2E_CHILD_EXIT=0", "K=awssm://n8n/core",
	}
	r := e.run(env, "--", self(t))
	if r.code != 0 || r.child == nil {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	got := envOf(r.child)
	if got["K"] != v {
		t.Error("K did not get the secret")
	}
	for _, k := range []string{"AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SECURITY_TOKEN"} {
		if _, ok := got[k]; ok {
			t.Errorf("the child has %s", k)
		}
	}
}
