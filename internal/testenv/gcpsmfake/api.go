package gcpsmfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// apiRequest is a parsed Secret Manager URL.
type apiRequest struct {
	project, location, secret, version, verb string
	given                                    string // the name as the client wrote it
}

// parseAPIPath parses /v1/projects/<p>[/locations/<l>]/secrets/<s>[/versions/<v>][:verb].
func parseAPIPath(path string) (apiRequest, bool) {
	var a apiRequest
	rest, ok := strings.CutPrefix(path, "/v1/")
	if !ok {
		return a, false
	}
	name, verb, _ := strings.Cut(rest, ":")
	a.verb, a.given = verb, name
	f := strings.Split(name, "/")
	if len(f) < 4 || f[0] != "projects" || f[1] == "" {
		return a, false
	}
	a.project, f = f[1], f[2:]
	if f[0] == "locations" {
		if len(f) < 4 || f[1] == "" {
			return a, false
		}
		a.location, f = f[1], f[2:]
	}
	if len(f) < 2 || f[0] != "secrets" || f[1] == "" {
		return a, false
	}
	a.secret, f = f[1], f[2:]
	switch {
	case len(f) == 0:
	case len(f) == 2 && f[0] == "versions" && f[1] != "":
		a.version = f[1]
	default:
		return a, false
	}
	return a, true
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	a, ok := parseAPIPath(r.URL.Path)
	if !ok {
		// Google's front end answers an unknown URL with an HTML page.
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "<!DOCTYPE html><html><title>Error 404 (Not Found)!!1</title><p>The requested URL was not found on this server.</html>")
		return
	}
	intEnums := strings.Contains(r.URL.Query().Get("$alt"), "enum-encoding=int")

	s.mu.Lock()
	defer s.mu.Unlock()
	principal, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if s.throttle > 0 {
		s.throttle--
		googleError(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED",
			"Quota exceeded for quota metric 'Access requests' and limit 'Access requests per minute per project per region' of service 'secretmanager.googleapis.com' for consumer 'project_number:%s'.", s.number(a.project))
		return
	}
	if s.fail > 0 {
		s.fail--
		googleError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "The service is currently unavailable.")
		return
	}

	type route struct {
		method, verb string
		version      bool
		perm, role   string
	}
	var rt *route
	for _, c := range []route{
		{http.MethodGet, "access", true, "secretmanager.versions.access", RoleAccessor},
		{http.MethodGet, "", true, "secretmanager.versions.get", RoleViewer},
		{http.MethodPost, "addVersion", false, "secretmanager.versions.add", RoleAdmin},
		{http.MethodPost, "enable", true, "secretmanager.versions.enable", RoleAdmin},
		{http.MethodPost, "disable", true, "secretmanager.versions.disable", RoleAdmin},
		{http.MethodPost, "destroy", true, "secretmanager.versions.destroy", RoleAdmin},
	} {
		if c.method == r.Method && c.verb == a.verb && c.version == (a.version != "") {
			rt = &c
			break
		}
	}
	if rt == nil {
		googleError(w, http.StatusNotFound, "NOT_FOUND", "Method not found.")
		return
	}
	number := s.number(a.project)
	secretKey := "projects/" + number + "/secrets/" + a.secret
	if a.location != "" {
		secretKey = "projects/" + number + "/locations/" + a.location + "/secrets/" + a.secret
	}
	// IAM first: without the permission, a secret that does not exist
	// cannot be told from one that does.
	if number == "" || !s.allowed(principal, rt.role, secretKey, "projects/"+number) {
		googleError(w, http.StatusForbidden, "PERMISSION_DENIED",
			"Permission '%s' denied for resource '%s' (or it may not exist).", rt.perm, a.given)
		return
	}
	sec := s.secrets[secretKey]
	if rt.verb == "addVersion" {
		s.serveAddVersion(w, r, secretKey, sec, intEnums)
		return
	}
	if sec == nil {
		if a.version == "latest" {
			googleError(w, http.StatusNotFound, "NOT_FOUND", "Secret [%s] not found or has no versions.", secretKey)
		} else {
			googleError(w, http.StatusNotFound, "NOT_FOUND", "Secret [%s] not found.", secretKey)
		}
		return
	}
	v := sec.lookup(a.version)
	if v == nil {
		if a.version == "latest" {
			googleError(w, http.StatusNotFound, "NOT_FOUND", "Secret [%s] not found or has no versions.", secretKey)
		} else {
			googleError(w, http.StatusNotFound, "NOT_FOUND", "Secret Version [%s/versions/%s] not found.", secretKey, a.version)
		}
		return
	}
	name := secretKey + "/versions/" + strconv.Itoa(v.n)
	switch rt.verb {
	case "access":
		if v.state != Enabled {
			googleError(w, http.StatusBadRequest, "FAILED_PRECONDITION", "Secret Version [%s] is in %s state.", name, v.state)
			return
		}
		crc := int64(crc32.Checksum(v.data, castagnoli))
		if s.corrupt {
			crc ^= 1
		}
		writeJSON(w, map[string]any{"name": name, "payload": map[string]any{
			"data":       base64.StdEncoding.EncodeToString(v.data),
			"dataCrc32c": strconv.FormatInt(crc, 10),
		}})
	case "":
		writeJSON(w, v.resource(name, intEnums))
	default:
		want := map[string]string{"enable": Enabled, "disable": Disabled, "destroy": Destroyed}[rt.verb]
		if v.state == Destroyed && want != Destroyed {
			googleError(w, http.StatusBadRequest, "FAILED_PRECONDITION", "Secret Version [%s] is in DESTROYED state.", name)
			return
		}
		v.state = want
		if want == Destroyed {
			v.data = nil
		}
		writeJSON(w, v.resource(name, intEnums))
	}
}

func (s *Server) serveAddVersion(w http.ResponseWriter, r *http.Request, key string, sec *secret, intEnums bool) {
	if sec == nil {
		googleError(w, http.StatusNotFound, "NOT_FOUND", "Secret [%s] not found.", key)
		return
	}
	var in struct {
		Payload *struct {
			Data       string          `json:"data"`
			DataCrc32c json.RawMessage `json:"dataCrc32c"`
		} `json:"payload"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if json.Unmarshal(body, &in) != nil || in.Payload == nil {
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received.")
		return
	}
	data, err := base64.StdEncoding.DecodeString(in.Payload.Data)
	if err != nil {
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid value at 'payload.data' (TYPE_BYTES), Base64 decoding failed.")
		return
	}
	if len(data) > 64<<10 {
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Secret Payload cannot be larger than 64KiB.")
		return
	}
	crc := false
	if len(in.Payload.DataCrc32c) > 0 {
		n, err := strconv.ParseInt(strings.Trim(string(in.Payload.DataCrc32c), `"`), 10, 64)
		if err != nil {
			googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid value at 'payload.data_crc32c' (TYPE_INT64).")
			return
		}
		if n != int64(crc32.Checksum(data, castagnoli)) {
			googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Checksum mismatch: the data_crc32c does not match the payload data.")
			return
		}
		crc = true
	}
	n := s.addVersion(key, data, crc)
	writeJSON(w, s.secrets[key].versions[n-1].resource(key+"/versions/"+strconv.Itoa(n), intEnums))
}

// lookup returns the version v names: a number, "latest" (the most
// recently created, whatever its state) or an alias.
func (sec *secret) lookup(v string) *version {
	if v == "latest" {
		if len(sec.versions) == 0 {
			return nil
		}
		return sec.versions[len(sec.versions)-1]
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		var ok bool
		if n, ok = sec.aliases[v]; !ok {
			return nil
		}
	}
	if n < 1 || n > len(sec.versions) {
		return nil
	}
	return sec.versions[n-1]
}

// resource is the SecretVersion resource as the API writes it.
func (v *version) resource(name string, intEnums bool) map[string]any {
	m := map[string]any{
		"name":                           name,
		"createTime":                     v.created.Format(time.RFC3339Nano),
		"replicationStatus":              map[string]any{"automatic": map[string]any{}},
		"etag":                           fmt.Sprintf("%q", fmt.Sprintf("%x", v.created.UnixNano())+v.state[:1]),
		"clientSpecifiedPayloadChecksum": v.crc,
	}
	if intEnums {
		m["state"] = stateNumber[v.state]
	} else {
		m["state"] = v.state
	}
	if v.state == Destroyed {
		m["destroyTime"] = v.created.Format(time.RFC3339Nano)
	}
	return m
}

// authenticate checks the bearer token; it writes the 401 itself.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/"`)
		googleError(w, http.StatusUnauthorized, "UNAUTHENTICATED",
			"Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
		return "", false
	}
	t, found := s.tokens[tok]
	if !found || s.revoked[tok] || time.Now().After(t.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		googleError(w, http.StatusUnauthorized, "UNAUTHENTICATED",
			"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
		return "", false
	}
	return t.principal, true
}

// allowed reports whether principal holds role (or admin) on the secret
// or its project. Accessor and viewer are disjoint, as in IAM: the
// accessor role cannot read metadata, the viewer cannot read payloads.
func (s *Server) allowed(principal, role, secretKey, projectKey string) bool {
	g := s.grants[principal]
	for _, res := range []string{secretKey, projectKey} {
		if g[res+" "+role] || g[res+" "+RoleAdmin] {
			return true
		}
	}
	return false
}
