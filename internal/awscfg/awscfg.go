// Package awscfg loads the AWS SDK for Go v2's default configuration for a
// store of n8n-secrets, and reports its failures without the SDK's text
// where credentials flow.
//
// Both AWS stores (providers/awssm, providers/awsssm) load and report
// through it: the region, static keys and the service's endpoint come
// from the caller's Getenv with the SDK's precedence (AWS_REGION before
// AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_<SERVICE> before AWS_ENDPOINT_URL,
// unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS); the rest of the chain
// (profiles, web identity, ECS and EKS Pod Identity container credentials,
// IMDS) is the SDK's own, read when a request first needs credentials.
// Errors of the credential chain are marked, so that a store can tell a
// failure to get credentials from a refused request; they are reported by
// the step that failed, never by the SDK's message, which can quote a
// credential_process's output (keys included).
package awscfg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// CredentialVars are the variables that carry AWS credentials, or hand
// whoever reads them the identity this process uses: static keys (and the
// aliases the SDK reads), the session token (AWS_SECURITY_TOKEN is its older
// name, which other AWS tools read), the container credentials of ECS and
// EKS Pod Identity, and web identity (IRSA). providers/awssm and
// providers/awsssm export it as their own; awssm's test derives the SDK's
// variables from its source, so that an upgrade that reads a new one is
// classified.
var CredentialVars = []string{
	"AWS_ACCESS_KEY_ID",
	"AWS_ACCESS_KEY",
	"AWS_SECRET_ACCESS_KEY",
	"AWS_SECRET_KEY",
	"AWS_SESSION_TOKEN",
	"AWS_SECURITY_TOKEN",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_ROLE_ARN",
	"AWS_ROLE_SESSION_NAME",
}

// Loaded is a loaded configuration.
type Loaded struct {
	Config aws.Config
	// Endpoint is the endpoint the environment names for the service
	// (AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL), "" when none or
	// when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is set.
	Endpoint string
}

// Load loads the SDK's default configuration. getenv reads the region, the
// static keys and the endpoint; endpointVar is the service's endpoint
// variable ("AWS_ENDPOINT_URL_SSM"). Load reads the shared config files
// but does no network I/O. Errors wrap inject.ErrNotConfigured and never
// quote the files.
func Load(getenv func(string) string, endpointVar string) (Loaded, error) {
	var load []func(*config.LoadOptions) error
	if r := FirstOf(getenv, "AWS_REGION", "AWS_DEFAULT_REGION"); r != "" {
		load = append(load, config.WithRegion(r))
	}
	if id, key := FirstOf(getenv, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"), FirstOf(getenv, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"); id != "" && key != "" {
		load = append(load, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(id, key, getenv("AWS_SESSION_TOKEN"))))
	}
	var l Loaded
	if !isTrue(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
		l.Endpoint = FirstOf(getenv, endpointVar, "AWS_ENDPOINT_URL")
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), load...)
	if err != nil {
		return l, ConfigFailure(err)
	}
	if cfg.Credentials != nil {
		cfg.Credentials = markedCredentials{cfg.Credentials, providerStep(cfg.Credentials)}
	}
	l.Config = cfg
	return l, nil
}

// FirstOf returns the first of the variables names that is set.
func FirstOf(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

func isTrue(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// markedCredentials marks the errors of a credentials provider, so that a
// failure to get credentials is told apart from a failed request, and
// knows which step of the chain the configuration chose.
type markedCredentials struct {
	aws.CredentialsProvider
	step string
}

func (m markedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := m.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, &credentialsError{err, m.step}
	}
	return c, nil
}

// providerSteps name the providers the SDK's chain may choose.
var providerSteps = []struct {
	target aws.CredentialsProvider
	step   string
}{
	{(*endpointcreds.Provider)(nil), "the container credentials endpoint (ECS task role, EKS Pod Identity)"},
	{(*processcreds.Provider)(nil), "the profile's credential_process"},
	{(*stscreds.WebIdentityRoleProvider)(nil), "assuming the role with web identity (IRSA: AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE)"},
	{(*stscreds.AssumeRoleProvider)(nil), "assuming the profile's role_arn with STS"},
	{(*ssocreds.Provider)(nil), "AWS IAM Identity Center (SSO) login"},
	{(*ec2rolecreds.Provider)(nil), "the EC2 instance role (IMDS)"},
}

// providerStep names the provider the configuration's chain chose, or "".
func providerStep(p aws.CredentialsProvider) string {
	for _, s := range providerSteps {
		if aws.IsCredentialsProvider(p, s.target) {
			return s.step
		}
	}
	return ""
}

type credentialsError struct {
	err  error
	step string // the provider the chain chose, if known
}

func (e *credentialsError) Error() string { return e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// IsCredentialsError reports whether err is a failure of the credential
// chain of a configuration from Load.
func IsCredentialsError(err error) bool {
	return ChainError(err) != nil
}

// ChainError returns the credential chain's own error that err wraps, or
// nil when err is not a failure of the credential chain of a configuration
// from Load. Unlike err, it does not carry the provider Load saw the chain
// choose: CredentialFailure(ChainError(err)) names the step from the
// error's types alone (providers/awssm's messages).
func ChainError(err error) error {
	var ce *credentialsError
	if errors.As(err, &ce) {
		return ce.err
	}
	return nil
}

// CredentialFailure describes a failure to get credentials: an endpoint
// that answered with a server fault or throttling is worth another attempt
// (inject.ErrUnavailable); anything else (no credentials anywhere in the
// chain, a container endpoint or STS refusing, nothing listening) is an
// authentication failure (inject.ErrAuth), which fails at once instead of
// waiting for the deadline. The text names the step of the chain that
// failed, from the type of the error, and AWS's error code if any; never the
// SDK's message.
func CredentialFailure(err error) error {
	step := CredentialStep(err)
	code := APICode(err)
	detail := step
	if code != "" {
		detail += " (" + code + ")"
	}
	var ae smithy.APIError
	if s := HTTPStatus(err); s >= 500 || s == 429 || IsThrottle(code) || (errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultServer) {
		return fmt.Errorf("%w: could not get AWS credentials: %s did not answer", inject.ErrUnavailable, detail)
	}
	return fmt.Errorf("%w: could not get AWS credentials: %s failed (the SDK's message is not shown: it may hold credentials)", inject.ErrAuth, detail)
}

// credentialSteps name the SDK's credential providers by package.
var credentialSteps = []struct{ pkg, step string }{
	{"/credentials/processcreds", "the profile's credential_process"},
	{"/credentials/ssocreds", "AWS IAM Identity Center (SSO) login"},
	{"/credentials/logincreds", "the AWS console login session"},
	{"/credentials/stscreds", "assuming the role with STS (web identity / IRSA, or the profile's role_arn)"},
	{"/credentials/endpointcreds", "the container credentials endpoint (ECS task role, EKS Pod Identity)"},
	{"/credentials/ec2rolecreds", "the EC2 instance role (IMDS)"},
	{"/feature/ec2/imds", "the EC2 instance metadata service (IMDS)"},
	{"/service/sts", "STS"},
	{"/service/sso", "AWS IAM Identity Center (SSO)"},
	{"/service/ssooidc", "AWS IAM Identity Center (SSO) token refresh"},
}

// CredentialStep returns which step of the credential chain err comes from,
// judged by the packages of the errors it wraps.
func CredentialStep(err error) string {
	var walk func(error) string
	walk = func(e error) string {
		for e != nil {
			t := reflect.TypeOf(e)
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			for _, s := range credentialSteps {
				if strings.HasSuffix(t.PkgPath(), s.pkg) {
					return s.step
				}
			}
			if j, ok := e.(interface{ Unwrap() []error }); ok {
				for _, inner := range j.Unwrap() {
					if s := walk(inner); s != "" {
						return s
					}
				}
				return ""
			}
			e = errors.Unwrap(e)
		}
		return ""
	}
	if s := walk(err); s != "" {
		return s
	}
	var ce *credentialsError
	if errors.As(err, &ce) && ce.step != "" {
		return ce.step
	}
	if strings.Contains(err.Error(), "no EC2 IMDS role found") || strings.Contains(err.Error(), "failed to refresh cached credentials") {
		return "the SDK's credential chain (no credentials found: environment keys, AWS_PROFILE, web identity, container credentials, IMDS)"
	}
	return "the SDK's credential chain (environment keys, AWS_PROFILE, web identity, container credentials, IMDS)"
}

// ConfigFailure describes a failure to load the SDK's configuration (the
// environment, the shared config and credentials files) without its text,
// which can quote the files; a missing profile is named.
func ConfigFailure(err error) error {
	var nf config.SharedConfigProfileNotExistError
	if errors.As(err, &nf) {
		return fmt.Errorf("%w: the AWS profile %q does not exist in the shared config files (AWS_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE)", inject.ErrNotConfigured, nf.Profile)
	}
	return fmt.Errorf("%w: cannot load the AWS configuration (AWS_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_* settings); the SDK's message is not shown: it may quote the files", inject.ErrNotConfigured)
}

// IsThrottle reports whether an AWS error code means throttling.
func IsThrottle(code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
		"LimitExceededException", "RequestThrottled", "RequestThrottledException", "ProvisionedThroughputExceededException",
		"SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", "BandwidthLimitExceeded":
		return true
	}
	return false
}

// IsAuthCode reports whether an AWS error code means the credentials were
// rejected (unknown, expired, or a bad signature).
func IsAuthCode(code string) bool {
	switch code {
	case "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "ExpiredToken",
		"IncompleteSignature", "IncompleteSignatureException", "MissingAuthenticationToken",
		"MissingAuthenticationTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch", "AuthFailure",
		"RequestExpired", "InvalidAccessKeyId", "InvalidToken":
		return true
	}
	return false
}

// APICode returns the AWS error code err carries, if any.
func APICode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// HTTPStatus returns the HTTP status of the answer err came from, or 0.
func HTTPStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// IsTransport reports whether err is a failure to send the request or
// read its answer (connection refused, a reset, a timeout).
func IsTransport(err error) bool {
	var se *smithyhttp.RequestSendError
	var ne net.Error
	return errors.As(err, &se) || errors.As(err, &ne)
}

// Innermost strips the SDK's and net/http's wrappers off a transport
// error: "dial tcp 127.0.0.1:1: connect: connection refused".
func Innermost(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	var se *smithyhttp.RequestSendError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}

// Trunc shortens s to n bytes for a message.
func Trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// LongLivedKeys reports credentials that are long-lived access keys (an
// access key id starting with AKIA, or keys without a session token that
// never expire) rather than a role's: a copy of such keys works until
// someone deletes them. It asks the credential chain, which has already
// fetched (and cached) the credentials during the run. A failing chain is
// an inject.ErrAuth error with a fixed text.
func LongLivedKeys(ctx context.Context, creds aws.CredentialsProvider) (*inject.AccessFinding, error) {
	if creds == nil {
		return nil, nil
	}
	c, err := creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w: the SDK's credential chain gave none", inject.ErrAuth)
	}
	if !strings.HasPrefix(c.AccessKeyID, "AKIA") && (c.SessionToken != "" || c.CanExpire) {
		return nil, nil
	}
	source := c.Source
	if source == "" {
		source = "the SDK's credential chain"
	}
	source, _, _ = strings.Cut(source, ":") // not the file path of a shared config
	return &inject.AccessFinding{Code: CodeLongLivedKeys,
		Message: fmt.Sprintf("the AWS credentials are long-lived access keys (from %s) rather than a role's temporary credentials", source),
		Hint:    "use a role: IRSA or EKS Pod Identity, an ECS task role, an EC2 instance profile; then no key can leak",
	}, nil
}
