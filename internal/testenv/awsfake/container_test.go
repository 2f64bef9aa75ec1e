package awsfake_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
)

// containerClient loads the default config the way the product does, with
// credentials from the container endpoint and the endpoint from the env.
func containerClient(t *testing.T, s *awsfake.Server, cc *awsfake.ContainerCredentials) *secretsmanager.Client {
	t.Helper()
	cc.Setenv(t)
	t.Setenv("AWS_REGION", usEast)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", s.URL)
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatalf("LoadDefaultConfig: %v", err)
	}
	return secretsmanager.NewFromConfig(cfg)
}

func TestContainerCredentialsEndToEnd(t *testing.T) {
	s := awsfake.New(t)
	s.AddSecret(usEast, "a", "1")
	cc := s.NewContainerCredentials(t)
	c := containerClient(t, s, cc)
	if !strings.HasPrefix(cc.URL, "http://127.0.0.1:") {
		t.Fatalf("URL %s is not loopback", cc.URL)
	}

	for range 2 {
		out := get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")})
		if aws.ToString(out.SecretString) != "1" {
			t.Errorf("value %q", aws.ToString(out.SecretString))
		}
	}
	// One fetch: the SDK caches credentials until 5 minutes before Expiration.
	if cc.Calls() != 1 {
		t.Errorf("credential endpoint calls = %d, want 1", cc.Calls())
	}
	issued := cc.Issued()
	if len(issued) != 1 {
		t.Fatalf("issued %d credentials", len(issued))
	}
	for _, call := range s.Log() {
		if call.AccessKeyID != issued[0].AccessKeyID || call.Status != 200 {
			t.Errorf("call %+v not made with the issued key %s", call, issued[0].AccessKeyID)
		}
	}
	// Denials name the role session, as for a real task role.
	s.DenySecret(usEast, "a")
	_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")})
	if err == nil || !strings.Contains(err.Error(), "User: arn:aws:sts::123456789012:assumed-role/awsfake-task-role/") {
		t.Errorf("err = %v", err)
	}
}

func TestContainerCredentialsShortTTLRefreshes(t *testing.T) {
	s := awsfake.New(t)
	s.AddSecret(usEast, "a", "1")
	cc := s.NewContainerCredentials(t, awsfake.WithCredentialTTL(2*time.Minute))
	c := containerClient(t, s, cc)
	for range 3 {
		get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")})
	}
	// Expiration inside the SDK's 5 minute window: new credentials every call.
	if cc.Calls() != 3 {
		t.Errorf("credential endpoint calls = %d, want 3", cc.Calls())
	}
	keys := map[string]bool{}
	for _, call := range s.Log() {
		keys[call.AccessKeyID] = true
	}
	if len(keys) != 3 {
		t.Errorf("requests used %d distinct keys, want 3", len(keys))
	}
}

func TestContainerCredentialsFailures(t *testing.T) {
	t.Run("wrong token", func(t *testing.T) {
		s := awsfake.New(t)
		cc := s.NewContainerCredentials(t)
		cc.Setenv(t)
		t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong")
		t.Setenv("AWS_REGION", usEast)
		t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", s.URL)
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			t.Fatal(err) // credentials are fetched lazily, on the first call
		}
		_, err = secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")})
		if err == nil || !strings.Contains(err.Error(), "invalid authorization token") {
			t.Errorf("err = %v", err)
		}
		if s.TotalCalls() != 0 || cc.Calls() != 1 {
			t.Errorf("secretsmanager calls %d, credential calls %d; want 0 and 1 (400 is not retried)", s.TotalCalls(), cc.Calls())
		}
	})
	t.Run("endpoint 500 is retried", func(t *testing.T) {
		s := awsfake.New(t)
		s.AddSecret(usEast, "a", "1")
		cc := s.NewContainerCredentials(t)
		c := containerClient(t, s, cc)
		cc.FailNext(1)
		start := time.Now()
		get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")})
		if cc.Calls() != 2 {
			t.Errorf("credential endpoint calls = %d, want 2", cc.Calls())
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("http FULL_URI must be loopback", func(t *testing.T) {
		awsfake.IsolateEnv(t)
		t.Setenv("AWS_REGION", usEast)
		// An IP literal is checked without any lookup or connection.
		t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.10/v2/credentials")
		_, err := config.LoadDefaultConfig(ctx)
		if err == nil || !strings.Contains(err.Error(), "only loopback/ecs/eks hosts are allowed") {
			t.Errorf("err = %v", err)
		}
	})
}
