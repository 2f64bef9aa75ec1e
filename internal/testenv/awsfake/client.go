package awsfake

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Config returns an aws.Config for region that sends Secrets Manager calls
// to the Server, signed with the default credential. Everything else (the
// retryer in particular) is the SDK's default.
func (s *Server) Config(region string) aws.Config {
	c := s.Credential()
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		BaseEndpoint: aws.String(s.URL),
	}
}

// Client returns a Secrets Manager client for region built from Config.
func (s *Server) Client(region string, optFns ...func(*secretsmanager.Options)) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(s.Config(region), optFns...)
}

// FastRetries is a client option keeping the SDK's default retry decisions
// (3 attempts; retry on 5xx, throttling codes, connection errors; the retry
// token bucket) but without the sleeps between attempts, so tests of retry
// behavior stay fast.
func FastRetries(o *secretsmanager.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	})
}

// IsolateEnv clears the environment that config.LoadDefaultConfig reads so
// that only what the test sets counts: no credentials, profile, container
// or IMDS lookups, no shared config files.
func IsolateEnv(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_SSM", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
		"AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
	} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// Setenv points config.LoadDefaultConfig at the Server: it isolates the
// environment (IsolateEnv), then sets AWS_REGION, AWS_ENDPOINT_URL_SECRETS_MANAGER
// and the default credential as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
func (s *Server) Setenv(t testing.TB, region string) {
	t.Helper()
	IsolateEnv(t)
	c := s.Credential()
	t.Setenv("AWS_REGION", region)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", s.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", c.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", c.SecretAccessKey)
}
