package azkv

import "github.com/n8n-secrets/n8n-secrets/inject"

// Variable is one environment variable this store, or the Azure SDK on its
// behalf, reads.
type Variable struct {
	Name       string
	Credential bool // removed from the child unless passed through (CredentialVars)
	Meaning    string
}

// Variables lists every variable that the provider or the Azure SDK
// libraries it links (azidentity, MSAL, azcore, the versions in go.mod) read
// from the environment. A test derives the libraries' list from their
// source, so that an upgrade that reads a new variable fails until it is
// classified here.
var Variables = []Variable{
	// Settings of this provider.
	{"AZURE_KEYVAULT_DNS_SUFFIX", false, "the Key Vault DNS suffix of the cloud (default vault.azure.net; vault.azure.cn for Azure China, vault.usgovcloudapi.net for Azure US Government; host[:port] for a private cloud)"},
	{"AZURE_AUTHORITY_HOST", false, "the Entra ID authority (default https://login.microsoftonline.com/, or the one of the cloud AZURE_KEYVAULT_DNS_SUFFIX names); https:// only"},

	// azidentity's EnvironmentCredential.
	{"AZURE_TENANT_ID", false, "the tenant of the app registration (EnvironmentCredential, workload identity)"},
	{"AZURE_CLIENT_ID", false, "the app (client) id, or the client id of a user-assigned managed identity"},
	{"AZURE_CLIENT_SECRET", true, "a client secret of the app (EnvironmentCredential)"},
	{"AZURE_CLIENT_CERTIFICATE_PATH", true, "a PEM or PKCS#12 file with the app's certificate and private key (EnvironmentCredential)"},
	{"AZURE_CLIENT_CERTIFICATE_PASSWORD", true, "the password of that file"},
	{"AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", false, "true: send the certificate chain (subject name/issuer authentication)"},
	{"AZURE_USERNAME", true, "a user's name, with AZURE_PASSWORD (EnvironmentCredential; deprecated by Microsoft, fails with MFA)"},
	{"AZURE_PASSWORD", true, "that user's password"},
	// Workload identity on AKS (set by the webhook).
	{"AZURE_FEDERATED_TOKEN_FILE", true, "the projected service-account token of AKS workload identity (set by its webhook)"},
	// The chain as a whole.
	{"AZURE_TOKEN_CREDENTIALS", false, "narrows azidentity's default chain: prod, dev, or one credential's name (such as WorkloadIdentityCredential)"},
	{"AZURE_ADDITIONALLY_ALLOWED_TENANTS", false, "tenants besides AZURE_TENANT_ID a credential may get tokens for"},
	{"AZURE_REGIONAL_AUTHORITY_NAME", false, "a regional Entra endpoint for service principals (MSAL)"},
	{"MSAL_FORCE_REGION", false, "the same, read by MSAL"},
	// Managed identity.
	{"IDENTITY_ENDPOINT", true, "the managed identity endpoint of App Service, Functions, Container Apps, Azure Arc, Service Fabric (plain http:// only to loopback)"},
	{"IDENTITY_HEADER", true, "the secret header that endpoint requires"},
	{"IDENTITY_SERVER_THUMBPRINT", true, "Service Fabric's managed identity server certificate thumbprint"},
	{"IMDS_ENDPOINT", true, "Azure Arc's instance metadata endpoint"},
	{"MSI_ENDPOINT", true, "the managed identity endpoint of Cloud Shell and older App Service (plain http:// only to loopback)"},
	{"MSI_SECRET", true, "the secret header of the older App Service endpoint"},
	{"AZURE_POD_IDENTITY_AUTHORITY_HOST", false, "AAD Pod Identity's replacement for the instance metadata endpoint (retired by Microsoft)"},
	// The SDK's diagnostics.
	{"AZURE_SDK_GO_LOGGING", false, "has no effect: the provider turns the SDK's own logging off (its lines would break the JSON log)"},
}

// OwnedVars are the variables this store reads itself: they are never
// scanned as references (a reference in AZURE_CLIENT_SECRET would reach the
// SDK as a literal). REGION_NAME, which MSAL reads only to detect a region
// when AZURE_REGIONAL_AUTHORITY_NAME=TryAutoDetect, is too generic a name to
// claim.
var OwnedVars = func() []string {
	var names []string
	for _, v := range Variables {
		names = append(names, v.Name)
	}
	return names
}()

// CredentialVars are the variables that carry Azure credentials, or hand
// whoever reads them the identity this process uses (the federated token
// file of workload identity, the managed identity endpoints and their
// secret headers): they are removed from the child unless passed through.
// Identifiers (AZURE_CLIENT_ID, AZURE_TENANT_ID) and settings stay: without
// the secret they authenticate nothing. The instance metadata service of a
// VM or an AKS node (169.254.169.254) is reachable by the child whatever its
// environment says: no variable can hide it.
var CredentialVars = func() []string {
	var names []string
	for _, v := range Variables {
		if v.Credential {
			names = append(names, v.Name)
		}
	}
	return names
}()

// Hints say what to do about a failure of this store, by code.
var Hints = map[inject.Code]string{
	inject.CodeAuthFailed: "check azidentity's default chain: AZURE_TENANT_ID and AZURE_CLIENT_ID with AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH; " +
		"on AKS, workload identity (the pod label azure.workload.identity/use: \"true\" and a service account annotated with azure.workload.identity/client-id); " +
		"a managed identity; or az login. For another cloud, AZURE_AUTHORITY_HOST and AZURE_KEYVAULT_DNS_SUFFIX",
	inject.CodePermissionDenied: "give the identity the role \"Key Vault Secrets User\" on the secret or the vault (Azure RBAC), or, on a vault with access policies, " +
		"secret permissions get and list; check the vault's firewall (networking) too",
	inject.CodeSecretNotFound: "check the vault name, the secret name and ?version=; a disabled version counts as missing; or add ?optional=true if the variable may be absent",
	inject.CodeNotConfigured:  "configure Azure: credentials for azidentity's default chain, and for a cloud other than Azure's public one AZURE_KEYVAULT_DNS_SUFFIX and AZURE_AUTHORITY_HOST",
	inject.CodeProviderUnavailable: "Key Vault or Entra ID did not answer before the deadline: check the vault's network access (firewall, private endpoint, DNS) and Azure's status, " +
		"or raise N8N_SECRETS_TIMEOUT",
}
