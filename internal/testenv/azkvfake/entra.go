package azkvfake

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
)

// app is an app registration (a service principal) in a tenant.
type app struct {
	tenant    string
	clientID  string
	secrets   []string
	federated []federated
}

// federated is a federated identity credential of an app.
type federated struct{ issuer, subject string }

// token is an access token the fake issued.
type token struct {
	tenant, clientID, audience, authority string
	expires                               time.Time
}

// AddTenant makes tenant known to the token endpoint.
func (s *Server) AddTenant(tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tenants[tenant] = true
}

// RemoveTenant makes tenant unknown to the token endpoint (a tenant that
// was deleted, or a typo of its id).
func (s *Server) RemoveTenant(tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tenants, tenant)
}

// AddClientSecret registers (or adds a secret to) the app clientID in
// tenant, which must be known.
func (s *Server) AddClientSecret(tenant, clientID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appLocked(tenant, clientID)
	a.secrets = append(a.secrets, secret)
}

// RemoveClientSecrets forgets every secret of clientID: a token request
// with one then fails with invalid_client (a secret expired or deleted).
func (s *Server) RemoveClientSecrets(clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[clientID]; a != nil {
		a.secrets = nil
	}
}

// AddFederatedCredential lets the app clientID in tenant authenticate with
// a service-account token of FederatedIssuer for subject (for AKS workload
// identity, "system:serviceaccount:<namespace>:<name>").
func (s *Server) AddFederatedCredential(tenant, clientID, subject string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appLocked(tenant, clientID)
	a.federated = append(a.federated, federated{issuer: FederatedIssuer, subject: subject})
}

func (s *Server) appLocked(tenant, clientID string) *app {
	s.tenants[tenant] = true
	a := s.apps[clientID]
	if a == nil {
		a = &app{tenant: tenant, clientID: clientID}
		s.apps[clientID] = a
	}
	return a
}

// ServiceAccountToken mints a Kubernetes service-account token (an RS256
// JWT of FederatedIssuer) for subject and audience, valid for ttl, as the
// kubelet projects it into a pod for workload identity.
func (s *Server) ServiceAccountToken(subject, audience string, ttl time.Duration) string {
	now := s.clock()
	header := map[string]string{"alg": "RS256", "typ": "JWT", "kid": "azkvfake"}
	claims := map[string]any{
		"iss": FederatedIssuer, "sub": subject, "aud": []string{audience},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(),
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(header) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, s.issuerKey, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// IssueToken issues an access token for clientID in tenant for the vaults
// of cloud, as the token endpoint would: for tests that call Key Vault
// without azidentity.
func (s *Server) IssueToken(tenant, clientID string, cloud Cloud) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(tenant, clientID, cloud.Resource(), cloud.AuthorityHost)
}

func (s *Server) issueLocked(tenant, clientID, audience, authority string) string {
	at := "azkvfake." + newID(24)
	s.tokens[at] = &token{tenant: tenant, clientID: clientID, audience: audience, authority: authority, expires: s.now().Add(s.tokenTTL)}
	return at
}

// GarbleTokenResponses makes the next n successful token responses
// truncated JSON that holds the access token: a client that quotes what it
// could not decode then quotes a token.
func (s *Server) GarbleTokenResponses(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.garble += n
}

// IssuedTokens returns every access token issued so far, for tests that
// check none reaches an output.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for t := range s.tokens {
		out = append(out, t)
	}
	return out
}

// ExpireTokens makes every access token issued so far expired.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.expires = s.now().Add(-time.Minute)
	}
}

// entraError answers an OAuth error as Entra ID does.
func entraError(w http.ResponseWriter, c *Call, status int, code string, aadsts int, msg string) {
	c.Code = code
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, msg, newGUID(), newGUID(), time.Now().UTC().Format("2006-01-02 15:04:05Z")),
		"error_codes":       []int{aadsts},
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          newGUID(),
		"correlation_id":    newGUID(),
		"error_uri":         fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", aadsts),
	})
}

// serveEntra answers the authority host of cloud.
func (s *Server) serveEntra(w http.ResponseWriter, r *http.Request, cloud Cloud, c *Call) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/common/discovery/instance":
		c.Op = "InstanceDiscovery"
		s.instanceDiscovery(w, r, cloud, c)
	case r.Method == http.MethodGet && len(parts) == 4 && parts[1] == "v2.0" && parts[2] == ".well-known" && parts[3] == "openid-configuration":
		c.Op = "OpenIDConfiguration"
		s.openIDConfiguration(w, cloud, parts[0], c)
	case len(parts) == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "token":
		c.Op = "Token"
		if r.Method != http.MethodPost {
			entraError(w, c, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts POST requests.")
			return
		}
		s.tokenEndpoint(w, r, cloud, parts[0], c)
	default:
		entraError(w, c, http.StatusNotFound, "invalid_request", 900144, "The request path is not one Entra ID serves.")
	}
}

// instanceDiscovery answers as Entra does: metadata for a host of Azure's
// clouds, invalid_instance for any other.
func (s *Server) instanceDiscovery(w http.ResponseWriter, r *http.Request, cloud Cloud, c *Call) {
	if cloud != PublicCloud {
		entraError(w, c, http.StatusNotFound, "invalid_request", 900144, "Instance discovery is served by login.microsoftonline.com.")
		return
	}
	ae := r.URL.Query().Get("authorization_endpoint")
	host := ""
	if rest, ok := strings.CutPrefix(ae, "https://"); ok {
		host, _, _ = strings.Cut(rest, "/")
	}
	known := false
	for _, k := range Clouds {
		if k != PrivateCloud && host == k.AuthorityHost {
			known = true
		}
	}
	if r.URL.Query().Get("api-version") == "" || !known {
		c.Code = "invalid_instance"
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error":             "invalid_instance",
			"error_description": "AADSTS50049: Unknown or invalid instance.",
			"error_codes":       []int{50049},
		})
		return
	}
	tenant := strings.Split(strings.TrimPrefix(ae, "https://"+host+"/"), "/")[0]
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": "https://" + host + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata":                  []any{map[string]any{"preferred_network": host, "preferred_cache": host, "aliases": []string{host}}},
	})
}

func (s *Server) openIDConfiguration(w http.ResponseWriter, cloud Cloud, tenant string, c *Call) {
	s.mu.Lock()
	known := s.tenants[tenant]
	s.mu.Unlock()
	if !known {
		entraError(w, c, http.StatusBadRequest, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
		return
	}
	base := "https://" + cloud.AuthorityHost + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"issuer":                                base + "/v2.0",
		"jwks_uri":                              "https://" + cloud.AuthorityHost + "/" + tenant + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"tenant_region_scope":                   "WW",
		"cloud_instance_name":                   "azkvfake.test",
	})
}

// oidcScopes are the scopes MSAL adds to every request.
var oidcScopes = []string{"openid", "profile", "offline_access"}

func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request, cloud Cloud, tenant string, c *Call) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		entraError(w, c, http.StatusBadRequest, "invalid_request", 900144, "The request body must be application/x-www-form-urlencoded.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		entraError(w, c, http.StatusBadRequest, "invalid_request", 900144, "The request body could not be parsed.")
		return
	}
	f := r.PostForm
	clientID := f.Get("client_id")
	c.ClientID = clientID

	s.mu.Lock()
	defer s.mu.Unlock()
	if ft := s.takeFault(TargetToken); ft != nil {
		c.Code = "temporarily_unavailable"
		writeJSON(w, ft.status, map[string]any{"error": "temporarily_unavailable", "error_description": "AADSTS90033: A transient error has occurred. Please try again.", "error_codes": []int{90033}})
		return
	}
	if !s.tenants[tenant] {
		entraError(w, c, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
		return
	}
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		entraError(w, c, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
		return
	}
	if clientID == "" {
		entraError(w, c, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	a := s.apps[clientID]
	if a == nil || a.tenant != tenant {
		entraError(w, c, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, tenant))
		return
	}
	audience, ok := resourceOf(f.Get("scope"))
	if !ok {
		entraError(w, c, http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
		return
	}
	known := false
	for _, k := range Clouds {
		if k.Resource() == audience && k.AuthorityHost == cloud.AuthorityHost {
			known = true
		}
	}
	if !known {
		entraError(w, c, http.StatusBadRequest, "invalid_resource", 500011, fmt.Sprintf("The resource principal named %s was not found in the tenant named %s.", audience, tenant))
		return
	}
	switch secret, assertion := f.Get("client_secret"), f.Get("client_assertion"); {
	case secret != "" && assertion != "":
		entraError(w, c, http.StatusBadRequest, "invalid_request", 90014, "Only one of client_secret and client_assertion may be sent.")
		return
	case secret != "":
		if !slices.ContainsFunc(a.secrets, func(s string) bool { return subtle.ConstantTimeCompare([]byte(s), []byte(secret)) == 1 }) {
			entraError(w, c, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID))
			return
		}
	case assertion != "":
		if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			entraError(w, c, http.StatusBadRequest, "invalid_request", 50012, "Client assertion type is not supported.")
			return
		}
		if code, msg := s.checkAssertion(a, assertion); code != 0 {
			entraError(w, c, http.StatusUnauthorized, "invalid_client", code, msg)
			return
		}
	default:
		entraError(w, c, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	at := s.issueLocked(tenant, clientID, audience, cloud.AuthorityHost)
	ttl := int(s.tokenTTL / time.Second)
	if s.garble > 0 {
		// A truncated answer, as a middlebox may leave it: the token is
		// in it, the JSON does not end.
		s.garble--
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":%d,"access_token":"%s"`, ttl, at)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": at})
}

// resourceOf returns the resource of a client-credentials scope: exactly
// one "<resource>/.default", beside MSAL's OpenID scopes.
func resourceOf(scope string) (string, bool) {
	var res []string
	for _, sc := range strings.Fields(scope) {
		if slices.Contains(oidcScopes, sc) {
			continue
		}
		r, ok := strings.CutSuffix(sc, "/.default")
		if !ok || r == "" {
			return "", false
		}
		res = append(res, r)
	}
	if len(res) != 1 {
		return "", false
	}
	return res[0], true
}

// checkAssertion checks a workload identity's client assertion against a's
// federated credentials. It returns 0 when it is good, else an AADSTS code
// and message as Entra's.
func (s *Server) checkAssertion(a *app, assertion string) (int, string) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return 50027, "JWT token is invalid or malformed."
	}
	var header struct{ Alg string }
	var claims struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Exp int64           `json:"exp"`
		Nbf int64           `json:"nbf"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		return 50027, "JWT token is invalid or malformed."
	}
	if header.Alg != "RS256" {
		return 5002738, "Invalid JWT token. The algorithm is not supported."
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if claims.Iss != FederatedIssuer || rsa.VerifyPKCS1v15(&s.issuerKey.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return 700211, fmt.Sprintf("No matching federated identity record found for presented assertion issuer '%s'.", claims.Iss)
	}
	now := s.now().Unix()
	if claims.Exp <= now {
		return 700024, "Client assertion is not within its valid time range."
	}
	var aud []string
	if json.Unmarshal(claims.Aud, &aud) != nil {
		var one string
		if json.Unmarshal(claims.Aud, &one) != nil {
			return 50027, "JWT token is invalid or malformed."
		}
		aud = []string{one}
	}
	if !slices.Contains(aud, FederatedAudience) {
		return 700212, "No matching federated identity record found for presented assertion audience."
	}
	for _, f := range a.federated {
		if f.issuer == claims.Iss && f.subject == claims.Sub {
			return 0, ""
		}
	}
	return 70021, fmt.Sprintf("No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'.", claims.Iss, claims.Sub)
}
