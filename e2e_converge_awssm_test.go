package main

// Supervise mode's convergence with AWS Secrets Manager (internal/testenv/awsfake):
// another account's secret, which ListSecrets never lists, is watched with
// DescribeSecret rather than read again at every refresh; an optional
// secret scheduled for deletion (still recoverable) keeps its value.

import (
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
)

func TestSuperviseAWSUnlistedAndScheduledForDeletion(t *testing.T) {
	e := newE2E(t)
	s := awsfake.New(t)
	shared, opt := e.canary("shared"), e.canary("opt")
	ref := s.AddSharedSecret("us-east-1", "210987654321", "team/n8n-db", shared)
	s.AddSecret("us-east-1", "n8n/opt", opt)
	env := append(e.awsEnv(s, "us-east-1"), superviseEnv("DB_POSTGRESDB_PASSWORD=awssm://"+ref.ARN,
		"OPTIONAL_TOKEN=awssm://n8n/opt?optional=true", "N8N_SECRETS_REFRESH=300ms")...)
	r := e.startSupervised(env, nil)
	first := r.waitStarts(1, 30*time.Second)[0]
	if got := childEnv(first); got["DB_POSTGRESDB_PASSWORD"] != shared || got["OPTIONAL_TOKEN"] != opt {
		t.Fatal("the child did not get the values")
	}

	// Idle refreshes: the shared secret is described, never read.
	s.Reset()
	r.waitFor("idle refreshes", 10*time.Second, func() bool { return s.Calls(awsfake.OpDescribeSecret) >= 3 })
	if reads := s.Calls(awsfake.OpGetSecretValue) + s.Calls(awsfake.OpBatchGetSecretValue); reads != 0 {
		t.Errorf("idle refreshes read %d values: DescribeSecret must be enough for a secret ListSecrets does not list", reads)
	}
	if !r.logged("AWSSM_WATCH_DESCRIBE") {
		t.Error("no AWSSM_WATCH_DESCRIBE event says why the secret is described")
	}

	// A new version of the shared secret is rolled out.
	shared2 := e.canary("shared2")
	s.PutVersion("us-east-1", ref.ARN, awsfake.StringValue(shared2))
	starts := r.waitStarts(2, 30*time.Second)
	if got := childEnv(starts[1]); got["DB_POSTGRESDB_PASSWORD"] != shared2 || got["OPTIONAL_TOKEN"] != opt {
		t.Error("the restarted child did not get the shared secret's new version")
	}

	// The optional secret scheduled for deletion: still recoverable, so
	// the command keeps it; no restart without the variable.
	s.DeleteSecret("us-east-1", "n8n/opt")
	s.Reset()
	r.waitFor("the deletion seen", 10*time.Second, func() bool { return s.Calls(awsfake.OpDescribeSecret) >= 4 })
	time.Sleep(time.Second)
	if n := len(r.starts()); n != 2 {
		t.Errorf("%d starts: a secret scheduled for deletion restarted the command", n)
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
}
