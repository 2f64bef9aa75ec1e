package main

// Supervise mode with AWS Secrets Manager (internal/testenv/awsfake): new versions
// are seen through ListSecrets, which returns version ids and no values,
// and rolled out by a restart; where ListSecrets is denied, by reading the
// secrets again.

import (
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
)

func TestSuperviseAWSRollsOutNewVersions(t *testing.T) {
	for _, denied := range []bool{false, true} {
		name := "ListSecrets"
		if denied {
			name = "ListSecrets denied"
		}
		t.Run(name, func(t *testing.T) {
			e := newE2E(t)
			s := awsfake.New(t)
			if denied {
				s.DenyOperation(awsfake.OpListSecrets)
			}
			key, pw := e.canary("key"), e.canary("pw")
			s.AddSecret("us-east-1", "n8n/core", key)
			s.AddSecret("us-east-1", "n8n/db", `{"password":"`+pw+`"}`)
			env := append(e.awsEnv(s, "us-east-1"), superviseEnv("N8N_ENCRYPTION_KEY=awssm://n8n/core",
				"DB_POSTGRESDB_PASSWORD=awssm://n8n/db#password", "N8N_SECRETS_REFRESH=300ms")...)
			r := e.startSupervised(env, nil)
			r.waitStarts(1, 30*time.Second)
			// A few idle refreshes: with ListSecrets, no value is read.
			s.Reset()
			r.waitFor("idle refreshes", 10*time.Second, func() bool {
				if denied {
					return s.Calls(awsfake.OpBatchGetSecretValue) >= 3
				}
				return s.Calls(awsfake.OpListSecrets) >= 3
			})
			if reads := s.Calls(awsfake.OpGetSecretValue) + s.Calls(awsfake.OpBatchGetSecretValue); !denied && reads != 0 {
				t.Errorf("idle refreshes read %d values: ListSecrets must be enough", reads)
			}
			if denied && !r.logged("SECRET_WATCH_DENIED") {
				t.Error("no SECRET_WATCH_DENIED event")
			}

			pw2 := e.canary("pw2")
			s.PutVersion("us-east-1", "n8n/db", awsfake.StringValue(`{"password":"`+pw2+`"}`))
			starts := r.waitStarts(2, 30*time.Second)
			if got := childEnv(starts[1]); got["DB_POSTGRESDB_PASSWORD"] != pw2 || got["N8N_ENCRYPTION_KEY"] != key {
				t.Error("the restarted child did not get the new version")
			}
			if code := r.stop(); code != 0 {
				t.Errorf("exit %d\n%s", code, r.stderr.String())
			}
		})
	}
}
