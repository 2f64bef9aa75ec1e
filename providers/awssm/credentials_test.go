package awssm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
	"github.com/n8n-secrets/n8n-secrets/providers/awssm"
)

// TestReviewAccess: static access keys are reported as long-lived, the
// temporary credentials of a container role are not; a failing chain is
// an auth error with a fixed message.
func TestReviewAccess(t *testing.T) {
	reviewed := func(t *testing.T, p *awssm.Provider) ([]inject.AccessFinding, error) {
		t.Helper()
		res, errs := resolve(t, p, "awssm://a")
		if len(errs) > 0 {
			t.Fatalf("resolving: %v", errs)
		}
		return p.ReviewAccess(context.Background(), []inject.Reference{res[0].Ref})
	}

	t.Run("static keys", func(t *testing.T) {
		s := setup(t) // AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY of an IAM user (AKIA…)
		s.AddSecret(usEast, "a", canary("a"))
		found, err := reviewed(t, newProvider(t, awssm.Options{}))
		if err != nil || len(found) != 1 || found[0].Code != awssm.CodeLongLivedKeys {
			t.Fatalf("got %v, %v; want one %s", found, err, awssm.CodeLongLivedKeys)
		}
		if strings.Contains(found[0].Message, awsfake.DefaultSecretAccessKey) || strings.Contains(found[0].Message, awsfake.DefaultAccessKeyID) {
			t.Error("the finding names the key")
		}
	})

	t.Run("container role", func(t *testing.T) {
		s := awsfake.New(t)
		s.AddSecret(usEast, "a", canary("a"))
		s.NewContainerCredentials(t).Setenv(t)
		t.Setenv("AWS_REGION", usEast)
		t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", s.URL)
		isolateMore(t)
		found, err := reviewed(t, newProvider(t, awssm.Options{}))
		if err != nil || len(found) != 0 {
			t.Errorf("temporary credentials: %v, %v; want nothing", found, err)
		}
	})

	t.Run("no credentials", func(t *testing.T) {
		s := awsfake.New(t)
		s.Setenv(t, usEast)
		isolateMore(t)
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		p := newProvider(t, awssm.Options{})
		_, err := p.ReviewAccess(context.Background(), []inject.Reference{{Scheme: "awssm", Loc: awssm.Ref{ID: "a"}}})
		if inject.CodeOf(err) != inject.CodeAuthFailed || !strings.Contains(err.Error(), "credential chain gave none") {
			t.Errorf("got %v, want AUTH_FAILED with the fixed message", err)
		}
	})
}
