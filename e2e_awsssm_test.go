package main

// End-to-end tests of awsssm:// references: the real binary against
// internal/testenv/awsfake's Systems Manager side (GetParameters, SecureString
// decrypted through its KMS check, Secrets Manager through
// /aws/reference/secretsmanager/), speaking the SDK's wire protocol on
// loopback. Every run plants canaries and greps every output for them.

import (
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
)

// ssmEnv returns awsEnv's settings with the Systems Manager endpoint.
func (e *e2e) ssmEnv(s *awsfake.Server, region string) []string {
	return append(e.awsEnv(s, region), "AWS_ENDPOINT_URL_SSM="+s.URL)
}

func TestAWSSSMValuesReachChild(t *testing.T) {
	e := newE2E(t)
	s := awsfake.New(t)
	ps := s.ParameterStore()
	key, pw, smtp := e.canary("ssmkey"), e.canary("ssmpw"), e.canary("ssmsmtp")
	ps.Put("us-east-1", "/n8n/key", awsfake.SecureString, key)
	ps.Put("us-east-1", "/n8n/db", awsfake.SecureString, `{"user":"n8n","password":"`+pw+`"}`)
	s.AddSecret("us-east-1", "n8n/smtp", smtp)
	env := append(e.ssmEnv(s, "us-east-1"),
		"N8N_ENCRYPTION_KEY=awsssm:///n8n/key",
		"DB_POSTGRESDB_PASSWORD=awsssm:///n8n/db#password",
		"N8N_SMTP_PASS=awsssm:///aws/reference/secretsmanager/n8n/smtp",
		"OPTIONAL=awsssm:///n8n/none?optional=true")
	r := e.run(env, "--", self(t))
	if r.code != 0 || r.child == nil {
		t.Fatalf("exit %d, child ran: %v\nstderr: %s", r.code, r.child != nil, r.stderr)
	}
	got := envOf(r.child)
	for k, v := range map[string]string{"N8N_ENCRYPTION_KEY": key, "DB_POSTGRESDB_PASSWORD": pw, "N8N_SMTP_PASS": smtp} {
		if got[k] != v {
			t.Errorf("child %s differs from the expected value (%d vs %d bytes)", k, len(got[k]), len(v))
		}
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "OPTIONAL"} {
		if _, ok := got[k]; ok {
			t.Errorf("child has %s", k)
		}
	}
	// Four parameters, one region: one GetParameters call.
	if n := s.Calls(awsfake.OpGetParameters); n != 1 {
		t.Errorf("GetParameters %d times, want once (batched)", n)
	}
	r = e.run(env, "check")
	if r.code != 0 || !strings.Contains(r.stdout, "/n8n/db") || !strings.Contains(r.stdout, "awsssm") {
		t.Errorf("check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestAWSSSMFailures(t *testing.T) {
	s := awsfake.New(t)
	ps := s.ParameterStore()
	ok, denied := "CANARY-ssmok-xxxx", "CANARY-ssmdenied-xxxx"
	ps.Put("us-east-1", "/n8n/ok", awsfake.SecureString, ok)
	ps.Put("us-east-1", "/n8n/denied", awsfake.SecureString, denied)
	tests := []struct {
		name  string
		setup func(e *e2e) []string
		code  int
		log   string
	}{
		{"not found", func(e *e2e) []string { return []string{"K=awsssm:///n8n/none"} }, 65, "SECRET_NOT_FOUND"},
		{"denied", func(e *e2e) []string { return []string{"K=awsssm:///n8n/denied", "L=awsssm:///n8n/ok"} }, 77, "PERMISSION_DENIED"},
		{"bad credentials", func(e *e2e) []string {
			return []string{"K=awsssm:///n8n/ok", "AWS_SECRET_ACCESS_KEY=" + e.canary("wrongkey")}
		}, 77, "AUTH_FAILED"},
		{"down past the deadline", func(e *e2e) []string {
			ps.FailNext(1000)
			return []string{"K=awsssm:///n8n/ok", "N8N_SECRETS_TIMEOUT=700ms"}
		}, 69, "PROVIDER_UNAVAILABLE"},
		{"plain http off loopback", func(e *e2e) []string {
			return []string{"K=awsssm:///n8n/ok", "AWS_ENDPOINT_URL_SSM=http://ssm.example.com"}
		}, 64, "PROVIDER_NOT_CONFIGURED"},
		{"bad reference", func(e *e2e) []string { return []string{"K=awsssm:///n8n/ok?version=0"} }, 65, "BAD_REFERENCE"},
		{"misspelled scheme", func(e *e2e) []string { return []string{"K=awsssn:///n8n/ok"} }, 65, "BAD_REFERENCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps.ClearFaults()
			ps.Deny("us-east-1", "/n8n/denied")
			e := newE2E(t)
			e.canaries = append(e.canaries, ok, denied)
			env := append(e.ssmEnv(s, "us-east-1"), tt.setup(e)...)
			r := e.run(env, "--", self(t))
			r.assertRefused(t, tt.code, tt.log)
		})
	}
}

// TestSuperviseAWSSSMRollsOutNewVersions: a new parameter version is seen
// by the watch (GetParameters without decryption) and rolled out by a
// restart.
func TestSuperviseAWSSSMRollsOutNewVersions(t *testing.T) {
	e := newE2E(t)
	s := awsfake.New(t)
	ps := s.ParameterStore()
	key, pw := e.canary("key"), e.canary("pw")
	ps.Put("us-east-1", "/n8n/key", awsfake.SecureString, key)
	ps.Put("us-east-1", "/n8n/db", awsfake.SecureString, pw)
	env := append(e.ssmEnv(s, "us-east-1"), superviseEnv("N8N_ENCRYPTION_KEY=awsssm:///n8n/key",
		"DB_POSTGRESDB_PASSWORD=awsssm:///n8n/db", "N8N_SECRETS_REFRESH=300ms")...)
	r := e.startSupervised(env, nil)
	r.waitStarts(1, 30*time.Second)
	decrypted := ps.Decryptions()
	s.Reset()
	r.waitFor("idle refreshes", 10*time.Second, func() bool { return s.Calls(awsfake.OpGetParameters) >= 3 })
	if n := ps.Decryptions() - decrypted; n != 0 {
		t.Errorf("idle refreshes decrypted %d values: the version must be enough", n)
	}
	pw2 := e.canary("pw2")
	ps.Put("us-east-1", "/n8n/db", awsfake.SecureString, pw2)
	starts := r.waitStarts(2, 30*time.Second)
	if got := childEnv(starts[1]); got["DB_POSTGRESDB_PASSWORD"] != pw2 || got["N8N_ENCRYPTION_KEY"] != key {
		t.Error("the restarted child did not get the new version")
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
}
