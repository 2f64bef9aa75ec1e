package awscfg_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/awscfg"
)

func isolate(t *testing.T) {
	dir := t.TempDir()
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CA_BUNDLE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestLoadPrecedence(t *testing.T) {
	isolate(t)
	for _, tc := range []struct {
		env            map[string]string
		region, endpnt string
	}{
		{map[string]string{"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1"}, "eu-west-1", ""},
		{map[string]string{"AWS_DEFAULT_REGION": "us-east-1"}, "us-east-1", ""},
		{map[string]string{"AWS_ENDPOINT_URL_SSM": "https://a", "AWS_ENDPOINT_URL": "https://b"}, "", "https://a"},
		{map[string]string{"AWS_ENDPOINT_URL": "https://b"}, "", "https://b"},
		{map[string]string{"AWS_ENDPOINT_URL_SSM": "https://a", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "", ""},
	} {
		l, err := awscfg.Load(func(k string) string { return tc.env[k] }, "AWS_ENDPOINT_URL_SSM")
		if err != nil || l.Config.Region != tc.region || l.Endpoint != tc.endpnt {
			t.Errorf("%v: region %q endpoint %q, %v", tc.env, l.Config.Region, l.Endpoint, err)
		}
	}
	// Static keys from Getenv, with the SDK's aliases; their failures are marked.
	l, err := awscfg.Load(func(k string) string {
		return map[string]string{"AWS_ACCESS_KEY": "AKIAEXAMPLE", "AWS_SECRET_KEY": "s"}[k]
	}, "AWS_ENDPOINT_URL_SSM")
	if err != nil {
		t.Fatal(err)
	}
	c, err := l.Config.Credentials.Retrieve(context.Background())
	if err != nil || c.AccessKeyID != "AKIAEXAMPLE" {
		t.Errorf("aliases: %q, %v", c.AccessKeyID, err)
	}
	// No credentials at all: the error is marked, and reported without its text.
	l, err = awscfg.Load(func(string) string { return "" }, "AWS_ENDPOINT_URL_SSM")
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Config.Credentials.Retrieve(context.Background())
	if !awscfg.IsCredentialsError(err) || !errors.Is(awscfg.CredentialFailure(err), inject.ErrAuth) {
		t.Errorf("no credentials: %v", err)
	}
	t.Setenv("AWS_PROFILE", "missing")
	if _, err := awscfg.Load(func(string) string { return "" }, "AWS_ENDPOINT_URL_SSM"); !errors.Is(err, inject.ErrNotConfigured) {
		t.Errorf("missing profile: %v", err)
	}
}

// TestChainError: a failing chain's own error, without the step Load
// recorded, names the step from its types alone; the marked error names the
// provider the chain chose. Neither quotes the SDK's message.
func TestChainError(t *testing.T) {
	isolate(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://"+addr+"/creds")
	loaded, err := awscfg.Load(func(string) string { return "" }, "AWS_ENDPOINT_URL_SSM")
	if err != nil {
		t.Fatal(err)
	}
	_, err = loaded.Config.Credentials.Retrieve(context.Background())
	chain := awscfg.ChainError(err)
	if chain == nil || awscfg.IsCredentialsError(chain) || !awscfg.IsCredentialsError(err) {
		t.Fatalf("ChainError(%T) = %T", err, chain)
	}
	for _, tc := range []struct {
		err  error
		step string
	}{
		{err, "the container credentials endpoint (ECS task role, EKS Pod Identity) failed"},
		{chain, "the SDK's credential chain (no credentials found: environment keys, AWS_PROFILE, web identity, container credentials, IMDS) failed"},
	} {
		got := awscfg.CredentialFailure(tc.err)
		if !errors.Is(got, inject.ErrAuth) || !strings.Contains(got.Error(), tc.step) || strings.Contains(got.Error(), addr) {
			t.Errorf("%T: %v, want ErrAuth and %q", tc.err, got, tc.step)
		}
	}
	if awscfg.ChainError(errors.New("not the chain's")) != nil || awscfg.ChainError(nil) != nil {
		t.Error("ChainError of an error that is not the chain's: want nil")
	}
}

func TestCredentialFailure(t *testing.T) {
	resp := func(status int) error {
		return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: errors.New("x")}
	}
	if err := awscfg.CredentialFailure(resp(503)); !errors.Is(err, inject.ErrUnavailable) {
		t.Errorf("503: %v", err)
	}
	if err := awscfg.CredentialFailure(resp(403)); !errors.Is(err, inject.ErrAuth) {
		t.Errorf("403: %v", err)
	}
}

func TestLongLivedKeys(t *testing.T) {
	for _, tc := range []struct {
		creds aws.CredentialsProvider
		found bool
	}{
		{credentials.NewStaticCredentialsProvider("AKIAEXAMPLE", "s", ""), true},
		{credentials.NewStaticCredentialsProvider("ASIAEXAMPLE", "s", "token"), false},
		{nil, false},
	} {
		f, err := awscfg.LongLivedKeys(context.Background(), tc.creds)
		if err != nil || (f != nil) != tc.found {
			t.Errorf("%v: %v, %v", tc.creds, f, err)
		}
	}
}
