// Package awssm is the provider for awssm:// references: secrets in AWS
// Secrets Manager, read with the AWS SDK for Go v2.
//
// A reference names a secret by name, partial ARN or full ARN. Its region is
// the ARN's, else the reference's region= option, else the one the SDK's
// default configuration gives (AWS_REGION, AWS_DEFAULT_REGION, the profile's
// region). version-stage= and version-id= are passed through. A secret's
// SecretString, or its SecretBinary as bytes, is the value; the core applies
// #key and #/pointer selectors to it as JSON.
//
// Credentials come from the SDK's default chain: environment keys, shared
// config and profiles, web identity (IRSA), ECS and EKS Pod Identity
// container credentials, IMDS. They are fetched on the first request, not
// by New, so a provider costs nothing until a secret is read.
// AWS_ENDPOINT_URL_SECRETS_MANAGER (or AWS_ENDPOINT_URL) points the client
// elsewhere; a plain http:// endpoint off loopback is refused unless the
// user allows it.
//
// Many secrets are fetched with BatchGetSecretValue, up to 20 a call, the
// calls in parallel, one client per region. A policy that allows only
// GetSecretValue is common: when BatchGetSecretValue is denied, the
// provider falls back to GetSecretValue per secret, in parallel, and does
// not try batches again in this process. The SDK's own retries are off: the
// resolver retries transient faults under its deadline.
//
// Errors map to the core's sentinels: ResourceNotFoundException and
// InvalidRequestException (a secret marked for deletion, a stage that is
// not on the version) to ErrNotFound; AccessDeniedException and
// DecryptionFailure (KMS) to ErrPermission; rejected or missing credentials
// to ErrAuth; throttling, 5xx and connection errors to ErrUnavailable. They
// carry AWS's error codes and messages, which never hold secret values.
package awssm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// CredentialVars are the variables that carry AWS credentials, or hand
// whoever reads them the identity this process uses; the injector removes
// them from the child unless passed through.
//
// That covers static keys, the container credentials of ECS and EKS Pod
// Identity (an endpoint and the token to call it) and web identity (IRSA:
// the token file and the role it assumes). n8n's own AWS nodes use
// credentials stored in n8n, not the environment; a deployment whose n8n
// relies on the default chain itself (S3 binary data with
// N8N_EXTERNAL_STORAGE_S3_AUTH_AUTO_DETECT) lists these in
// N8N_SECRETS_PASSTHROUGH. Settings that select rather than carry
// credentials stay: AWS_PROFILE, AWS_REGION, AWS_CONFIG_FILE and
// AWS_SHARED_CREDENTIALS_FILE (the files stay readable whatever the
// environment says, so hiding their names would change the child's
// behavior without protecting anything).
//
// The list is what the SDK's config package (the version in go.mod) reads,
// aliases included (AWS_ACCESS_KEY, AWS_SECRET_KEY), plus
// AWS_SECURITY_TOKEN, the older name of the session token that other AWS
// tools (boto, the v1 SDKs) still read; a test derives the SDK's list from
// its source, so that a new variable in an upgrade is classified.
var CredentialVars = []string{
	"AWS_ACCESS_KEY_ID",
	"AWS_ACCESS_KEY",
	"AWS_SECRET_ACCESS_KEY",
	"AWS_SECRET_KEY",
	"AWS_SESSION_TOKEN",
	"AWS_SECURITY_TOKEN",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_ROLE_ARN",
	"AWS_ROLE_SESSION_NAME",
}

// Codes of this provider's log events.
const (
	// CodeBatchRefused: BatchGetSecretValue is denied (an IAM policy
	// granting only GetSecretValue): every secret is read on its own.
	CodeBatchRefused = "AWSSM_BATCH_REFUSED"
	// CodeBatchSplit: a batch call failed as a whole for one of its
	// secrets: each is read on its own to tell which (debug).
	CodeBatchSplit = "AWSSM_BATCH_SPLIT"
	// CodeWatchDescribe: a secret that ListSecrets does not list (another
	// account's, shared by a resource policy) is watched with
	// DescribeSecret (debug, once per secret).
	CodeWatchDescribe = "AWSSM_WATCH_DESCRIBE"
)

// MaxBatch is the most secret ids one BatchGetSecretValue call takes.
const MaxBatch = 20

// maxParallel bounds the calls one FetchBatch has in flight.
const maxParallel = 16

// maxPages bounds how many NextToken pages one batch call follows.
const maxPages = 10

// Options configure a Provider.
type Options struct {
	// Getenv reads the variables that select the region (AWS_REGION,
	// AWS_DEFAULT_REGION), the endpoint (AWS_ENDPOINT_URL_SECRETS_MANAGER,
	// AWS_ENDPOINT_URL, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS) and static keys
	// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), with the
	// SDK's precedence. The rest of the SDK's chain (profiles, web identity,
	// container credentials, IMDS) reads the process environment itself, as
	// main's Getenv does. nil means os.Getenv.
	Getenv func(string) string
	// AllowHTTP permits a plain http:// endpoint that is not on loopback.
	AllowHTTP bool
	// Logger receives an info event when batch reads are refused; nil
	// discards.
	Logger *slog.Logger
}

// Provider reads secrets from AWS Secrets Manager. It is safe for
// concurrent use.
type Provider struct {
	cfg      aws.Config
	endpoint string // explicit endpoint from Getenv, if any
	log      *slog.Logger

	mu      sync.Mutex
	clients map[string]*secretsmanager.Client // by region

	// noBatch is set once BatchGetSecretValue was refused: every secret is
	// then read with GetSecretValue for the rest of the process.
	noBatch atomic.Bool

	// described holds the secrets already said to be watched with
	// DescribeSecret (logged once each).
	described sync.Map
}

var (
	_ inject.Provider      = (*Provider)(nil)
	_ inject.BatchProvider = (*Provider)(nil)
)

// New returns a provider on the SDK's default configuration. It reads the
// environment and the shared config files but does no network I/O:
// credentials are fetched on the first request. Errors wrap
// inject.ErrNotConfigured.
func New(opts Options) (*Provider, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var load []func(*config.LoadOptions) error
	if r := firstOf(getenv, "AWS_REGION", "AWS_DEFAULT_REGION"); r != "" {
		load = append(load, config.WithRegion(r))
	}
	if id, key := firstOf(getenv, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"), firstOf(getenv, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"); id != "" && key != "" {
		load = append(load, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(id, key, getenv("AWS_SESSION_TOKEN"))))
	}
	var endpoint string
	if !isTrue(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
		endpoint = firstOf(getenv, "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL")
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), load...)
	if err != nil {
		return nil, configFailure(err)
	}
	if cfg.Credentials != nil {
		cfg.Credentials = markedCredentials{cfg.Credentials}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Provider{cfg: cfg, endpoint: endpoint, log: log, clients: map[string]*secretsmanager.Client{}}

	// The endpoint the SDK would use, wherever it came from (the
	// environment, endpoint_url in the shared config): a client costs no I/O.
	if ep := p.newClient(cfg.Region).Options().BaseEndpoint; ep != nil {
		if err := checkEndpoint(*ep, opts.AllowHTTP); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func checkEndpoint(ep string, allowHTTP bool) error {
	if err := inject.CheckEndpoint(ep, allowHTTP, "the Secrets Manager endpoint (AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL or endpoint_url)"); err != nil {
		return fmt.Errorf("awssm: %w", err)
	}
	return nil
}

func isTrue(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "yes":
		return true
	}
	return false
}

func firstOf(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// newClient returns a Secrets Manager client for region, without the SDK's
// retries: the resolver retries under its deadline, and the SDK's retry
// token bucket would otherwise refuse retries after a burst of throttling.
func (p *Provider) newClient(region string) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(p.cfg, func(o *secretsmanager.Options) {
		o.Region = region
		o.Retryer = aws.NopRetryer{}
		o.RetryMaxAttempts = 0
		if p.endpoint != "" {
			o.BaseEndpoint = aws.String(p.endpoint)
		}
	})
}

// client returns the client of region, created once.
func (p *Provider) client(region string) *secretsmanager.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.clients[region]
	if c == nil {
		c = p.newClient(region)
		p.clients[region] = c
	}
	return c
}

// regionOf returns the region ref is read in: the ARN's, the region=
// option's (the parser puts either in locOf(ref).Region), else the default.
func (p *Provider) regionOf(ref inject.Reference) (string, error) {
	if locOf(ref).Region != "" {
		return locOf(ref).Region, nil
	}
	if f := strings.SplitN(ref.Path(), ":", 7); len(f) == 7 && f[0] == "arn" && f[3] != "" {
		return f[3], nil
	}
	if p.cfg.Region != "" {
		return p.cfg.Region, nil
	}
	return "", fmt.Errorf("awssm: get %s: %w: no AWS region: set AWS_REGION, add ?region=… to the reference, or use the secret's full ARN",
		ref.Path(), inject.ErrNotConfigured)
}

// Fetch reads the secret that ref names with GetSecretValue.
func (p *Provider) Fetch(ctx context.Context, ref inject.Reference) (inject.Payload, error) {
	region, err := p.regionOf(ref)
	if err != nil {
		return inject.Payload{}, err
	}
	return p.get(ctx, region, ref)
}

func (p *Provider) get(ctx context.Context, region string, ref inject.Reference) (inject.Payload, error) {
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref.Path())}
	if ref.Version() != "" {
		in.VersionId = aws.String(ref.Version())
	}
	if locOf(ref).Stage != "" {
		in.VersionStage = aws.String(locOf(ref).Stage)
	}
	out, err := p.client(region).GetSecretValue(ctx, in)
	if err != nil {
		return inject.Payload{}, classify(ctx, ref.Path(), region, err)
	}
	return payload(ref.Path(), out.SecretString, out.SecretBinary, out.VersionId)
}

func payload(id string, str *string, bin []byte, version *string) (inject.Payload, error) {
	var b []byte
	switch {
	case str != nil:
		b = []byte(*str)
	case bin != nil:
		b = bin
	default:
		return inject.Payload{}, fmt.Errorf("awssm: get %s: %w: the version holds neither SecretString nor SecretBinary", id, inject.ErrBadData)
	}
	return inject.Payload{Value: inject.NewSecret(b), Version: aws.ToString(version)}, nil
}

// target is one secret id to read in one region, and the refs (indexes
// into FetchBatch's refs) that want it.
type target struct {
	region string
	ref    inject.Reference // the first ref naming it
	idx    []int
}

// FetchBatch reads refs, grouped by region. Refs that pin a version-id or
// version-stage are read with GetSecretValue each; the others with
// BatchGetSecretValue, MaxBatch ids a call, the calls in parallel (a
// region with a single secret takes GetSecretValue: one call either way).
// If BatchGetSecretValue is refused, the secrets are read with
// GetSecretValue, in parallel, and batches are not tried again.
func (p *Provider) FetchBatch(ctx context.Context, refs []inject.Reference) []inject.BatchResult {
	res := make([]inject.BatchResult, len(refs))
	byRegion := map[string][]*target{}
	seen := map[[2]string]*target{}
	var regions []string
	var jobs []func()
	for i, ref := range refs {
		region, err := p.regionOf(ref)
		if err != nil {
			res[i].Err = err
			continue
		}
		if ref.Version() != "" || locOf(ref).Stage != "" {
			jobs = append(jobs, func() { res[i].Payload, res[i].Err = p.get(ctx, region, ref) })
			continue
		}
		k := [2]string{region, ref.Path()}
		if t := seen[k]; t != nil {
			t.idx = append(t.idx, i)
			continue
		}
		t := &target{region: region, ref: ref, idx: []int{i}}
		seen[k] = t
		if byRegion[region] == nil {
			regions = append(regions, region)
		}
		byRegion[region] = append(byRegion[region], t)
	}

	single := func(t *target) func() {
		return func() {
			pl, err := p.get(ctx, t.region, t.ref)
			for _, i := range t.idx {
				res[i].Payload, res[i].Err = pl, err
			}
		}
	}
	var mu sync.Mutex
	var fallback []*target
	for _, region := range regions {
		ts := byRegion[region]
		if len(ts) == 1 || p.noBatch.Load() {
			for _, t := range ts {
				jobs = append(jobs, single(t))
			}
			continue
		}
		for chunk := range slices.Chunk(ts, MaxBatch) {
			jobs = append(jobs, func() {
				rest := p.batch(ctx, region, chunk, res)
				mu.Lock()
				fallback = append(fallback, rest...)
				mu.Unlock()
			})
		}
	}
	runAll(jobs)

	jobs = jobs[:0]
	for _, t := range fallback {
		jobs = append(jobs, single(t))
	}
	runAll(jobs)
	return res
}

// runAll runs jobs, at most maxParallel at a time, and waits for them.
func runAll(jobs []func()) {
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for _, job := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			job()
		})
	}
	wg.Wait()
}

// batch reads ts (at most MaxBatch, one region) with BatchGetSecretValue
// and stores their results in res. It returns the targets left to read
// with GetSecretValue: all of them when batch reads are refused, and any
// that the answer did not mention.
func (p *Provider) batch(ctx context.Context, region string, ts []*target, res []inject.BatchResult) []*target {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ref.Path()
	}
	done := make([]bool, len(ts))
	set := func(j int, pl inject.Payload, err error) {
		done[j] = true
		for _, i := range ts[j].idx {
			res[i].Payload, res[i].Err = pl, err
		}
	}
	in := &secretsmanager.BatchGetSecretValueInput{SecretIdList: ids}
	c := p.client(region)
	for page := 0; page < maxPages; page++ {
		out, err := c.BatchGetSecretValue(ctx, in)
		if err != nil {
			code := apiCode(err)
			switch {
			case ctx.Err() != nil:
			case refusesBatch(code):
				if p.noBatch.CompareAndSwap(false, true) {
					p.log.Info("awssm: BatchGetSecretValue refused, reading each secret with GetSecretValue from now on",
						"code", CodeBatchRefused, "region", region, "cause", code,
						"hint", "allow secretsmanager:BatchGetSecretValue to read up to 20 secrets per call")
				}
				return pending(ts, done)
			case aboutOneSecret(code):
				// Which secret it is about, only reading each one tells.
				p.log.Debug("awssm: BatchGetSecretValue failed as a whole, reading each secret", "code", CodeBatchSplit, "region", region, "cause", code)
				return pending(ts, done)
			}
			for j := range ts {
				if !done[j] {
					set(j, inject.Payload{}, classify(ctx, ids[j], region, err))
				}
			}
			return nil
		}
		for _, e := range out.Errors {
			if j := slices.Index(ids, aws.ToString(e.SecretId)); j >= 0 && !done[j] {
				set(j, inject.Payload{}, fromCode(ids[j], region, aws.ToString(e.ErrorCode), aws.ToString(e.Message), 0, smithy.FaultUnknown))
			}
		}
		for j, id := range ids {
			if done[j] {
				continue
			}
			if v := match(id, out.SecretValues); v >= 0 {
				e := out.SecretValues[v]
				pl, err := payload(id, e.SecretString, e.SecretBinary, e.VersionId)
				set(j, pl, err)
			}
		}
		tok := aws.ToString(out.NextToken)
		if tok == "" || tok == aws.ToString(in.NextToken) || !slices.Contains(done, false) {
			break
		}
		in.NextToken = aws.String(tok)
	}
	return pending(ts, done)
}

// pending returns the targets not done.
func pending(ts []*target, done []bool) []*target {
	var rest []*target
	for j, t := range ts {
		if !done[j] {
			rest = append(rest, t)
		}
	}
	return rest
}

// aboutOneSecret reports whether an error code of a whole batch call
// concerns a secret rather than the call: AWS reports these per secret, in
// Errors, but should one fail a call of several ids, it cannot be pinned on
// any of them.
func aboutOneSecret(code string) bool {
	switch code {
	case "ResourceNotFoundException", "InvalidRequestException", "DecryptionFailure":
		return true
	}
	return false
}

// refusesBatch reports whether a BatchGetSecretValue error code means the
// operation is not allowed (an IAM policy granting only GetSecretValue) or
// not served (an endpoint that predates it).
func refusesBatch(code string) bool {
	switch code {
	case "AccessDeniedException", "AccessDenied", "UnknownOperationException", "InvalidAction":
		return true
	}
	return false
}

// match returns the index of the entry that answers id, or -1. AWS answers
// with the secret's full ARN and name; id may be either, or a partial ARN
// (the full one without its "-XXXXXX" suffix). An exact ARN wins over a
// name, a name over a partial ARN.
func match(id string, vals []types.SecretValueEntry) int {
	best, rank := -1, 0
	for i, v := range vals {
		if r := idRank(id, aws.ToString(v.ARN), aws.ToString(v.Name)); r > rank {
			best, rank = i, r
		}
	}
	return best
}

// idRank tells how well a secret with this ARN and name answers id: 3 for
// the same ARN, 2 for the same name, 1 when id is its partial ARN, 0 when
// it does not.
func idRank(id, arn, name string) int {
	switch {
	case arn == id:
		return 3
	case name == id:
		return 2
	case strings.HasPrefix(id, "arn:") && len(arn) == len(id)+7 && arn[len(id)] == '-' && strings.HasPrefix(arn, id):
		return 1
	}
	return 0
}

// markedCredentials marks the errors of a credentials provider, so that a
// failure to get credentials is told apart from a failed request.
type markedCredentials struct{ aws.CredentialsProvider }

func (m markedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := m.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, &credentialsError{err}
	}
	return c, nil
}

type credentialsError struct{ err error }

func (e *credentialsError) Error() string { return e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// apiCode returns the AWS error code err carries, if any.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// httpStatus returns the HTTP status of the answer err came from, or 0.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// classify maps an error of a Secrets Manager call to the core's sentinels.
func classify(ctx context.Context, id, region string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("awssm: get %s: %w", id, ctx.Err())
	}
	var ce *credentialsError
	if errors.As(err, &ce) {
		return credentialsFailure(id, ce.err)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fromCode(id, region, ae.ErrorCode(), ae.ErrorMessage(), httpStatus(err), ae.ErrorFault())
	}
	if s := httpStatus(err); s >= 500 || s == 429 {
		return fmt.Errorf("awssm: get %s: %w (%s: HTTP %d)", id, inject.ErrUnavailable, region, s)
	}
	var se *smithyhttp.RequestSendError
	var ne net.Error
	if errors.As(err, &se) || errors.As(err, &ne) {
		return fmt.Errorf("awssm: get %s: %w (%s: %s)", id, inject.ErrUnavailable, region, trunc(innermost(err).Error(), 300))
	}
	return fmt.Errorf("awssm: get %s: %s", id, trunc(err.Error(), 300))
}

// innermost strips the SDK's and net/http's wrappers off a transport
// error: "dial tcp 127.0.0.1:1: connect: connection refused".
func innermost(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	var se *smithyhttp.RequestSendError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}

// credentialsFailure classifies a failure to get credentials: an endpoint
// that answered with a server fault or throttling is worth another attempt;
// anything else (no credentials anywhere in the chain, a container endpoint
// or STS refusing, nothing listening) is an authentication failure, which
// fails at once instead of waiting for the deadline.
//
// The SDK's own error text is never passed on: where credentials flow it can
// hold them (a credential_process whose output is not valid JSON is quoted
// whole, keys included). The message names the step of the chain that
// failed, from the type of the error, and AWS's error code if any.
func credentialsFailure(id string, err error) error {
	step := credentialStep(err)
	code := apiCode(err)
	detail := step
	if code != "" {
		detail += " (" + code + ")"
	}
	var ae smithy.APIError
	if s := httpStatus(err); s >= 500 || s == 429 || isThrottle(code) || (errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultServer) {
		return fmt.Errorf("awssm: get %s: %w: could not get AWS credentials: %s did not answer", id, inject.ErrUnavailable, detail)
	}
	return fmt.Errorf("awssm: get %s: %w: could not get AWS credentials: %s failed (the SDK's message is not shown: it may hold credentials)",
		id, inject.ErrAuth, detail)
}

// credentialSteps name the SDK's credential providers by package.
var credentialSteps = []struct{ pkg, step string }{
	{"/credentials/processcreds", "the profile's credential_process"},
	{"/credentials/ssocreds", "AWS IAM Identity Center (SSO) login"},
	{"/credentials/logincreds", "the AWS console login session"},
	{"/credentials/stscreds", "assuming the role with STS (web identity / IRSA, or the profile's role_arn)"},
	{"/credentials/endpointcreds", "the container credentials endpoint (ECS task role, EKS Pod Identity)"},
	{"/credentials/ec2rolecreds", "the EC2 instance role (IMDS)"},
	{"/feature/ec2/imds", "the EC2 instance metadata service (IMDS)"},
	{"/service/sts", "STS"},
	{"/service/sso", "AWS IAM Identity Center (SSO)"},
	{"/service/ssooidc", "AWS IAM Identity Center (SSO) token refresh"},
}

// credentialStep returns which step of the credential chain err comes from,
// judged by the packages of the errors it wraps.
func credentialStep(err error) string {
	var walk func(error) string
	walk = func(e error) string {
		for e != nil {
			t := reflect.TypeOf(e)
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			for _, s := range credentialSteps {
				if strings.HasSuffix(t.PkgPath(), s.pkg) {
					return s.step
				}
			}
			if j, ok := e.(interface{ Unwrap() []error }); ok {
				for _, inner := range j.Unwrap() {
					if s := walk(inner); s != "" {
						return s
					}
				}
				return ""
			}
			e = errors.Unwrap(e)
		}
		return ""
	}
	if s := walk(err); s != "" {
		return s
	}
	if strings.Contains(err.Error(), "no EC2 IMDS role found") || strings.Contains(err.Error(), "failed to refresh cached credentials") {
		return "the SDK's credential chain (no credentials found: environment keys, AWS_PROFILE, web identity, container credentials, IMDS)"
	}
	return "the SDK's credential chain (environment keys, AWS_PROFILE, web identity, container credentials, IMDS)"
}

// configFailure describes a failure to load the SDK's configuration (the
// environment, the shared config and credentials files) without its text,
// which can quote the files; a missing profile is named.
func configFailure(err error) error {
	var nf config.SharedConfigProfileNotExistError
	if errors.As(err, &nf) {
		return fmt.Errorf("awssm: %w: the AWS profile %q does not exist in the shared config files (AWS_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE)", inject.ErrNotConfigured, nf.Profile)
	}
	return fmt.Errorf("awssm: %w: cannot load the AWS configuration (AWS_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_* settings); the SDK's message is not shown: it may quote the files", inject.ErrNotConfigured)
}

func isThrottle(code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
		"LimitExceededException", "RequestThrottled", "RequestThrottledException", "ProvisionedThroughputExceededException",
		"SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", "BandwidthLimitExceeded":
		return true
	}
	return false
}

// fromCode maps an AWS error code (of a call, or of one entry of a batch
// answer) to the core's sentinels. status and fault are those of the call,
// when known.
func fromCode(id, region, code, msg string, status int, fault smithy.ErrorFault) error {
	detail := fmt.Sprintf("(%s: %s: %s)", region, code, trunc(msg, 300))
	switch code {
	case "ResourceNotFoundException", "InvalidRequestException":
		if strings.Contains(msg, "marked for deletion") {
			// Recoverable until its recovery window ends.
			return fmt.Errorf("awssm: get %s: %w: %w %s", id, inject.ErrNotFound, inject.ErrSoftDeleted, detail)
		}
		return fmt.Errorf("awssm: get %s: %w %s", id, inject.ErrNotFound, detail)
	case "AccessDeniedException", "AccessDenied":
		return fmt.Errorf("awssm: get %s: %w %s", id, inject.ErrPermission, detail)
	case "DecryptionFailure":
		return fmt.Errorf("awssm: get %s: %w: KMS could not decrypt the secret: check kms:Decrypt on its key %s", id, inject.ErrPermission, detail)
	case "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "ExpiredToken",
		"IncompleteSignature", "IncompleteSignatureException", "MissingAuthenticationToken",
		"MissingAuthenticationTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch", "AuthFailure",
		"RequestExpired", "InvalidAccessKeyId", "InvalidToken":
		return fmt.Errorf("awssm: get %s: %w: AWS rejected the credentials %s", id, inject.ErrAuth, detail)
	case "ValidationException", "InvalidParameterException":
		return fmt.Errorf("awssm: get %s: %w: AWS refused the request %s", id, inject.ErrBadReference, detail)
	}
	if isThrottle(code) || status >= 500 || status == 429 || fault == smithy.FaultServer ||
		code == "InternalServiceError" || code == "InternalFailure" || code == "ServiceUnavailable" ||
		code == "ServiceUnavailableException" || code == "RequestTimeout" || code == "RequestTimeoutException" {
		return fmt.Errorf("awssm: get %s: %w %s", id, inject.ErrUnavailable, detail)
	}
	return fmt.Errorf("awssm: get %s: %s", id, detail[1:len(detail)-1])
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
