package awsssm

import (
	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/awscfg"
)

// Variable is one environment variable this store, or the AWS SDK on its
// behalf, reads.
type Variable struct {
	Name       string
	Credential bool // removed from the child unless passed through (CredentialVars)
	Meaning    string
}

// Variables lists what the store reads from the environment: the AWS SDK's
// default configuration, shared with awssm:// (the same names, the same
// meaning), and the endpoint of Systems Manager.
var Variables = []Variable{
	{"AWS_REGION", false, "the region of references without ?region= or an ARN (AWS_DEFAULT_REGION too)"},
	{"AWS_DEFAULT_REGION", false, "the region, when AWS_REGION is unset"},
	{"AWS_ENDPOINT_URL_SSM", false, "the Systems Manager endpoint (a VPC endpoint, a test server); plain http:// only to loopback unless N8N_SECRETS_ALLOW_HTTP"},
	{"AWS_ENDPOINT_URL", false, "the endpoint of every AWS service, when AWS_ENDPOINT_URL_SSM is unset"},
	{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", false, "true: ignore the two above and endpoint_url in the shared config"},
	{"AWS_PROFILE", false, "the profile of the shared config and credentials files"},
	{"AWS_CONFIG_FILE", false, "the shared config file (default ~/.aws/config)"},
	{"AWS_SHARED_CREDENTIALS_FILE", false, "the shared credentials file (default ~/.aws/credentials)"},
	{"AWS_CA_BUNDLE", false, "a PEM file of CAs to trust for AWS endpoints"},
	{"AWS_EC2_METADATA_DISABLED", false, "true: never ask the EC2 instance metadata service (IMDS) for credentials or a region"},
	{"AWS_ACCESS_KEY_ID", true, "static access key (an IAM user's; prefer a role)"},
	{"AWS_ACCESS_KEY", true, "alias of AWS_ACCESS_KEY_ID"},
	{"AWS_SECRET_ACCESS_KEY", true, "its secret"},
	{"AWS_SECRET_KEY", true, "alias of AWS_SECRET_ACCESS_KEY"},
	{"AWS_SESSION_TOKEN", true, "the session token of temporary keys"},
	{"AWS_SECURITY_TOKEN", true, "the session token's older name (read by other AWS tools)"},
	{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", true, "the ECS task role's credentials endpoint (set by ECS)"},
	{"AWS_CONTAINER_CREDENTIALS_FULL_URI", true, "a container credentials endpoint (EKS Pod Identity, set by its agent)"},
	{"AWS_CONTAINER_AUTHORIZATION_TOKEN", true, "the token that endpoint requires"},
	{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", true, "a file holding that token (EKS Pod Identity)"},
	{"AWS_WEB_IDENTITY_TOKEN_FILE", true, "web identity (IRSA on EKS): the projected service-account token"},
	{"AWS_ROLE_ARN", true, "web identity: the role assumed with that token"},
	{"AWS_ROLE_SESSION_NAME", true, "web identity: the session name"},
}

// OwnedVars are the variables this store reads itself (globs): they are
// never scanned as references. Every AWS_* variable is the SDK's, as for
// awssm://.
var OwnedVars = []string{"AWS_*"}

// CredentialVars are the variables that carry AWS credentials, or hand
// whoever reads them the identity this process uses: removed from the
// child unless passed through. They are awssm://'s: one AWS identity
// serves both stores.
var CredentialVars = awscfg.CredentialVars

// Hints say what to do about a failure of this store, by code.
var Hints = map[inject.Code]string{
	inject.CodeAuthFailed: "check the AWS SDK's credential chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity (IRSA: the service account's eks.amazonaws.com/role-arn annotation), " +
		"EKS Pod Identity, the ECS task role (taskRoleArn), IMDS",
	inject.CodePermissionDenied: "allow ssm:GetParameters on the parameters (arn:aws:ssm:<region>:<account>:parameter/<name>); kms:Decrypt on the key of SecureString parameters " +
		"encrypted with a customer managed key (the AWS managed key aws/ssm needs none); for " + ReferencePrefix + " names, secretsmanager:GetSecretValue on the secrets",
	inject.CodeSecretNotFound: "check the parameter's name (a hierarchy starts with '/'), its region (AWS_REGION, ?region= or the ARN), ?version= and ?label=; " +
		"a parameter shared by another account is read by its full ARN; or add ?optional=true if the variable may be absent",
	inject.CodeNotConfigured: "configure AWS: a region (AWS_REGION or ?region=) and credentials from the SDK's chain; AWS_ENDPOINT_URL_SSM must be https:// (or loopback)",
	inject.CodeProviderUnavailable: "Parameter Store did not answer before the deadline: check the network path to ssm.<region>.amazonaws.com (or the VPC endpoint com.amazonaws.<region>.ssm), " +
		"or raise N8N_SECRETS_TIMEOUT; under throttling (ThrottlingException), enable Parameter Store's higher throughput",
	inject.CodeBadData: "a Secrets Manager secret with a binary value has no value through Parameter Store: read it with awssm://",
}
