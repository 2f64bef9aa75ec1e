package awsfake

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

// ContainerCredentials is the credential endpoint of an ECS task (or EKS
// Pod Identity agent) as the SDK reaches it through
// AWS_CONTAINER_CREDENTIALS_FULL_URI: "GET <URL>" with the token of
// AWS_CONTAINER_AUTHORIZATION_TOKEN as the Authorization header, answered
// with {"AccessKeyId","SecretAccessKey","Token","Expiration","RoleArn","AccountId"}.
//
// Every successful call issues new temporary credentials and registers
// them with the Server, so requests signed with them verify there.
//
// The SDK accepts an http FULL_URI only when its host is loopback (or the
// ECS/EKS link-local addresses 169.254.170.2, 169.254.170.23, fd00:ec2::23);
// https URIs may name any host. This endpoint listens on 127.0.0.1.
type ContainerCredentials struct {
	// URL is the value for AWS_CONTAINER_CREDENTIALS_FULL_URI.
	URL string
	// Token is the value for AWS_CONTAINER_AUTHORIZATION_TOKEN.
	Token string

	server *Server
	srv    *httptest.Server

	mu     sync.Mutex
	ttl    time.Duration
	calls  int
	fails  int
	issued []Credential
}

// ContainerOption configures NewContainerCredentials.
type ContainerOption func(*ContainerCredentials)

// WithCredentialTTL sets how long issued credentials live (default 1h).
// The SDK refreshes credentials 5 minutes before they expire, so a TTL
// under 5 minutes makes it fetch new ones before every request.
func WithCredentialTTL(d time.Duration) ContainerOption {
	return func(c *ContainerCredentials) { c.ttl = d }
}

// WithToken sets the expected authorization token (default: random).
func WithToken(token string) ContainerOption {
	return func(c *ContainerCredentials) { c.Token = token }
}

// NewContainerCredentials starts a container credentials endpoint whose
// credentials the Server accepts. It is closed when the test ends.
func (s *Server) NewContainerCredentials(t testing.TB, opts ...ContainerOption) *ContainerCredentials {
	t.Helper()
	c := &ContainerCredentials{server: s, ttl: time.Hour, Token: "awsfake-" + randomHex(16)}
	for _, o := range opts {
		o(c)
	}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serveHTTP))
	c.URL = c.srv.URL + "/v2/credentials/" + randomHex(8)
	t.Cleanup(c.srv.Close)
	return c
}

// Setenv points config.LoadDefaultConfig at the endpoint: it isolates the
// environment (IsolateEnv) and sets AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN. It sets neither region nor endpoint.
func (c *ContainerCredentials) Setenv(t testing.TB) {
	t.Helper()
	IsolateEnv(t)
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", c.URL)
	t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", c.Token)
}

// Calls returns how many requests the endpoint received (good or bad).
func (c *ContainerCredentials) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// Issued returns the credentials handed out so far, oldest first.
func (c *ContainerCredentials) Issued() []Credential {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Credential(nil), c.issued...)
}

// FailNext answers the next n requests with HTTP 500.
func (c *ContainerCredentials) FailNext(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fails += n
}

func (c *ContainerCredentials) serveHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.calls++
	fail := c.fails > 0
	if fail {
		c.fails--
	}
	ttl := c.ttl
	c.mu.Unlock()

	writeErr := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
	}
	switch {
	case r.Method != http.MethodGet || r.URL.Path != strings.TrimPrefix(c.URL, c.srv.URL):
		writeErr(http.StatusNotFound, "NotFound", "no such credentials path")
		return
	case r.Header.Get("Authorization") != c.Token:
		writeErr(http.StatusBadRequest, "AccessDenied", "invalid authorization token")
		return
	case fail:
		writeErr(http.StatusInternalServerError, "InternalError", "injected failure")
		return
	}

	s := c.server
	s.mu.Lock()
	expires := s.now().Add(ttl).UTC().Truncate(time.Second)
	account := s.store.account
	s.mu.Unlock()
	cred := Credential{
		AccessKeyID:     "ASIA" + strings.ToUpper(randomHex(8)),
		SecretAccessKey: randomHex(20),
		SessionToken:    "awsfake-session-" + randomHex(32),
		Expires:         expires,
		Principal:       fmt.Sprintf("arn:aws:sts::%s:assumed-role/awsfake-task-role/%s", account, randomHex(8)),
	}
	s.AddCredential(cred)
	c.mu.Lock()
	c.issued = append(c.issued, cred)
	c.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"RoleArn":         "arn:aws:iam::" + account + ":role/awsfake-task-role",
		"AccessKeyId":     cred.AccessKeyID,
		"SecretAccessKey": cred.SecretAccessKey,
		"Token":           cred.SessionToken,
		"Expiration":      expires.Format(time.RFC3339),
		"AccountId":       account,
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
