package azkvfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The data actions of Azure RBAC that the fake checks. Key Vault Secrets
// User has both; Key Vault Reader has only readMetadata.
const (
	ActionGetSecret    = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
	ActionReadMetadata = "Microsoft.KeyVault/vaults/secrets/readMetadata/action"
	ActionSetSecret    = "Microsoft.KeyVault/vaults/secrets/setSecret/action"
)

// maxPage is Key Vault's largest (and default) page of a listing.
const maxPage = 25

type vault struct {
	name, tenant string
	secrets      map[string]*secret
	order        []string // secret names, by creation
}

type secret struct {
	name     string
	versions []*version // oldest first; the last is the latest
}

type version struct {
	id, value, contentType string
	enabled                bool
	created, updated       int64
}

type grant struct{ vault, secret, action string } // secret "" is the whole vault

var secretName = regexp.MustCompile(`^[0-9A-Za-z-]{1,127}$`)

// AddVault creates the vault name (if it does not exist) in tenant.
func (s *Server) AddVault(name, tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vaultLocked(name, tenant)
}

func (s *Server) vaultLocked(name, tenant string) *vault {
	v := s.vaults[name]
	if v == nil {
		v = &vault{name: name, tenant: tenant, secrets: map[string]*secret{}}
		s.vaults[name] = v
		s.tenants[tenant] = true
	}
	return v
}

// HasVault reports whether the vault name exists: a vault that does not has
// no DNS name, so that Transport fails to resolve it.
func (s *Server) HasVault(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vaults[name] != nil
}

// SetSecret adds a new version holding value to the secret name of vault
// (created in DefaultTenant if needed) and returns its version id.
func (s *Server) SetSecret(vaultName, name, value string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setLocked(s.vaultLocked(vaultName, DefaultTenant), name, value, "", true).id
}

func (s *Server) setLocked(v *vault, name, value, contentType string, enabled bool) *version {
	sec := v.secrets[name]
	if sec == nil {
		sec = &secret{name: name}
		v.secrets[name] = sec
		v.order = append(v.order, name)
	}
	now := s.now().Unix()
	ver := &version{id: newID(16), value: value, contentType: contentType, enabled: enabled, created: now, updated: now}
	sec.versions = append(sec.versions, ver)
	return ver
}

// SetEnabled enables or disables a version of a secret ("" for the latest).
func (s *Server) SetEnabled(vaultName, name, versionID string, enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vaults[vaultName]
	if v == nil || v.secrets[name] == nil {
		s.t.Fatalf("azkvfake: SetEnabled: no secret %s in vault %s", name, vaultName)
	}
	vs := v.secrets[name].versions
	for _, ver := range vs {
		if ver.id == versionID || (versionID == "" && ver == vs[len(vs)-1]) {
			ver.enabled = enabled
			ver.updated = s.now().Unix()
			return
		}
	}
	s.t.Fatalf("azkvfake: SetEnabled: no version %s of %s", versionID, name)
}

// DeleteSecret deletes the secret name of a vault with all its versions.
func (s *Server) DeleteSecret(vaultName, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.vaults[vaultName]; v != nil {
		delete(v.secrets, name)
		v.order = slices.DeleteFunc(v.order, func(n string) bool { return n == name })
	}
}

// Grant gives clientID the data actions on a vault's secret (secret "" for
// the whole vault), as a role assignment at that scope does.
func (s *Server) Grant(clientID, vaultName, secretName string, actions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range actions {
		s.grants[clientID] = append(s.grants[clientID], grant{vault: vaultName, secret: secretName, action: a})
	}
}

// GrantSecretsUser assigns clientID the role Key Vault Secrets User on the
// whole vault: getSecret and readMetadata.
func (s *Server) GrantSecretsUser(clientID, vaultName string) {
	s.Grant(clientID, vaultName, "", ActionGetSecret, ActionReadMetadata)
}

// RevokeAll removes every grant of clientID.
func (s *Server) RevokeAll(clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.grants, clientID)
}

func (s *Server) allowedLocked(clientID, vaultName, secretName, action string) bool {
	for _, g := range s.grants[clientID] {
		if g.vault == vaultName && g.action == action && (g.secret == "" || g.secret == secretName) {
			return true
		}
	}
	return false
}

// kvError answers an error in Key Vault's shape.
func kvError(w http.ResponseWriter, c *Call, status int, code, inner, msg string) {
	c.Code = code
	e := map[string]any{"code": code, "message": msg}
	if inner != "" {
		e["innererror"] = map[string]any{"code": inner}
		c.Code = code + "/" + inner
	}
	writeJSON(w, status, map[string]any{"error": e})
}

// challenge answers 401 with Key Vault's authentication challenge.
func challenge(w http.ResponseWriter, c *Call, cloud Cloud, tenant, msg string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization="https://%s/%s", resource="%s"`, cloud.ChallengeHost, tenant, cloud.Resource()))
	kvError(w, c, http.StatusUnauthorized, "Unauthorized", "", msg)
}

// serveVault answers the data plane of the vault name in cloud.
func (s *Server) serveVault(w http.ResponseWriter, r *http.Request, cloud Cloud, name string, c *Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vaults[name]
	if v == nil {
		// Unreachable through Transport, which cannot resolve it.
		http.Error(w, "no such vault", http.StatusMisdirectedRequest)
		return
	}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if segs[0] != "secrets" || len(segs) > 3 {
		kvError(w, c, http.StatusNotFound, "NotFound", "", "The requested resource was not found.")
		return
	}
	// The operation, its action and the secret it concerns.
	var op, action, sname, ver string
	switch {
	case r.Method == http.MethodGet && len(segs) == 1:
		op, action = "GetSecrets", ActionReadMetadata
	case r.Method == http.MethodGet && len(segs) == 3 && segs[2] == "versions":
		op, action, sname = "GetSecretVersions", ActionReadMetadata, segs[1]
	case r.Method == http.MethodGet && len(segs) >= 2:
		op, action, sname = "GetSecret", ActionGetSecret, segs[1]
		if len(segs) == 3 {
			ver = segs[2]
		}
	case r.Method == http.MethodPut && len(segs) == 2:
		op, action, sname = "SetSecret", ActionSetSecret, segs[1]
	default:
		kvError(w, c, http.StatusMethodNotAllowed, "BadParameter", "", "The requested method is not allowed on this resource.")
		return
	}
	c.Op = op

	av := r.URL.Query().Get("api-version")
	switch {
	case av == "":
		kvError(w, c, http.StatusBadRequest, "BadParameter", "", "The request is missing the required api-version query parameter.")
		return
	case !slices.Contains(APIVersions, av):
		kvError(w, c, http.StatusBadRequest, "BadParameter", "", fmt.Sprintf("The specified version (%s) is not recognized. Consider using the latest supported version (%s).", av, APIVersions[len(APIVersions)-1]))
		return
	}

	authz := r.Header.Get("Authorization")
	scheme, at, _ := strings.Cut(authz, " ")
	if authz == "" || !strings.EqualFold(scheme, "Bearer") || at == "" {
		challenge(w, c, cloud, v.tenant, "AKV10000: Request is missing a Bearer or PoP token.")
		return
	}
	c.Auth = true
	tok := s.tokens[at]
	switch {
	case tok == nil:
		challenge(w, c, cloud, v.tenant, "Invalid token: the bearer token is not one Entra ID issued.")
		return
	case !tok.expires.After(s.now()):
		c.ClientID = tok.clientID
		challenge(w, c, cloud, v.tenant, "Token is expired.")
		return
	case tok.audience != cloud.Resource() || tok.authority != cloud.AuthorityHost:
		c.ClientID = tok.clientID
		challenge(w, c, cloud, v.tenant, fmt.Sprintf("AKV10022: Invalid audience. Expected %s, found: %s.", cloud.Resource(), tok.audience))
		return
	case tok.tenant != v.tenant:
		c.ClientID = tok.clientID
		challenge(w, c, cloud, v.tenant, fmt.Sprintf("AKV10032: Invalid issuer. Expected one of https://sts.windows.net/%s/, found https://sts.windows.net/%s/.", v.tenant, tok.tenant))
		return
	}
	c.ClientID = tok.clientID

	if f := s.takeFault(TargetVault); f != nil {
		if f.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
			kvError(w, c, f.status, "Throttled", "", "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached")
			return
		}
		kvError(w, c, f.status, "ServiceUnavailable", "", "The service is temporarily unavailable. Please try again later.")
		return
	}
	if sname != "" && !secretName.MatchString(sname) {
		kvError(w, c, http.StatusBadRequest, "BadParameter", "", "The request URI contains an invalid name: "+sname)
		return
	}
	if !s.allowedLocked(tok.clientID, name, sname, action) {
		kvError(w, c, http.StatusForbidden, "Forbidden", "ForbiddenByRbac",
			fmt.Sprintf("Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=%s;iss=https://sts.windows.net/%s/\r\nAction: '%s'\r\nResource: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/azkvfake/providers/microsoft.keyvault/vaults/%s%s'\r\nAssignment: (not found)\r\nDecisionReason: 'DeniedWithNoValidRBAC'",
				tok.clientID, tok.tenant, action, name, secretScope(sname)))
		return
	}
	base := "https://" + c.Host
	switch op {
	case "GetSecrets":
		var items []map[string]any
		for _, n := range v.order {
			vs := v.secrets[n].versions
			items = append(items, map[string]any{"id": base + "/secrets/" + n, "attributes": attributes(vs[len(vs)-1]), "contentType": nonEmpty(vs[len(vs)-1].contentType)})
		}
		s.page(w, r, c, items, "/secrets")
	case "GetSecretVersions":
		sec := v.secrets[sname]
		if sec == nil {
			notFound(w, c, sname)
			return
		}
		var items []map[string]any
		for _, ver := range sec.versions {
			items = append(items, map[string]any{"id": base + "/secrets/" + sname + "/" + ver.id, "attributes": attributes(ver), "contentType": nonEmpty(ver.contentType)})
		}
		s.page(w, r, c, items, "/secrets/"+sname+"/versions")
	case "GetSecret":
		sec := v.secrets[sname]
		if sec == nil {
			notFound(w, c, sname)
			return
		}
		var found *version
		if ver == "" {
			found = sec.versions[len(sec.versions)-1]
		}
		for _, x := range sec.versions {
			if ver != "" && strings.EqualFold(x.id, ver) {
				found = x
			}
		}
		if found == nil {
			notFound(w, c, sname+"/"+ver)
			return
		}
		if !found.enabled {
			kvError(w, c, http.StatusForbidden, "Forbidden", "SecretDisabled", "Operation get is not allowed on a disabled secret.")
			return
		}
		writeJSON(w, http.StatusOK, bundle(base, sname, found))
	case "SetSecret":
		var in struct {
			Value       *string `json:"value"`
			ContentType string  `json:"contentType"`
			Attributes  *struct {
				Enabled *bool `json:"enabled"`
			} `json:"attributes"`
		}
		if mt := r.Header.Get("Content-Type"); !strings.HasPrefix(mt, "application/json") {
			kvError(w, c, http.StatusBadRequest, "BadParameter", "", "The request body must be JSON.")
			return
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil || in.Value == nil {
			kvError(w, c, http.StatusBadRequest, "BadParameter", "", "Property value is required.")
			return
		}
		enabled := true
		if in.Attributes != nil && in.Attributes.Enabled != nil {
			enabled = *in.Attributes.Enabled
		}
		writeJSON(w, http.StatusOK, bundle(base, sname, s.setLocked(v, sname, *in.Value, in.ContentType, enabled)))
	}
}

func secretScope(name string) string {
	if name == "" {
		return ""
	}
	return "/secrets/" + name
}

func notFound(w http.ResponseWriter, c *Call, what string) {
	kvError(w, c, http.StatusNotFound, "SecretNotFound", "", fmt.Sprintf("A secret with (name/id) %s was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182", what))
}

func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func attributes(v *version) map[string]any {
	return map[string]any{"enabled": v.enabled, "created": v.created, "updated": v.updated, "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90}
}

func bundle(base, name string, v *version) map[string]any {
	b := map[string]any{"value": v.value, "id": base + "/secrets/" + name + "/" + v.id, "attributes": attributes(v)}
	if v.contentType != "" {
		b["contentType"] = v.contentType
	}
	return b
}

// page answers one page of items, with a nextLink to the rest as Key Vault
// writes it: absolute, with the api-version, a $skiptoken and maxresults.
func (s *Server) page(w http.ResponseWriter, r *http.Request, c *Call, items []map[string]any, path string) {
	q := r.URL.Query()
	size := maxPage
	if m := q.Get("maxresults"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > maxPage {
			kvError(w, c, http.StatusBadRequest, "BadParameter", "", "maxresults must be an integer from 1 to 25.")
			return
		}
		size = n
	}
	start := 0
	if tok := q.Get("$skiptoken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "azkvfake:"))
		if err != nil || err2 != nil || n < 0 || n > len(items) {
			kvError(w, c, http.StatusBadRequest, "BadParameter", "", "The $skiptoken is not valid.")
			return
		}
		start = n
	}
	end := min(start+size, len(items))
	out := map[string]any{"value": items[start:end], "nextLink": nil}
	if items == nil {
		out["value"] = []any{}
	}
	if end < len(items) {
		tok := base64.RawURLEncoding.EncodeToString([]byte("azkvfake:" + strconv.Itoa(end)))
		out["nextLink"] = fmt.Sprintf("https://%s:443%s?api-version=%s&$skiptoken=%s&maxresults=%d", c.Host, path, q.Get("api-version"), tok, size)
	}
	writeJSON(w, http.StatusOK, out)
}
