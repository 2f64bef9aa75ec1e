package gcpsmfake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Scope is the OAuth scope Secret Manager requires.
const Scope = "https://www.googleapis.com/auth/cloud-platform"

// The grant and token types of RFC 7523 and RFC 8693 that the fake takes.
const (
	grantJWTBearer     = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeAccess    = "urn:ietf:params:oauth:token-type:access_token"
	tokenTypeJWT       = "urn:ietf:params:oauth:token-type:jwt"
	tokenTypeIDToken   = "urn:ietf:params:oauth:token-type:id_token"
)

// tokenTTL is how long the tokens the fake issues live, as Google's do.
const tokenTTL = 3599 * time.Second

type saKey struct {
	email string
	pub   *rsa.PublicKey
}

type subjectToken struct {
	audience, principal string
}

// ServiceAccountKey creates a service account key for email in project,
// registers its public half, and returns the key file as Google issues it
// (its token_uri pointing at the fake). Tokens it obtains are for
// "serviceAccount:<email>". The private key never leaves the file.
func (s *Server) ServiceAccountKey(email, project string) []byte {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	id := make([]byte, 20)
	_, _ = rand.Read(id)
	kid := fmt.Sprintf("%x", id)
	s.mu.Lock()
	s.keys[kid] = saKey{email: email, pub: &k.PublicKey}
	s.mu.Unlock()
	b, _ := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  project,
		"private_key_id":              kid,
		"private_key":                 string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":                email,
		"client_id":                   "1" + strings.Repeat("0", 20),
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   s.oauth.URL + "/token",
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"universe_domain":             "googleapis.com",
	}, "", "  ")
	return b
}

// DeleteKeys deletes every service account key: assertions signed with
// them are refused (invalid_grant).
func (s *Server) DeleteKeys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = map[string]saKey{}
}

// AddSubjectToken registers a subject token (the workload's own OIDC
// token) that STS exchanges, for audience (the workload identity pool
// provider), into an access token for principal.
func (s *Server) AddSubjectToken(audience, subject, principal string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subjects[subject] = subjectToken{audience: audience, principal: principal}
}

// ExternalAccount returns a workload identity federation configuration
// (type external_account) for audience whose subject token is read from
// the file subjectFile, as `gcloud iam workload-identity-pools
// create-cred-config` writes it, STS pointing at the fake.
func (s *Server) ExternalAccount(audience, subjectFile string) []byte {
	b, _ := json.MarshalIndent(map[string]any{
		"type":               "external_account",
		"audience":           audience,
		"subject_token_type": tokenTypeJWT,
		"token_url":          s.oauth.URL + "/v1/token",
		"credential_source":  map[string]any{"file": subjectFile},
		"universe_domain":    "googleapis.com",
	}, "", "  ")
	return b
}

func oauthError(w http.ResponseWriter, code int, kind, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": kind, "error_description": desc})
}

func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "POST only")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form")
		return
	}
	switch r.URL.Path {
	case "/token":
		s.serveJWTGrant(w, r)
	case "/v1/token":
		s.serveSTS(w, r)
	default:
		oauthError(w, http.StatusNotFound, "invalid_request", "unknown endpoint")
	}
}

// serveJWTGrant is Google's token endpoint for a service account's signed
// assertion (RFC 7523).
func (s *Server) serveJWTGrant(w http.ResponseWriter, r *http.Request) {
	if r.PostForm.Get("grant_type") != grantJWTBearer {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
		return
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe")
		return
	}
	var hdr struct{ Alg, Typ, Kid string }
	var claims struct {
		Iss, Scope, Aud, Sub string
		Iat, Exp             int64
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: malformed")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[hdr.Kid]
	if hdr.Alg != "RS256" || !ok || k.email != claims.Iss {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid grant: account not found")
		return
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(k.pub, crypto.SHA256, sum[:], sig) != nil {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	now := time.Now().Unix()
	if claims.Aud != s.oauth.URL+"/token" || claims.Iat > now+300 || claims.Exp < now || claims.Exp-claims.Iat > 3600 {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
		return
	}
	if !slices.Contains(strings.Fields(claims.Scope), Scope) {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
		return
	}
	tok := s.issue("serviceAccount:"+k.email, tokenTTL)
	writeJSON(w, map[string]any{"access_token": tok, "expires_in": int(tokenTTL.Seconds()), "token_type": "Bearer"})
}

// serveSTS is Google's Security Token Service token exchange (RFC 8693).
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	switch {
	case f.Get("grant_type") != grantTokenExchange:
		oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid value for \"grant_type\".")
		return
	case f.Get("requested_token_type") != tokenTypeAccess:
		oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid value for \"requested_token_type\".")
		return
	case f.Get("subject_token_type") != tokenTypeJWT && f.Get("subject_token_type") != tokenTypeIDToken:
		oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid value for \"subject_token_type\".")
		return
	case !slices.Contains(strings.Fields(f.Get("scope")), Scope):
		oauthError(w, http.StatusBadRequest, "invalid_scope", "The scope is not valid.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.subjects[f.Get("subject_token")]
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "The given subject token is not valid.")
		return
	}
	if st.audience != f.Get("audience") {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "The audience in the subject token does not match the expected audience.")
		return
	}
	tok := s.issue(st.principal, time.Hour)
	writeJSON(w, map[string]any{"access_token": tok, "issued_token_type": tokenTypeAccess, "token_type": "Bearer", "expires_in": 3600})
}

// serveMetadata is the metadata server of GKE and Compute Engine.
func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Metadata-Flavor", "Google")
	if r.Header.Get("Metadata-Flavor") != "Google" || r.Header.Get("X-Forwarded-For") != "" {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = fmt.Fprint(w, "Your client does not have permission to get URL from this server. Missing Metadata-Flavor:Google header.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case "/", "/computeMetadata/v1/":
		w.Header().Set("Content-Type", "application/text")
		_, _ = fmt.Fprint(w, "instance/\nproject/\n")
	case "/computeMetadata/v1/instance/service-accounts/default/token":
		if s.metaSA == "" {
			http.NotFound(w, r)
			return
		}
		if sc := r.URL.Query().Get("scopes"); sc != "" && !slices.Contains(strings.Split(sc, ","), Scope) {
			http.Error(w, "scopes not granted", http.StatusBadRequest)
			return
		}
		tok := s.issue(s.metaSA, tokenTTL)
		writeJSON(w, map[string]any{"access_token": tok, "expires_in": int(tokenTTL.Seconds()), "token_type": "Bearer"})
	case "/computeMetadata/v1/project/project-id":
		if s.metaProj == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/text")
		_, _ = fmt.Fprint(w, s.metaProj)
	default:
		http.NotFound(w, r)
	}
}
