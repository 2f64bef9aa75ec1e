// Package azkv is the store for azkv:// references: secrets in Azure Key
// Vault, read with the Azure SDK for Go (azsecrets) and authenticated by
// azidentity's default credential chain.
//
// A reference names a vault by its name and a secret by its name,
// azkv://<vault-name>/<secret>, at its latest version or at the one
// ?version= pins. The secret's value is the payload, whole: the core applies
// #key and #/pointer selectors to it as JSON.
//
// Credentials come from azidentity's DefaultAzureCredential, in its order:
// the environment (AZURE_TENANT_ID, AZURE_CLIENT_ID with AZURE_CLIENT_SECRET
// or AZURE_CLIENT_CERTIFICATE_PATH), workload identity on AKS
// (AZURE_FEDERATED_TOKEN_FILE, set by the webhook), a managed identity, the
// Azure CLI's login (then the Azure Developer CLI's and PowerShell's). A
// token is fetched on the first request, not by New, and only after Key
// Vault's authentication challenge named the tenant and resource. The cloud
// is Azure's public one unless AZURE_KEYVAULT_DNS_SUFFIX or
// AZURE_AUTHORITY_HOST names another (see [Variables]).
//
// Every request (Key Vault's, Entra ID's, the managed identity endpoint's)
// goes through one transport that refuses plain http:// off loopback (the
// instance metadata service's link-local address excepted, as Azure
// requires) and counts requests. The SDK's own retries are off: the
// resolver retries transient faults under its deadline.
//
// Errors map to the core's sentinels: 404 SecretNotFound, and a disabled
// version, to ErrNotFound; 403 to ErrPermission; 401 and a credential that
// fails to get a token to ErrAuth; 429, 5xx and network errors to
// ErrUnavailable. The SDK's text is never passed on where credentials flow:
// a credential failure names the step of the chain, the host, the HTTP
// status and Entra's error code, not azidentity's message.
package azkv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	azlog "github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Config configures a Provider.
type Config struct {
	// Getenv reads this provider's settings (AZURE_KEYVAULT_DNS_SUFFIX,
	// AZURE_AUTHORITY_HOST, the proxy variables, the managed identity
	// endpoints it checks). azidentity's chain reads the process
	// environment itself, as main's Getenv does. nil means os.Getenv.
	Getenv func(string) string
	// SecretsDir is the secrets directory. This store reads no file of
	// its own there (azidentity reads the files its variables name).
	SecretsDir string
	// AllowHTTP permits plain http:// off loopback (N8N_SECRETS_ALLOW_HTTP).
	AllowHTTP bool
	// Logger receives the provider's events; nil discards.
	Logger *slog.Logger

	// BaseTransport is a test hook: the HTTP transport under the
	// provider's checks. nil in production, where the provider builds its
	// own. Tests pass azkvfake's, which trusts the fake's test CA and dials
	// the fake for Azure's host names.
	BaseTransport *http.Transport
}

// Provider reads secrets from Azure Key Vault. It is safe for concurrent
// use.
type Provider struct {
	set       settings
	getenv    func(string) string
	transport *transport
	cred      azcore.TokenCredential
	log       *slog.Logger

	mu      sync.Mutex
	clients map[string]*vaultClient // by vault name
}

// vaultClient is the azsecrets client of one vault. Key Vault's challenge
// (the first, unauthenticated request of a client, answered 401) names the
// tenant and resource; until one request of the client has been answered,
// others wait for it, so that N secrets of a vault cost one challenge, not
// N.
type vaultClient struct {
	c      *azsecrets.Client
	primed bool
	gate   chan struct{} // closed when the first request returns
}

// New returns a provider for the environment's cloud and credentials. It
// does no network I/O (a token is fetched on the first request); it reads
// the files azidentity's environment credential names (a client
// certificate). Errors wrap inject.ErrNotConfigured and name the variable.
func New(c Config) (*Provider, error) {
	getenv := c.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	set, err := readSettings(getenv)
	if err != nil {
		return nil, fmt.Errorf("azkv: %w", err)
	}
	// azcore turns its own logging to stderr on when AZURE_SDK_GO_LOGGING
	// is "all" (at its init): its lines would break the JSON log. Off.
	azlog.SetListener(nil)
	for _, name := range []string{"IDENTITY_ENDPOINT", "MSI_ENDPOINT"} {
		if v := getenv(name); v != "" {
			if err := inject.CheckEndpoint(v, c.AllowHTTP, name); err != nil {
				return nil, fmt.Errorf("azkv: %w", err)
			}
		}
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Provider{set: set, getenv: getenv, log: log, clients: map[string]*vaultClient{}}
	p.transport = newTransport(c.BaseTransport, getenv, c.AllowHTTP)
	dac, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
		ClientOptions:            p.clientOptions(),
		DisableInstanceDiscovery: !set.discovery,
	})
	if err != nil {
		// Its text quotes AZURE_TOKEN_CREDENTIALS's value.
		return nil, fmt.Errorf("azkv: %w: azidentity refused its configuration (AZURE_TOKEN_CREDENTIALS must be prod, dev or a credential's name, such as WorkloadIdentityCredential)", inject.ErrNotConfigured)
	}
	p.cred = &trackedCredential{inner: dac, p: p}
	return p, nil
}

// clientOptions are the azcore options of every client: the provider's
// transport, the cloud's authority, no retries (the resolver's), no
// telemetry beyond the User-Agent.
func (p *Provider) clientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: p.set.authority},
		Transport: p.transport,
		Retry:     policy.RetryOptions{MaxRetries: -1},
		Telemetry: policy.TelemetryOptions{ApplicationID: "n8n-secrets"},
	}
}

// Requests returns how many requests the provider sent: to Key Vault
// (challenges included), to Entra ID and to a managed identity endpoint.
func (p *Provider) Requests() int64 { return p.transport.sent.Load() }

// client returns the vault's client, once it may send: the first caller
// goes at once and must call done when its request returned; the others
// wait for that (or ctx).
func (p *Provider) client(ctx context.Context, vault string) (c *azsecrets.Client, done func(), err error) {
	for {
		p.mu.Lock()
		vc := p.clients[vault]
		if vc == nil {
			ac, err := azsecrets.NewClient(p.set.vaultURL(vault), p.cred, &azsecrets.ClientOptions{ClientOptions: p.clientOptions()})
			if err != nil {
				p.mu.Unlock()
				return nil, nil, fmt.Errorf("%w: the Azure SDK refused the vault's URL", inject.ErrNotConfigured)
			}
			vc = &vaultClient{c: ac}
			p.clients[vault] = vc
		}
		switch {
		case vc.primed:
			p.mu.Unlock()
			return vc.c, func() {}, nil
		case vc.gate == nil:
			gate := make(chan struct{})
			vc.gate = gate
			p.mu.Unlock()
			return vc.c, func() {
				p.mu.Lock()
				vc.primed, vc.gate = true, nil
				p.mu.Unlock()
				close(gate)
			}, nil
		default:
			gate := vc.gate
			p.mu.Unlock()
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
	}
}

// FetchRef reads the secret r names, at its pinned version or the latest.
// Errors follow inject.Provider's contract and start with "azkv: get
// <vault>/<secret>".
func (p *Provider) FetchRef(ctx context.Context, r Ref) (inject.Payload, error) {
	c, done, err := p.client(ctx, r.Vault)
	if err != nil {
		return inject.Payload{}, p.classify(ctx, "get", r, err)
	}
	resp, err := c.GetSecret(ctx, r.Name, r.VersionID, nil)
	done()
	if err != nil {
		return inject.Payload{}, p.classify(ctx, "get", r, err)
	}
	if resp.Value == nil {
		return inject.Payload{}, fmt.Errorf("azkv: get %s: %w: Key Vault's answer holds no value", r.Path(), inject.ErrBadData)
	}
	version := ""
	if resp.ID != nil {
		version = resp.ID.Version()
	}
	return inject.Payload{Value: inject.NewSecret([]byte(*resp.Value)), Version: version}, nil
}

// trackedCredential is the chain as the clients see it: each token
// acquisition carries a recorder of what its requests met, and a failure
// becomes a *credError whose text is the provider's, never azidentity's.
type trackedCredential struct {
	inner azcore.TokenCredential
	p     *Provider
}

func (c *trackedCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	rec := &recorder{}
	tok, err := c.inner.GetToken(withRecorder(ctx, rec), opts)
	if err == nil {
		return tok, nil
	}
	if ctx.Err() != nil {
		return tok, fmt.Errorf("no token before the deadline: %w", ctx.Err())
	}
	return tok, c.p.credentialFailure(err, rec, opts.TenantID)
}

// credError is a failure to get a token, classified, with the provider's
// own text.
type credError struct {
	sentinel error
	msg      string
}

func (e *credError) Error() string { return e.msg }
func (e *credError) Unwrap() error { return e.sentinel }

// NonRetriable marks the error for azcore: retrying is the resolver's.
func (e *credError) NonRetriable() {}

// credentialFailure classifies a failure of the chain from what its
// requests met and the type of the error, never from its text (azidentity
// quotes the token endpoint's answer, and MSAL a token response it could
// not decode: an access token).
func (p *Provider) credentialFailure(err error, rec *recorder, tenant string) error {
	step := p.credentialStep()
	if own := p.getenv("AZURE_TENANT_ID"); !rec.any() && tenant != "" && own != "" && !strings.EqualFold(tenant, own) && codeToken(tenant) != "" {
		return &credError{inject.ErrAuth, fmt.Sprintf("%s: the vault belongs to the tenant %s, the credential is configured for another (AZURE_TENANT_ID): use an identity of the vault's tenant, or add that tenant to AZURE_ADDITIONALLY_ALLOWED_TENANTS if the app is multi-tenant",
			inject.ErrAuth, tenant)}
	}
	var afe *azidentity.AuthenticationFailedError
	failed := errors.As(err, &afe)
	if failed && afe.RawResponse != nil {
		res := afe.RawResponse
		host := ""
		if res.Request != nil {
			host = res.Request.URL.Hostname()
		}
		detail := fmt.Sprintf("HTTP %d", res.StatusCode)
		if code := entraCode(res); code != "" {
			detail += " " + code
		}
		// The instance metadata service answers 404 and 410 while it
		// updates (Azure's guidance: retry).
		imdsBusy := host == imdsHost && (res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusGone)
		if res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusRequestTimeout || imdsBusy {
			return &credError{inject.ErrUnavailable, fmt.Sprintf("%s: could not get a token: %s answered %s", inject.ErrUnavailable, hostOr(host, "the token endpoint"), detail)}
		}
		return &credError{inject.ErrAuth, fmt.Sprintf("%s: could not get a token with %s: %s refused it (%s; azidentity's message is not shown: it may quote credentials)",
			inject.ErrAuth, step, hostOr(host, "the token endpoint"), detail)}
	}
	if e, ok := rec.last(); ok && e.err != nil && (failed || !e.imds) {
		var refused *refusedError
		if errors.As(e.err, &refused) {
			return &credError{inject.ErrNotConfigured, refused.Error()}
		}
		return &credError{inject.ErrUnavailable, fmt.Sprintf("%s: could not get a token: %s did not answer (%s)", inject.ErrUnavailable, e.host, trunc(innermost(e.err).Error(), 200))}
	}
	if e, ok := rec.last(); ok && (e.status >= 500 || e.status == http.StatusTooManyRequests) {
		return &credError{inject.ErrUnavailable, fmt.Sprintf("%s: could not get a token: %s answered HTTP %d", inject.ErrUnavailable, e.host, e.status)}
	}
	if e, ok := rec.last(); ok && failed && e.status >= 400 {
		detail := fmt.Sprintf("HTTP %d", e.status)
		if e.code != "" {
			detail += " " + e.code
		}
		return &credError{inject.ErrAuth, fmt.Sprintf("%s: could not get a token with %s: %s refused it (%s; azidentity's message is not shown: it may quote credentials)",
			inject.ErrAuth, step, e.host, detail)}
	}
	if failed {
		return &credError{inject.ErrAuth, fmt.Sprintf("%s: could not get a token with %s (azidentity's message is not shown: it may quote credentials)", inject.ErrAuth, step)}
	}
	return &credError{inject.ErrAuth, fmt.Sprintf("%s: no credential of azidentity's default chain is available: "+
		"set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH), use AKS workload identity or a managed identity, or az login", inject.ErrAuth)}
}

// credentialStep names the credential of the chain that the environment
// configures first, in the chain's order.
func (p *Provider) credentialStep() string {
	has := func(n string) bool { return p.getenv(n) != "" }
	only := p.getenv("AZURE_TOKEN_CREDENTIALS")
	env := has("AZURE_TENANT_ID") && has("AZURE_CLIENT_ID")
	switch {
	case only == "" || only == "prod" || only == "EnvironmentCredential":
		switch {
		case env && has("AZURE_CLIENT_SECRET"):
			return "the client secret (EnvironmentCredential: AZURE_CLIENT_SECRET)"
		case env && has("AZURE_CLIENT_CERTIFICATE_PATH"):
			return "the client certificate (EnvironmentCredential: AZURE_CLIENT_CERTIFICATE_PATH)"
		case env && has("AZURE_USERNAME"):
			return "the username and password (EnvironmentCredential: AZURE_USERNAME)"
		}
		fallthrough
	case only == "WorkloadIdentityCredential":
		if env && has("AZURE_FEDERATED_TOKEN_FILE") {
			return "workload identity (WorkloadIdentityCredential: AZURE_FEDERATED_TOKEN_FILE)"
		}
	}
	if only == "dev" || only == "AzureCLICredential" {
		return "the Azure CLI's login (AzureCLICredential)"
	}
	return "a managed identity or a developer login (ManagedIdentityCredential, AzureCLICredential)"
}

func hostOr(host, alt string) string {
	if host == "" {
		return alt
	}
	return host
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
