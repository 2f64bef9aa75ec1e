package awsfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults of a new Server.
const (
	DefaultAccountID       = "123456789012"
	DefaultAccessKeyID     = "AKIAAWSFAKEEXAMPLE01"
	DefaultSecretAccessKey = "awsfake/secret/access/key/EXAMPLEKEY0001"
)

// Operation names, as sent in X-Amz-Target after "secretsmanager.".
const (
	OpGetSecretValue      = "GetSecretValue"
	OpBatchGetSecretValue = "BatchGetSecretValue"
	OpPutSecretValue      = "PutSecretValue"
	OpCreateSecret        = "CreateSecret"
	OpListSecrets         = "ListSecrets" // also the permission BatchGetSecretValue with Filters needs
	OpDescribeSecret      = "DescribeSecret"
)

const (
	targetPrefix = "secretsmanager."
	contentType  = "application/x-amz-json-1.1"
	maxBody      = 4 << 20
)

// Server is a Secrets Manager endpoint on a loopback httptest server.
// All methods are safe for concurrent use.
type Server struct {
	// URL is the endpoint, e.g. "http://127.0.0.1:41234"; give it to the SDK
	// as BaseEndpoint or AWS_ENDPOINT_URL_SECRETS_MANAGER.
	URL string

	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	now      func() time.Time
	store    store
	creds    map[string]Credential
	deniedOp map[string]bool
	deniedID map[string]bool // raw SecretId strings denied before they resolve
	faults   []*apiError
	delay    time.Duration
	calls    map[string]int
	total    int
	log      []Call
	ssm      ssmState // Parameter Store (ssm.go)
}

// Call records one request the Server received.
type Call struct {
	Op          string   // operation from X-Amz-Target ("" when absent)
	Region      string   // region of the credential scope ("" when unauthenticated)
	AccessKeyID string   // caller's access key id ("" when unauthenticated)
	SecretIDs   []string // SecretId / SecretIdList members, as sent
	Names       []string // Parameter Store: Name / Names members, as sent
	Status      int      // HTTP status answered
	ErrorCode   string   // __type answered, "" on success
	// Invocation is the SDK's amz-sdk-invocation-id header: one id for a
	// call and its retries ("" when absent). Counting distinct ids counts
	// what the client asked for, however often a loaded machine made the
	// SDK retry (also a request answered 200 whose answer came too late).
	Invocation string
}

// Option configures New.
type Option func(*Server)

// WithAccountID sets the account id used in ARNs (default DefaultAccountID).
func WithAccountID(id string) Option { return func(s *Server) { s.store.account = id } }

// WithCredential registers an extra credential.
func WithCredential(c Credential) Option { return func(s *Server) { s.addCredential(c) } }

// WithClock replaces the server clock, used for signature time checks,
// credential expiry, CreatedDate and the Date response header.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithDelay adds latency to every request (see SetDelay).
func WithDelay(d time.Duration) Option { return func(s *Server) { s.delay = d } }

// New starts a Server, closed when the test ends. It accepts the default
// credential (DefaultAccessKeyID / DefaultSecretAccessKey) plus any given
// with WithCredential or AddCredential.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		t:        t,
		now:      time.Now,
		store:    store{account: DefaultAccountID, regions: map[string]map[string]*secret{}, foreign: map[string]*secret{}},
		creds:    map[string]Credential{},
		deniedOp: map[string]bool{},
		deniedID: map[string]bool{},
		calls:    map[string]int{},
	}
	s.addCredential(Credential{AccessKeyID: DefaultAccessKeyID, SecretAccessKey: DefaultSecretAccessKey})
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// AccountID returns the account id used in ARNs.
func (s *Server) AccountID() string { return s.store.account }

// Credential returns the default credential.
func (s *Server) Credential() Credential {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creds[DefaultAccessKeyID]
}

// AddCredential registers (or replaces) a credential.
func (s *Server) AddCredential(c Credential) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addCredential(c)
}

func (s *Server) addCredential(c Credential) {
	s.creds[c.AccessKeyID] = c
}

// RemoveCredential forgets an access key: requests signed with it get
// UnrecognizedClientException.
func (s *Server) RemoveCredential(accessKeyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.creds, accessKeyID)
}

// --- fault injection ---

// DenyOperation makes every call of op answer AccessDeniedException, as an
// IAM policy lacking secretsmanager:<op> would. DenyOperation(OpBatchGetSecretValue)
// models a policy that allows only GetSecretValue; DenyOperation(OpListSecrets)
// denies BatchGetSecretValue with Filters only.
func (s *Server) DenyOperation(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deniedOp[op] = true
}

// DenySecret denies GetSecretValue on one secret (and PutSecretValue on it):
// GetSecretValue answers AccessDeniedException, BatchGetSecretValue lists it
// in Errors. secretID may name a secret that does not exist.
func (s *Server) DenySecret(region, secretID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := s.store.resolve(region, secretID); sec != nil {
		sec.denied = true
		return
	}
	s.deniedID[region+"\x00"+secretID] = true
}

// FailDecryption makes reads of the secret fail with DecryptionFailure, as
// when its KMS key is disabled or not usable by the caller.
func (s *Server) FailDecryption(region, secretID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustResolve(region, secretID).decryptFail = true
}

// ThrottleNext answers the next n authenticated requests with
// ThrottlingException (HTTP 400, "Rate exceeded").
func (s *Server) ThrottleNext(n int) {
	s.InjectError(n, http.StatusBadRequest, CodeThrottling, msgRateExceeded)
}

// FailNext answers the next n authenticated requests with
// InternalServiceError (HTTP 500).
func (s *Server) FailNext(n int) {
	s.InjectError(n, http.StatusInternalServerError, CodeInternalServiceError, msgInternal)
}

// InjectError answers the next n authenticated requests with the given
// error. Injected errors queue behind earlier ones.
func (s *Server) InjectError(n, status int, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, newError(status, code, "%s", message))
	}
}

// SetDelay makes every request wait d before it is handled (0 turns it
// off). A client that gives up earlier gets no answer.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// ClearFaults undoes DenyOperation, DenySecret, FailDecryption, pending
// injected errors and the delay.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.deniedOp)
	clear(s.deniedID)
	s.faults = nil
	s.delay = 0
	for _, secrets := range s.store.regions {
		for _, sec := range secrets {
			sec.denied, sec.decryptFail = false, false
		}
	}
}

// --- counters ---

// Calls returns how many requests named op in X-Amz-Target, whatever their
// outcome (retries, injected faults and auth failures count).
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Invocations returns how many distinct SDK invocations of op the Server
// received (a call and its retries count once; requests without the
// header count each).
func (s *Server) Invocations(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	n := 0
	for _, c := range s.log {
		if c.Op != op {
			continue
		}
		if c.Invocation == "" {
			n++
		} else if !seen[c.Invocation] {
			seen[c.Invocation] = true
			n++
		}
	}
	return n
}

// TotalCalls returns how many requests the Server received.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Log returns every request received, oldest first.
func (s *Server) Log() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// RequestedSecretIDs returns the SecretId values of all requests (each
// member of a SecretIdList counts), as sent, oldest first; a request the
// SDK retried (the same invocation id) is listed once.
func (s *Server) RequestedSecretIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	seen := map[string]bool{}
	for _, c := range s.log {
		if c.Invocation != "" {
			if seen[c.Invocation] {
				continue // the SDK's retry of a call already listed
			}
			seen[c.Invocation] = true
		}
		ids = append(ids, c.SecretIDs...)
	}
	return ids
}

// Reset zeroes the counters and the log. Data and faults stay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.calls)
	s.total = 0
	s.log = nil
}

// --- HTTP ---

// endpoint is one service the Server answers on its one URL: its SigV4
// name, its operations, the faults and denials a test set on it, and how
// it writes an error.
type endpoint struct {
	signingName string
	handlers    map[string]func(*caller, []byte, *Call) (any, *apiError)
	faults      *[]*apiError
	denied      *map[string]bool
	deny        func(who *caller, op, resource string) *apiError
	errorBody   func(*apiError) any
}

// secretsManager is the Secrets Manager endpoint.
func (s *Server) secretsManager() endpoint {
	return endpoint{signingName: signingName,
		handlers: map[string]func(*caller, []byte, *Call) (any, *apiError){
			OpGetSecretValue: s.getSecretValue, OpBatchGetSecretValue: s.batchGetSecretValue,
			OpPutSecretValue: s.putSecretValue, OpCreateSecret: s.createSecret,
			OpListSecrets: s.listSecrets, OpDescribeSecret: s.describeSecret,
		},
		faults: &s.faults, denied: &s.deniedOp, deny: accessDenied,
		errorBody: func(e *apiError) any { return e.body() }}
}

// serveHTTP answers one request: Secrets Manager's or, by its target,
// Parameter Store's (serveSSM's endpoint); each is counted and logged.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	ep, op := s.secretsManager(), strings.TrimPrefix(target, targetPrefix)
	if o, ok := strings.CutPrefix(target, ssmTargetPrefix); ok {
		ep, op = s.parameterStore(), o
	}

	s.mu.Lock()
	s.calls[op]++
	s.total++
	delay := s.delay
	s.mu.Unlock()

	call := Call{Op: op, Invocation: r.Header.Get("Amz-Sdk-Invocation-Id")}
	out, aerr := s.handle(r, ep, op, delay, &call)
	if aerr != nil {
		call.Status, call.ErrorCode = aerr.status, aerr.code
		s.write(w, aerr.status, ep.errorBody(aerr), aerr.code)
	} else {
		call.Status = http.StatusOK
		s.write(w, http.StatusOK, out, "")
	}
	s.mu.Lock()
	s.log = append(s.log, call)
	s.mu.Unlock()
}

func (s *Server) handle(r *http.Request, ep endpoint, op string, delay time.Duration, call *Call) (any, *apiError) {
	// Read the body first: only then does net/http watch the connection and
	// cancel r.Context() when the client goes away during the delay.
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, clientError(CodeSerialization, "could not read the request body: %v", err)
	}
	if delay > 0 {
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return nil, newError(499, "ClientClosedRequest", "client gave up")
		}
	}
	who, aerr := s.authenticateFor(r, body, ep.signingName)
	if aerr != nil {
		return nil, aerr
	}
	call.Region, call.AccessKeyID = who.region, who.cred.AccessKeyID

	handler := ep.handlers[op]
	if r.Method != http.MethodPost || handler == nil {
		return nil, clientError(CodeUnknownOperation, "")
	}

	s.mu.Lock()
	if len(*ep.faults) > 0 {
		f := (*ep.faults)[0]
		*ep.faults = (*ep.faults)[1:]
		s.mu.Unlock()
		return nil, f
	}
	denied := (*ep.denied)[op]
	s.mu.Unlock()
	if denied {
		return nil, ep.deny(who, op, "")
	}
	return handler(who, body, call)
}

func (s *Server) write(w http.ResponseWriter, status int, v any, errorType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-Requestid", newUUID())
	s.mu.Lock()
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	s.mu.Unlock()
	if errorType != "" {
		h.Set("X-Amzn-Errortype", errorType)
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// accessDenied is the IAM denial message for op (on resource, if given).
func accessDenied(who *caller, op, resource string) *apiError {
	on := ""
	if resource != "" {
		on = " on resource: " + resource
	}
	return clientError(CodeAccessDenied,
		"User: %s is not authorized to perform: secretsmanager:%s%s because no identity-based policy allows the secretsmanager:%s action",
		who.cred.Principal, op, on, op)
}

// mustResolve finds a secret for a test helper or fails the test.
// Callers hold s.mu.
func (s *Server) mustResolve(region, secretID string) *secret {
	s.t.Helper()
	sec := s.store.resolve(region, secretID)
	if sec == nil {
		s.t.Fatalf("awsfake: no secret %q in %s", secretID, region)
	}
	return sec
}
