package awsfake

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The Parameter Store side of the Server: AWS Systems Manager's parameter
// operations on the same endpoint, credentials, clock, delay and counters
// as Secrets Manager. A request whose X-Amz-Target starts with "AmazonSSM."
// is Parameter Store's; it must be signed for the service "ssm".

// Parameter Store operation names, as sent in X-Amz-Target after "AmazonSSM.".
const (
	OpGetParameter          = "GetParameter"
	OpGetParameters         = "GetParameters"
	OpDescribeParameters    = "DescribeParameters"
	OpPutParameter          = "PutParameter"
	OpLabelParameterVersion = "LabelParameterVersion"
)

const (
	ssmTargetPrefix = "AmazonSSM."
	ssmSigningName  = "ssm"

	// SecretsManagerReferencePrefix is the reserved path under which
	// Parameter Store reads Secrets Manager secrets.
	SecretsManagerReferencePrefix = "/aws/reference/secretsmanager/"

	// DefaultSSMKeyID is the KMS key of a SecureString parameter created
	// without one: the account's AWS managed key for Systems Manager.
	DefaultSSMKeyID = "alias/aws/ssm"

	maxParamVersions = 100 // versions Parameter Store keeps per parameter
	maxLabels        = 10  // labels per parameter version
)

// ParamType is a parameter's type.
type ParamType string

// Parameter types.
const (
	String       ParamType = "String"
	StringList   ParamType = "StringList"
	SecureString ParamType = "SecureString"
)

// Error codes of Parameter Store. The SSM model declares each (the SDK
// turns them into *types.<Code>); AccessDeniedException, ThrottlingException
// and ValidationException are also what the common AWS front end answers.
const (
	CodeParameterNotFound          = "ParameterNotFound"
	CodeParameterVersionNotFound   = "ParameterVersionNotFound"
	CodeParameterAlreadyExists     = "ParameterAlreadyExists"
	CodeParameterMaxVersionLimit   = "ParameterMaxVersionLimitExceeded"
	CodeParameterVersionLabelLimit = "ParameterVersionLabelLimitExceeded"
	CodeHierarchyLevelLimit        = "HierarchyLevelLimitExceededException"
	CodeUnsupportedParameterType   = "UnsupportedParameterType"
	CodeInvalidKeyID               = "InvalidKeyId"
	CodeSSMInternalServerError     = "InternalServerError"
	CodeSSMInvalidNextToken        = "InvalidNextToken"
	CodeInvalidFilterKey           = "InvalidFilterKey"
	CodeInvalidFilterOption        = "InvalidFilterOption"
	CodeInvalidFilterValue         = "InvalidFilterValue"
)

// Messages Parameter Store uses, where they are known.
const (
	// MsgDependencyFailed is what Parameter Store answers (ValidationException)
	// when Secrets Manager refuses a reference: the caller lacks
	// secretsmanager:GetSecretValue on the secret, or KMS refuses its key.
	MsgDependencyFailed = "An error occurred while calling one AWS dependency service."
	// MsgNeedsDecryption answers a Secrets Manager reference read without
	// WithDecryption (GetParameter).
	MsgNeedsDecryption = "WithDecryption flag must be True for retrieving a Secret Manager secret."
	// MsgBadSelector answers a reference with more than one selector, an
	// empty one, or an ARN as its secret id (two spaces, as AWS writes it).
	MsgBadSelector = "Invalid parameter name. Please use correct syntax for referencing a version/label  <name>:<version/label>"
	// MsgSecretInvalidRequest answers a reference to a secret that Secrets
	// Manager refuses to read (marked for deletion).
	MsgSecretInvalidRequest = "Invalid Request to Secrets Manager"
	// MsgKMSAccessDenied is the AccessDeniedException message of a
	// SecureString read with decryption when KMS refuses the caller the key.
	MsgKMSAccessDenied = "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access."

	msgSSMInternal       = "Internal Server Error"
	msgNotFullyQualified = "Parameter name must be a fully qualified name."
	msgBadParamName      = `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_`
	msgParamExists       = "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."
	msgSSMBadNextToken   = "The specified token isn't valid."
	msgBothFilters       = "You can use either Filters or ParameterFilters in a single request."
)

// ssmModeledUpper lists the errors of the SSM model whose message member
// is "Message"; the model's other errors here (ParameterNotFound,
// InvalidKeyId, ...) name it "message", as do the errors of the common
// front end (authentication, throttling).
var ssmModeledUpper = map[string]bool{
	CodeSSMInternalServerError: true, CodeSSMInvalidNextToken: true, CodeInvalidFilterValue: true,
}

// ssmBody is the JSON document AWS sends for a Parameter Store error.
func ssmBody(e *apiError) map[string]string {
	key := "message"
	if ssmModeledUpper[e.code] {
		key = "Message"
	}
	return map[string]string{"__type": e.code, key: e.message}
}

// ssmState is the Parameter Store data and faults of a Server; its zero
// value is empty. Guarded by Server.mu.
type ssmState struct {
	params   map[paramKey]*parameter
	faults   []*apiError
	deniedOp map[string]bool
	decrypts int // KMS decryptions of SecureString values
}

type paramKey struct{ account, region, name string }

type parameter struct {
	key         paramKey
	typ         ParamType
	keyID       string
	dataType    string
	tier        string
	description string
	versions    []*paramVersion // oldest first
	denied      bool            // IAM refuses ssm:GetParameter* on it
	kmsDenied   bool            // KMS refuses the caller its key
}

type paramVersion struct {
	number   int64
	value    string
	cipher   string // what a read without decryption returns for a SecureString
	modified time.Time
	labels   []string
	user     string
}

func (p *parameter) arn() string { return paramARN(p.key) }

func paramARN(k paramKey) string {
	name := k.name
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", k.region, k.account, name)
}

func (p *parameter) latest() *paramVersion { return p.versions[len(p.versions)-1] }

func (p *parameter) version(n int64) *paramVersion {
	for _, v := range p.versions {
		if v.number == n {
			return v
		}
	}
	return nil
}

func (p *parameter) byLabel(label string) *paramVersion {
	for _, v := range p.versions {
		if slices.Contains(v.labels, label) {
			return v
		}
	}
	return nil
}

// moveLabels attaches labels to v, taking each off the version that had it.
func (p *parameter) moveLabels(v *paramVersion, labels []string) {
	for _, l := range labels {
		if old := p.byLabel(l); old != nil && old != v {
			old.labels = slices.DeleteFunc(old.labels, func(x string) bool { return x == l })
		}
		if !slices.Contains(v.labels, l) {
			v.labels = append(v.labels, l)
		}
	}
}

// newCipher returns an opaque stand-in for a KMS ciphertext blob: random,
// so that it tells nothing about the value.
func newCipher() string {
	b := make([]byte, 96)
	_, _ = rand.Read(b)
	return "AQICAH" + base64.StdEncoding.EncodeToString(b)
}

// ParameterStore is the Parameter Store side of a Server: test helpers for
// its data and faults. It shares the Server's lock, credentials, clock,
// delay (SetDelay) and counters (Calls, Log); its faults are its own (the
// Server's ThrottleNext and FailNext apply to Secrets Manager calls only).
type ParameterStore struct{ s *Server }

// ParameterStore returns the Server's Parameter Store.
func (s *Server) ParameterStore() *ParameterStore { return &ParameterStore{s: s} }

// ParameterRef identifies a parameter version a test wrote.
type ParameterRef struct {
	Region  string
	Account string
	Name    string
	ARN     string
	Version int64
}

// ParamOption configures Put.
type ParamOption func(*paramOptions)

type paramOptions struct {
	keyID, description, dataType, tier, account string
	modified                                    time.Time
}

// WithKeyID sets a SecureString's KMS key (default DefaultSSMKeyID).
func WithKeyID(id string) ParamOption { return func(o *paramOptions) { o.keyID = id } }

// WithParamDescription sets the parameter's description.
func WithParamDescription(d string) ParamOption { return func(o *paramOptions) { o.description = d } }

// WithTier sets the tier: "Standard" (default; values up to 4 KB) or
// "Advanced" (up to 8 KB).
func WithTier(t string) ParamOption { return func(o *paramOptions) { o.tier = t } }

// WithDataType sets the data type ("text", the default, or "aws:ec2:image").
func WithDataType(t string) ParamOption { return func(o *paramOptions) { o.dataType = t } }

// WithOwner makes the parameter another account's, shared with the
// Server's account (as through AWS RAM): it is read by its full ARN only,
// and listed by DescribeParameters with Shared.
func WithOwner(account string) ParamOption { return func(o *paramOptions) { o.account = account } }

// WithModified sets the new version's LastModifiedDate (default: now).
func WithModified(t time.Time) ParamOption { return func(o *paramOptions) { o.modified = t } }

// Put writes a parameter as PutParameter with Overwrite does: version 1 of
// a new one, or the next version of an existing one (whose type it may
// change). The test fails on a name or value Parameter Store refuses.
func (ps *ParameterStore) Put(region, name string, typ ParamType, value string, opts ...ParamOption) ParameterRef {
	s := ps.s
	s.t.Helper()
	o := paramOptions{account: s.store.account}
	for _, fn := range opts {
		fn(&o)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.modified.IsZero() {
		o.modified = s.now()
	}
	p, aerr := s.putParam(paramKey{o.account, region, name}, typ, value, o, true, "arn:aws:iam::"+o.account+":user/awsfake")
	if aerr != nil {
		s.t.Fatalf("awsfake: Put %q: %v", name, aerr)
	}
	return ParameterRef{Region: region, Account: o.account, Name: name, ARN: p.arn(), Version: p.latest().number}
}

// putParam writes a version; callers hold s.mu and have checked the name.
func (s *Server) putParam(k paramKey, typ ParamType, value string, o paramOptions, overwrite bool, user string) (*parameter, *apiError) {
	if aerr := checkParamName(k.name); aerr != nil {
		return nil, aerr
	}
	if typ != String && typ != StringList && typ != SecureString {
		return nil, clientError(CodeUnsupportedParameterType, "The type %s is not supported", typ)
	}
	p := s.ssm.params[k]
	tier := o.tier
	if tier == "" && p != nil {
		tier = p.tier
	}
	if tier == "" {
		tier = "Standard"
	}
	limit := 4096
	if tier == "Advanced" {
		limit = 8192
	}
	if len(value) > limit {
		return nil, clientError(CodeValidation, "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html")
	}
	if p != nil && !overwrite {
		return nil, clientError(CodeParameterAlreadyExists, msgParamExists)
	}
	if p == nil {
		if s.ssm.params == nil {
			s.ssm.params = map[paramKey]*parameter{}
		}
		p = &parameter{key: k, dataType: "text"}
		s.ssm.params[k] = p
	}
	if len(p.versions) == maxParamVersions {
		if len(p.versions[0].labels) > 0 {
			return nil, clientError(CodeParameterMaxVersionLimit,
				"You attempted to create a new version of %s by calling the PutParameter API with the overwrite flag. Version %d, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.",
				k.name, p.versions[0].number)
		}
		p.versions = p.versions[1:]
	}
	p.typ, p.tier = typ, tier
	if o.description != "" {
		p.description = o.description
	}
	if o.dataType != "" {
		p.dataType = o.dataType
	}
	p.keyID = ""
	if typ == SecureString {
		p.keyID = o.keyID
		if p.keyID == "" {
			p.keyID = DefaultSSMKeyID
		}
	}
	n := int64(1)
	if len(p.versions) > 0 {
		n = p.latest().number + 1
	}
	v := &paramVersion{number: n, value: value, modified: o.modified, user: user}
	if typ == SecureString {
		v.cipher = newCipher()
	}
	p.versions = append(p.versions, v)
	return p, nil
}

// checkParamName applies Parameter Store's rules for a name it creates.
func checkParamName(name string) *apiError {
	if strings.Contains(name, "/") && !strings.HasPrefix(name, "/") {
		return clientError(CodeValidation, msgNotFullyQualified)
	}
	bare := strings.TrimPrefix(name, "/")
	lower := strings.ToLower(bare)
	if bare == "" || strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm") || len(name) > 2048 {
		return clientError(CodeValidation, msgBadParamName)
	}
	for _, seg := range strings.Split(bare, "/") {
		if seg == "" {
			return clientError(CodeValidation, msgBadParamName)
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
				return clientError(CodeValidation, msgBadParamName)
			}
		}
	}
	if strings.Count(name, "/") > 15 {
		return clientError(CodeHierarchyLevelLimit, "A hierarchy can have a maximum of 15 levels. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html")
	}
	return nil
}

// Label attaches labels to a version of a parameter of the Server's
// account, as LabelParameterVersion does: each label leaves the version
// that had it.
func (ps *ParameterStore) Label(region, name string, version int64, labels ...string) {
	s := ps.s
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	p := ps.mustParam(region, name)
	v := p.version(version)
	if v == nil {
		s.t.Fatalf("awsfake: parameter %q has no version %d", name, version)
	}
	for _, l := range labels {
		if !validLabel(l) {
			s.t.Fatalf("awsfake: Parameter Store refuses the label %q", l)
		}
	}
	p.moveLabels(v, labels)
}

// Delete deletes a parameter of the Server's account, all its versions.
func (ps *ParameterStore) Delete(region, name string) {
	s := ps.s
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	ps.mustParam(region, name)
	delete(s.ssm.params, paramKey{s.store.account, region, name})
}

// Deny makes IAM refuse the caller ssm:GetParameter and ssm:GetParameters
// on the parameter (which need not exist): a GetParameters call naming it
// fails as a whole with AccessDeniedException.
func (ps *ParameterStore) Deny(region, name string) {
	s := ps.s
	s.mu.Lock()
	defer s.mu.Unlock()
	k := paramKey{s.store.account, region, name}
	if strings.HasPrefix(name, "arn:") {
		if kk, ok := parseParamARN(name); ok {
			k = kk
		}
	}
	p := s.ssm.params[k]
	if p == nil {
		// A placeholder without versions: denied, and missing otherwise.
		if s.ssm.params == nil {
			s.ssm.params = map[paramKey]*parameter{}
		}
		p = &parameter{key: k}
		s.ssm.params[k] = p
	}
	p.denied = true
}

// DenyKMS makes KMS refuse the caller the key of a SecureString parameter:
// a read with decryption fails as a whole with AccessDeniedException; a
// read without decryption still returns the ciphertext.
func (ps *ParameterStore) DenyKMS(region, name string) {
	s := ps.s
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	ps.mustParam(region, name).kmsDenied = true
}

// DenyOperation makes every call of op answer AccessDeniedException, as an
// IAM policy lacking ssm:<op> would.
func (ps *ParameterStore) DenyOperation(op string) {
	s := ps.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ssm.deniedOp == nil {
		s.ssm.deniedOp = map[string]bool{}
	}
	s.ssm.deniedOp[op] = true
}

// ThrottleNext answers the next n authenticated Parameter Store requests
// with ThrottlingException (HTTP 400, "Rate exceeded").
func (ps *ParameterStore) ThrottleNext(n int) {
	ps.InjectError(n, http.StatusBadRequest, CodeThrottling, msgRateExceeded)
}

// FailNext answers the next n authenticated Parameter Store requests with
// InternalServerError (HTTP 500).
func (ps *ParameterStore) FailNext(n int) {
	ps.InjectError(n, http.StatusInternalServerError, CodeSSMInternalServerError, msgSSMInternal)
}

// InjectError answers the next n authenticated Parameter Store requests
// with the given error, queued behind earlier ones.
func (ps *ParameterStore) InjectError(n, status int, code, message string) {
	s := ps.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.ssm.faults = append(s.ssm.faults, newError(status, code, "%s", message))
	}
}

// ClearFaults undoes Deny, DenyKMS, DenyOperation and pending injected
// errors of Parameter Store.
func (ps *ParameterStore) ClearFaults() {
	s := ps.s
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.ssm.deniedOp)
	s.ssm.faults = nil
	for k, p := range s.ssm.params {
		p.denied, p.kmsDenied = false, false
		if len(p.versions) == 0 {
			delete(s.ssm.params, k)
		}
	}
}

// Decryptions returns how many SecureString values Parameter Store
// decrypted with KMS (reads with WithDecryption), since the start.
func (ps *ParameterStore) Decryptions() int {
	s := ps.s
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ssm.decrypts
}

// ParamVersionInfo describes one stored version of a parameter.
type ParamVersionInfo struct {
	Version  int64
	Value    string
	Labels   []string
	Modified time.Time
}

// Versions lists the versions of a parameter of the Server's account,
// oldest first.
func (ps *ParameterStore) Versions(region, name string) []ParamVersionInfo {
	s := ps.s
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ParamVersionInfo
	for _, v := range ps.mustParam(region, name).versions {
		out = append(out, ParamVersionInfo{Version: v.number, Value: v.value, Labels: slices.Clone(v.labels), Modified: v.modified})
	}
	return out
}

// mustParam finds a parameter of the Server's account or fails the test.
// Callers hold s.mu.
func (ps *ParameterStore) mustParam(region, name string) *parameter {
	s := ps.s
	s.t.Helper()
	p := s.ssm.params[paramKey{s.store.account, region, name}]
	if p == nil || len(p.versions) == 0 {
		s.t.Fatalf("awsfake: no parameter %q in %s", name, region)
	}
	return p
}

// validLabel applies Parameter Store's label rules: 1 to 100 letters,
// digits, '.', '-' and '_', not starting with a digit, "aws" or "ssm".
func validLabel(l string) bool {
	lower := strings.ToLower(l)
	if l == "" || len(l) > 100 || (l[0] >= '0' && l[0] <= '9') || strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm") {
		return false
	}
	for _, c := range l {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// parseParamARN reads arn:<partition>:ssm:<region>:<account>:parameter/<name>;
// the name of a hierarchy keeps its leading '/'.
func parseParamARN(arn string) (paramKey, bool) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[2] != "ssm" || f[3] == "" || f[4] == "" {
		return paramKey{}, false
	}
	rest, ok := strings.CutPrefix(f[5], "parameter/")
	if !ok || rest == "" {
		return paramKey{}, false
	}
	if strings.Contains(rest, "/") {
		rest = "/" + rest
	}
	return paramKey{account: f[4], region: f[3], name: rest}, true
}
