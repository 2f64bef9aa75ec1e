// Package azkvfake is a test server for Azure Key Vault secrets and for the
// Microsoft Entra ID token endpoint. It is not Azure: it keeps its data in
// memory, serves it on a loopback HTTPS listener with a certificate from a
// test CA it generates, and exists so that code using the official Azure SDK
// for Go (azsecrets with azidentity) can be tested end to end without Azure.
//
// # How a client reaches it
//
// The fake answers for the real host names of Azure's clouds, so that the
// code under test builds the same URLs it builds in production:
// <vault>.vault.azure.net and login.microsoftonline.com (public cloud),
// <vault>.vault.azure.cn and login.chinacloudapi.cn (China),
// <vault>.vault.usgovcloudapi.net and login.microsoftonline.us (US
// Government), and a private cloud of its own, <vault>.vault.azkvfake.test
// and login.azkvfake.test (see [PrivateCloud]), which stands for a cloud
// that Entra's instance discovery does not know. [Server.Transport] returns
// the test hook: an *http.Transport that trusts the fake's CA and dials the
// fake for those host names (any other host fails to dial, as an unreachable
// one does), and no proxy.
//
// # Key Vault (the data plane, as azsecrets speaks it)
//
//   - GET /secrets/{name}[/{version}] (Get Secret), GET /secrets/{name}/versions
//     (Get Secret Versions), GET /secrets (Get Secrets) and PUT /secrets/{name}
//     (Set Secret). Every request must carry an api-version query parameter
//     that Key Vault knows ([APIVersions]); otherwise 400 BadParameter.
//   - Challenge-based authentication: a request without a bearer token gets
//     401 with WWW-Authenticate: Bearer authorization="<authority>/<tenant>",
//     resource="https://<vault DNS suffix>", as Key Vault answers (the public
//     cloud names login.windows.net, as Key Vault does). A token is checked
//     for its audience (the resource), its tenant (the vault's) and its expiry:
//     401 Unauthorized otherwise, with the challenge again.
//   - Authorization as Azure RBAC does it: a client needs the role's data
//     action on the vault or on the secret ([Server.Grant] with
//     [ActionGetSecret], Key Vault Secrets User's getSecret, and
//     [ActionReadMetadata], its readMetadata, for the listings); otherwise 403
//     Forbidden with the inner error ForbiddenByRbac.
//   - Errors in Key Vault's shape: {"error":{"code":…,"message":…}} with
//     innererror where Key Vault sends one: 404 SecretNotFound, 403 Forbidden
//     (ForbiddenByRbac, SecretDisabled for a disabled version: Key Vault's
//     "Operation get is not allowed on a disabled secret."), 401
//     Unauthorized, 400 BadParameter, 429 Throttled with Retry-After.
//   - Secrets have versions (32 hex digits), attributes (enabled, created,
//     updated, as Unix seconds) and content types; the latest version is
//     the one created last. Listings page with nextLink (absolute URLs that
//     carry the api-version and a $skiptoken, as Key Vault's do), at most
//     maxresults items a page (default and maximum 25); they return ids and
//     attributes, never values.
//
// # Entra ID (the token endpoint, as MSAL speaks it)
//
//   - GET /{tenant}/v2.0/.well-known/openid-configuration (tenant discovery,
//     which MSAL asks before its first token; 400 invalid_tenant for a tenant
//     it does not know) and GET /common/discovery/instance on
//     login.microsoftonline.com (instance discovery, which MSAL asks before
//     its first token unless azidentity's DisableInstanceDiscovery is set:
//     the fake answers as Entra does, with metadata for Azure's authority
//     hosts and 400 invalid_instance for any other).
//   - POST /{tenant}/oauth2/v2.0/token with grant_type=client_credentials and
//     scope "<resource>/.default" (plus OpenID scopes), authenticated by a
//     client secret ([Server.AddClientSecret]) or by a client assertion: a
//     Kubernetes service-account token for workload identity, checked against
//     the app's federated credential (issuer, subject, audience
//     api://AzureADTokenExchange, RS256 signature by the fake's issuer key,
//     [Server.ServiceAccountToken] mints one). Errors are OAuth's JSON
//     ({"error":…,"error_description":"AADSTS…","error_codes":[…]}): 401
//     invalid_client for a wrong secret or assertion, 400 unauthorized_client
//     for an unknown app, 400 invalid_request for an unknown tenant.
//   - Access tokens are opaque random strings, not signed JWTs: no SDK reads
//     them, and the fake checks them by lookup.
//
// Not covered: managed identity endpoints (IMDS, App Service), client
// certificates, the management plane (ARM), deleted-secret operations,
// Managed HSM, CAE claims challenges, and Key Vault's eventual quirks (empty
// pages with a nextLink). On top of the protocol the Server offers what tests
// need: data helpers (SetSecret, DisableVersion, …), fault injection (throttle
// or fail the next requests, of the vault or of the token endpoint), and a
// log of every request ([Server.Calls]).
package azkvfake
