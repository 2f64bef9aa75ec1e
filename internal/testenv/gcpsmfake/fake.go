// Package gcpsmfake is a Google Secret Manager for tests, faithful to the
// REST protocol (v1) as clients speak it, with the token services that
// Application Default Credentials call. No emulator of Secret Manager runs
// here, so this stands in for it; its tests drive it with Google's own
// generated REST client (cloud.google.com/go/secretmanager/apiv1,
// NewRESTClient), a test-only import, to show that it answers as the real
// service does.
//
// Three servers, each on its own loopback port:
//
//   - the API (APIURL): GET …/versions/<v>:access and GET …/versions/<v>
//     (get), POST …/secrets/<s>:addVersion and POST …/versions/<v>:enable,
//     :disable, :destroy, for global (projects/<p>/secrets/<s>) and regional
//     (projects/<p>/locations/<l>/secrets/<s>) secrets. Every request must
//     carry "Authorization: Bearer <token>" with a token the fake issued
//     (401 UNAUTHENTICATED otherwise); IAM is checked per secret before
//     existence, as Google does (403 PERMISSION_DENIED "… (or it may not
//     exist)"); errors come in Google's shape,
//     {"error":{"code":…,"message":…,"status":"NOT_FOUND"}}. Versions are
//     numbered from 1 and ENABLED, DISABLED or DESTROYED (accessing a
//     disabled or destroyed one is 400 FAILED_PRECONDITION, "… is in
//     DISABLED state."); "latest" is the most recently created version
//     whatever its state; aliases name versions. Names in answers carry the
//     project number. The payload has data (base64) and dataCrc32c (a
//     decimal string, proto3's int64). "$alt=json;enum-encoding=int", which
//     the generated REST client sends, makes enums numbers. Throttle and
//     FailNext inject 429 RESOURCE_EXHAUSTED and 503 UNAVAILABLE.
//   - the OAuth side (OAuthURL): POST /token takes the JWT-bearer grant of a
//     service-account key (RFC 7523): the assertion's RS256 signature is
//     verified with the public key of the key the test registered, its
//     iss, aud, scope, iat and exp checked; POST /v1/token is Google's STS
//     token exchange (RFC 8693) for workload identity federation: the
//     subject token must be one the test registered for the audience.
//   - the metadata server (MetadataHost, for GCE_METADATA_HOST): GET
//     /computeMetadata/v1/instance/service-accounts/default/token and
//     /computeMetadata/v1/project/project-id, refused (403) without the
//     "Metadata-Flavor: Google" header, as on GKE and Compute Engine.
package gcpsmfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Roles the fake knows, with the permissions of the real ones that
// matter here.
const (
	RoleAccessor = "roles/secretmanager.secretAccessor" // secretmanager.versions.access
	RoleViewer   = "roles/secretmanager.viewer"         // secretmanager.versions.get (and list)
	RoleAdmin    = "roles/secretmanager.admin"          // everything, adding and changing versions included
)

// Version states, with their enum numbers.
const (
	Enabled   = "ENABLED"
	Disabled  = "DISABLED"
	Destroyed = "DESTROYED"
)

var stateNumber = map[string]int{Enabled: 1, Disabled: 2, Destroyed: 3}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	api, oauth, meta *httptest.Server

	mu       sync.Mutex
	projects map[string]string  // project id -> number
	secrets  map[string]*secret // by canonical name projects/<number>[/locations/<l>]/secrets/<s>
	tokens   map[string]token
	revoked  map[string]bool
	keys     map[string]saKey           // by key id
	subjects map[string]subjectToken    // STS subject tokens
	grants   map[string]map[string]bool // principal -> resource -> role
	metaSA   string                     // the metadata server's principal, "" for none
	metaProj string
	throttle int
	fail     int
	corrupt  bool
	delay    time.Duration
	requests []Request
}

// Request is one request the fake received.
type Request struct {
	Server string // "api", "oauth", "metadata"
	Method string
	Path   string
	Status int
}

type secret struct {
	versions []*version
	aliases  map[string]int
}

type version struct {
	n       int
	data    []byte
	state   string
	created time.Time
	crc     bool // the client gave a checksum
}

type token struct {
	principal string
	expires   time.Time
}

// New starts the fake's three servers, stopped when t ends.
func New(t testing.TB) *Server {
	s := &Server{
		projects: map[string]string{}, secrets: map[string]*secret{}, tokens: map[string]token{},
		revoked: map[string]bool{}, keys: map[string]saKey{}, subjects: map[string]subjectToken{}, grants: map[string]map[string]bool{},
	}
	s.api = httptest.NewServer(s.logged("api", http.HandlerFunc(s.serveAPI)))
	s.oauth = httptest.NewServer(s.logged("oauth", http.HandlerFunc(s.serveOAuth)))
	s.meta = httptest.NewServer(s.logged("metadata", http.HandlerFunc(s.serveMetadata)))
	t.Cleanup(func() { s.api.Close(); s.oauth.Close(); s.meta.Close() })
	return s
}

// APIURL is Secret Manager's base URL (for
// CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER).
func (s *Server) APIURL() string { return s.api.URL }

// OAuthURL is the base URL of the token endpoint (/token) and STS
// (/v1/token).
func (s *Server) OAuthURL() string { return s.oauth.URL }

// MetadataHost is the metadata server's host:port (for GCE_METADATA_HOST).
func (s *Server) MetadataHost() string { return strings.TrimPrefix(s.meta.URL, "http://") }

// AddProject declares a project id and its number.
func (s *Server) AddProject(id, number string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projects[id] = number
}

// number returns the project number of id (an id or a number), or "".
func (s *Server) number(p string) string {
	if n, ok := s.projects[p]; ok {
		return n
	}
	for _, n := range s.projects {
		if n == p {
			return n
		}
	}
	return ""
}

// canonical returns projects/<number>[/locations/<l>]/secrets/<s> for a
// secret named "project/secret" or "project/location/secret".
func (s *Server) canonical(name string) string {
	f := strings.Split(name, "/")
	switch len(f) {
	case 2:
		return "projects/" + s.number(f[0]) + "/secrets/" + f[1]
	case 3:
		return "projects/" + s.number(f[0]) + "/locations/" + f[1] + "/secrets/" + f[2]
	}
	panic("gcpsmfake: a secret is project/secret or project/location/secret")
}

// AddVersion adds a version to the secret "project/secret" (or
// "project/location/secret"), creating the secret, and returns its number.
func (s *Server) AddVersion(name string, data []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addVersion(s.canonical(name), data, false)
}

func (s *Server) addVersion(key string, data []byte, crc bool) int {
	sec := s.secrets[key]
	if sec == nil {
		sec = &secret{aliases: map[string]int{}}
		s.secrets[key] = sec
	}
	v := &version{n: len(sec.versions) + 1, data: append([]byte(nil), data...), state: Enabled, created: time.Now().UTC(), crc: crc}
	sec.versions = append(sec.versions, v)
	return v.n
}

// CreateSecret creates the secret "project/secret" with no version.
func (s *Server) CreateSecret(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.canonical(name); s.secrets[k] == nil {
		s.secrets[k] = &secret{aliases: map[string]int{}}
	}
}

// SetState sets the state of a version; Destroyed drops its data.
func (s *Server) SetState(name string, n int, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.secrets[s.canonical(name)].versions[n-1]
	v.state = state
	if state == Destroyed {
		v.data = nil
	}
}

// SetAlias points alias at version n of the secret.
func (s *Server) SetAlias(name, alias string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[s.canonical(name)].aliases[alias] = n
}

// Grant gives principal role on resource: a secret "project/secret" (or
// "project/location/secret"), or a whole project "project".
func (s *Server) Grant(principal, role, resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := resource
	if strings.Contains(resource, "/") {
		key = s.canonical(resource)
	} else {
		key = "projects/" + s.number(resource)
	}
	if s.grants[principal] == nil {
		s.grants[principal] = map[string]bool{}
	}
	s.grants[principal][key+" "+role] = true
}

// IssueToken returns a new access token for principal, valid for ttl.
func (s *Server) IssueToken(principal string, ttl time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issue(principal, ttl)
}

func (s *Server) issue(principal string, ttl time.Duration) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := "ya29.fake-" + hex.EncodeToString(b)
	s.tokens[tok] = token{principal: principal, expires: time.Now().Add(ttl)}
	return tok
}

// RevokeTokens makes every issued token invalid.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.tokens {
		s.revoked[t] = true
	}
}

// Throttle makes the next n API requests fail with 429 RESOURCE_EXHAUSTED.
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = n
}

// FailNext makes the next n API requests fail with 503 UNAVAILABLE.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = n
}

// CorruptChecksums makes :access answers carry a dataCrc32c that does not
// match their data (as a payload damaged on the way would).
func (s *Server) CorruptChecksums(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corrupt = on
}

// SetMetadataAccount makes the metadata server issue tokens for principal
// ("" for none: 404, as with workload identity not enabled) in project.
func (s *Server) SetMetadataAccount(principal, project string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metaSA, s.metaProj = principal, project
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests of server ("api", "oauth", "metadata")
// had a path ending with suffix ("" for all).
func (s *Server) Count(server, suffix string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Server == server && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// SetDelay adds latency to every request of the three servers, as a
// network round trip would.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

func (s *Server) logged(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		d := s.delay
		s.mu.Unlock()
		time.Sleep(d)
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		h.ServeHTTP(rec, r)
		s.mu.Lock()
		s.requests = append(s.requests, Request{Server: name, Method: r.Method, Path: r.URL.Path, Status: rec.status})
		s.mu.Unlock()
	})
}

// googleError writes Google's error body.
func googleError(w http.ResponseWriter, code int, status, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": code, "message": fmt.Sprintf(format, args...), "status": status,
	}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

// Tokens returns every access token issued so far (for tests that check
// no output holds one).
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.tokens))
	for t := range s.tokens {
		out = append(out, t)
	}
	return out
}
