// Package awsssm is the store for awsssm:// references: parameters of AWS
// Systems Manager Parameter Store, read with the AWS SDK for Go v2
// (service/ssm).
//
// A reference names a parameter by name (/n8n/prod/db, or n8n-key without
// a hierarchy) or, for a parameter another account shares, by full ARN. It
// reads the latest version, or the one ?version=N pins, or the one ?label=L
// is on. Its region is the ARN's, else ?region=, else the one the SDK's
// default configuration gives (AWS_REGION, AWS_DEFAULT_REGION, the
// profile's). A SecureString is decrypted (WithDecryption): kms:Decrypt on
// its key is Parameter Store's to ask. A StringList is taken whole, as AWS
// returns it (the items joined by commas): the core applies #key and
// #/pointer selectors to a value as JSON, which a StringList is not.
//
// Names under /aws/reference/secretsmanager/ read a Secrets Manager secret
// through Parameter Store, as AWS documents it: with decryption,
// ?label= a staging label (AWSPREVIOUS), ?version= a VersionId; the value
// is the secret's SecretString (a binary secret has none through Parameter
// Store); the version logged is the secret's VersionId, from the answer's
// SourceResult.
//
// Credentials and configuration are awssm://'s (internal/awscfg): the SDK's
// default chain (environment keys, shared config and profiles, web
// identity/IRSA, ECS and EKS Pod Identity container credentials, IMDS),
// fetched on the first request, not by New. AWS_ENDPOINT_URL_SSM (or
// AWS_ENDPOINT_URL) points the client elsewhere; a plain http:// endpoint
// off loopback is refused unless the user allows it.
//
// Parameters are read with GetParameters, MaxBatch names a call, the calls
// in parallel, one client per region: the only permission it needs is
// ssm:GetParameters. A call that fails as a whole for one of its names (a
// denied parameter, a refused Secrets Manager secret, a KMS key) is split,
// each name read on its own, so that only the names at fault fail. The
// SDK's own retries are off: the resolver retries transient faults under
// its deadline.
//
// Errors map to the core's sentinels: names in InvalidParameters,
// ParameterNotFound and ParameterVersionNotFound to ErrNotFound (a pinned
// version or label that does not exist is told apart from a missing
// parameter); AccessDeniedException (IAM, or KMS refusing the key),
// InvalidKeyId and a Secrets Manager refusal to ErrPermission; rejected or
// missing credentials to ErrAuth; ThrottlingException, 5xx and connection
// errors to ErrUnavailable. They carry AWS's error codes and messages,
// which never hold values; the SDK's text is never passed on where
// credentials flow.
package awsssm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/awscfg"
)

// MaxBatch is the most names one GetParameters call takes.
const MaxBatch = 10

// maxParallel bounds the calls one FetchRefs or WatchRefs has in flight.
const maxParallel = 16

// Config configures a Provider.
type Config struct {
	// Getenv reads the variables that select the region (AWS_REGION,
	// AWS_DEFAULT_REGION), the endpoint (AWS_ENDPOINT_URL_SSM,
	// AWS_ENDPOINT_URL, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS) and static keys
	// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), with
	// the SDK's precedence. The rest of the SDK's chain (profiles, web
	// identity, container credentials, IMDS) reads the process environment
	// itself, as main's Getenv does. nil means os.Getenv.
	Getenv func(string) string
	// SecretsDir is the secrets directory. This store reads no file of its
	// own there (the SDK reads the files its variables name).
	SecretsDir string
	// AllowHTTP permits a plain http:// endpoint that is not on loopback
	// (N8N_SECRETS_ALLOW_HTTP).
	AllowHTTP bool
	// Logger receives the provider's events. It logs none today: its one
	// candidate, a batch call split (awssm's AWSSM_BATCH_SPLIT), needs a code
	// of its own in the project's table of codes. nil discards.
	Logger *slog.Logger
}

// Provider reads parameters from AWS Systems Manager Parameter Store. It is
// safe for concurrent use.
type Provider struct {
	cfg      aws.Config
	endpoint string // explicit endpoint from Getenv, if any
	sent     atomic.Int64

	mu      sync.Mutex
	clients map[string]*ssm.Client // by region
}

// New returns a provider on the SDK's default configuration. It reads the
// environment and the shared config files but does no network I/O:
// credentials are fetched on the first request. Errors wrap
// inject.ErrNotConfigured.
func New(c Config) (*Provider, error) {
	getenv := c.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	l, err := awscfg.Load(getenv, "AWS_ENDPOINT_URL_SSM")
	if err != nil {
		return nil, fmt.Errorf("awsssm: %w", err)
	}
	p := &Provider{cfg: l.Config, endpoint: l.Endpoint, clients: map[string]*ssm.Client{}}
	// The endpoint the SDK would use, wherever it came from (the
	// environment, endpoint_url in the shared config): a client costs no I/O.
	if ep := p.newClient(l.Config.Region).Options().BaseEndpoint; ep != nil {
		if err := inject.CheckEndpoint(*ep, c.AllowHTTP, "the Systems Manager endpoint (AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL or endpoint_url)"); err != nil {
			return nil, fmt.Errorf("awsssm: %w", err)
		}
	}
	return p, nil
}

// Requests returns how many requests the provider sent to Parameter Store
// (the credential chain's own requests are not counted).
func (p *Provider) Requests() int64 { return p.sent.Load() }

// counting counts the requests a client sends.
type counting struct {
	inner ssm.HTTPClient
	n     *atomic.Int64
}

func (c counting) Do(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.inner.Do(r)
}

// newClient returns a Systems Manager client for region, without the SDK's
// retries: the resolver retries under its deadline, and the SDK's retry
// token bucket would otherwise refuse retries after a burst of throttling.
func (p *Provider) newClient(region string) *ssm.Client {
	return ssm.NewFromConfig(p.cfg, func(o *ssm.Options) {
		o.Region = region
		o.Retryer = aws.NopRetryer{}
		o.RetryMaxAttempts = 0
		if p.endpoint != "" {
			o.BaseEndpoint = aws.String(p.endpoint)
		}
		inner := o.HTTPClient
		if inner == nil {
			inner = awshttp.NewBuildableClient()
		}
		o.HTTPClient = counting{inner: inner, n: &p.sent}
	})
}

// client returns the client of region, created once.
func (p *Provider) client(region string) *ssm.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.clients[region]
	if c == nil {
		c = p.newClient(region)
		p.clients[region] = c
	}
	return c
}

// regionOf returns the region r is read in: the ARN's or the region=
// option's (ParseRef puts either in r.Region), else the default.
func (p *Provider) regionOf(r Ref) (string, error) {
	if r.Region != "" {
		return r.Region, nil
	}
	if p.cfg.Region != "" {
		return p.cfg.Region, nil
	}
	return "", fmt.Errorf("awsssm: get %s: %w: no AWS region: set AWS_REGION, add ?region=… to the reference, or use the parameter's full ARN",
		r.describe(), inject.ErrNotConfigured)
}

// FetchRef reads the parameter r names, decrypted. Errors follow
// inject.Provider's contract and start with "awsssm: get <name>".
func (p *Provider) FetchRef(ctx context.Context, r Ref) (inject.Payload, error) {
	res := p.FetchRefs(ctx, []Ref{r})
	return res[0].Payload, res[0].Err
}

// item is one name to read in one region, and the refs (indexes into the
// caller's refs) that want it.
type item struct {
	region string
	ref    Ref
	idx    []int
}

// group sorts refs by region, one item per distinct name; refs without a
// region get their error in errs. skip leaves refs out.
func (p *Provider) group(refs []Ref, errs []error, skip func(Ref) bool) (regions []string, byRegion map[string][]*item) {
	byRegion = map[string][]*item{}
	seen := map[[2]string]*item{}
	for i, r := range refs {
		if skip != nil && skip(r) {
			continue
		}
		region, err := p.regionOf(r)
		if err != nil {
			errs[i] = err
			continue
		}
		k := [2]string{region, r.wireName()}
		if it := seen[k]; it != nil {
			it.idx = append(it.idx, i)
			continue
		}
		it := &item{region: region, ref: r, idx: []int{i}}
		seen[k] = it
		if byRegion[region] == nil {
			regions = append(regions, region)
		}
		byRegion[region] = append(byRegion[region], it)
	}
	return regions, byRegion
}

// FetchRefs reads refs, decrypted, with GetParameters: grouped by region,
// MaxBatch names a call, the calls in parallel. Each result follows
// inject.Provider's contract.
func (p *Provider) FetchRefs(ctx context.Context, refs []Ref) []inject.BatchResult {
	res := make([]inject.BatchResult, len(refs))
	errs := make([]error, len(refs))
	regions, byRegion := p.group(refs, errs, nil)
	for i, err := range errs {
		if err != nil {
			res[i].Err = err
		}
	}
	var mu sync.Mutex
	var missing []*item // pinned versions or labels not found
	var split []*item   // names of calls that failed as a whole, to read on their own
	var jobs []func()
	for _, region := range regions {
		for chunk := range slices.Chunk(byRegion[region], MaxBatch) {
			jobs = append(jobs, func() {
				m, sp := p.read(ctx, region, chunk, res)
				mu.Lock()
				missing, split = append(missing, m...), append(split, sp...)
				mu.Unlock()
			})
		}
	}
	runAll(jobs)
	jobs = jobs[:0]
	for _, it := range split {
		jobs = append(jobs, func() {
			m, _ := p.read(ctx, it.region, []*item{it}, res)
			mu.Lock()
			missing = append(missing, m...)
			mu.Unlock()
		})
	}
	runAll(jobs)
	if len(missing) > 0 && ctx.Err() == nil {
		p.explainMissing(ctx, missing, res)
	}
	return res
}

// read reads items (at most MaxBatch, one region) and stores their
// results in res. It returns the items pinned to a version or label that
// Parameter Store did not find, and, when the call failed as a whole in a
// way that may concern one of several names, the items to read on their
// own (their results are not set).
func (p *Provider) read(ctx context.Context, region string, items []*item, res []inject.BatchResult) (missing, split []*item) {
	set := func(it *item, pl inject.Payload, err error) {
		for _, i := range it.idx {
			res[i].Payload, res[i].Err = pl, err
		}
	}
	out, err := p.getParameters(ctx, region, items, true)
	if err != nil {
		if len(items) > 1 && ctx.Err() == nil && aboutOneName(err) {
			return nil, items
		}
		for _, it := range items {
			set(it, inject.Payload{}, classify(ctx, it.ref, region, err))
		}
		return nil, nil
	}
	for _, it := range items {
		if prm := match(it.ref, out.Parameters); prm != nil {
			pl, err := payload(it.ref, region, prm)
			set(it, pl, err)
			continue
		}
		if slices.Contains(out.InvalidParameters, it.ref.wireName()) {
			set(it, inject.Payload{}, notFound(it.ref, region, ""))
			if it.ref.Version() != "" && !it.ref.IsSecretsManager() {
				missing = append(missing, it)
			}
			continue
		}
		set(it, inject.Payload{}, fmt.Errorf("awsssm: get %s: Parameter Store's answer names it neither in Parameters nor in InvalidParameters (%s)", it.ref.describe(), region))
	}
	return missing, nil
}

// getParameters sends one GetParameters call for items.
func (p *Provider) getParameters(ctx context.Context, region string, items []*item, decrypt bool) (*ssm.GetParametersOutput, error) {
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = it.ref.wireName()
	}
	return p.client(region).GetParameters(ctx, &ssm.GetParametersInput{Names: names, WithDecryption: aws.Bool(decrypt)})
}

// explainMissing tells, for pinned references Parameter Store did not find,
// whether the parameter exists: it reads the latest version of each,
// without decryption (no value is kept), and rewrites the not-found errors
// in res. A failure leaves them as they are.
func (p *Provider) explainMissing(ctx context.Context, missing []*item, res []inject.BatchResult) {
	regions, byRegion := map[string]bool{}, map[string][]*item{}
	var order []string
	for _, it := range missing {
		bare := &item{region: it.region, ref: Ref{Name: it.ref.Name, Region: it.ref.Region}}
		if !slices.ContainsFunc(byRegion[it.region], func(x *item) bool { return x.ref.Name == bare.ref.Name }) {
			byRegion[it.region] = append(byRegion[it.region], bare)
		}
		if !regions[it.region] {
			regions[it.region] = true
			order = append(order, it.region)
		}
	}
	var mu sync.Mutex
	latest := map[[2]string]int64{} // region, name: latest version; 0 when the parameter does not exist
	var jobs []func()
	for _, region := range order {
		for chunk := range slices.Chunk(byRegion[region], MaxBatch) {
			jobs = append(jobs, func() {
				out, err := p.getParameters(ctx, region, chunk, false)
				if err != nil {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, it := range chunk {
					if prm := match(it.ref, out.Parameters); prm != nil {
						latest[[2]string{region, it.ref.Name}] = prm.Version
					} else if slices.Contains(out.InvalidParameters, it.ref.Name) {
						latest[[2]string{region, it.ref.Name}] = 0
					}
				}
			})
		}
	}
	runAll(jobs)
	for _, it := range missing {
		v, known := latest[[2]string{it.region, it.ref.Name}]
		if !known {
			continue
		}
		var why string
		switch {
		case v == 0:
			why = "the parameter does not exist"
		case it.ref.VersionID != "":
			why = fmt.Sprintf("the parameter exists; its version %s does not (the latest is %d; Parameter Store keeps the last 100)", it.ref.VersionID, v)
		default:
			why = fmt.Sprintf("the parameter exists (latest version %d); no version carries the label %s", v, it.ref.Label)
		}
		err := notFound(it.ref, it.region, why)
		for _, i := range it.idx {
			res[i].Err = err
		}
	}
}

// notFound is the error of a reference Parameter Store did not find.
func notFound(r Ref, region, why string) error {
	if why == "" {
		switch {
		case r.IsSecretsManager() && r.Version() != "":
			why = "Secrets Manager has no such secret, or no such version or staging label of it"
		case r.IsSecretsManager():
			why = "Secrets Manager has no such secret"
		case r.Version() != "":
			why = "no such parameter, or no such version or label of it"
		default:
			why = "no such parameter"
		}
	}
	return fmt.Errorf("awsssm: get %s: %w (%s: %s)", r.describe(), inject.ErrNotFound, region, why)
}

// match returns the entry of an answer that answers r, or nil: the same
// name (or ARN, for a reference by ARN) and the same selector.
func match(r Ref, params []types.Parameter) *types.Parameter {
	want := ""
	if v := r.Version(); v != "" {
		want = ":" + v
	}
	for i := range params {
		prm := &params[i]
		if aws.ToString(prm.Selector) != want {
			continue
		}
		if aws.ToString(prm.Name) == r.Name || (r.IsARN() && aws.ToString(prm.ARN) == r.Name) {
			return prm
		}
	}
	return nil
}

// payload is the value of an answer: the parameter's value and version, or
// for a Secrets Manager reference its SecretString and VersionId.
func payload(r Ref, region string, prm *types.Parameter) (inject.Payload, error) {
	if r.IsSecretsManager() {
		if prm.Value == nil {
			return inject.Payload{}, fmt.Errorf("awsssm: get %s: %w (%s: the secret's value is binary (SecretBinary), which Parameter Store does not return; read it with awssm://)",
				r.describe(), inject.ErrBadData, region)
		}
		return inject.Payload{Value: inject.NewSecret([]byte(*prm.Value)), Version: sourceVersion(prm.SourceResult)}, nil
	}
	if prm.Value == nil {
		return inject.Payload{}, fmt.Errorf("awsssm: get %s: %w (%s: Parameter Store returned no value)", r.describe(), inject.ErrBadData, region)
	}
	return inject.Payload{Value: inject.NewSecret([]byte(*prm.Value)), Version: strconv.FormatInt(prm.Version, 10)}, nil
}

// sourceVersion returns the VersionId of the Secrets Manager answer a
// reference's SourceResult holds, or "". Only that member is decoded (the
// document also holds the secret's value); the match of member names is
// case-insensitive, as AWS has written them both ways.
func sourceVersion(src *string) string {
	var s struct{ VersionID string }
	if src == nil || json.Unmarshal([]byte(*src), &s) != nil {
		return ""
	}
	return s.VersionID
}

// runAll runs jobs, at most maxParallel at a time, and waits for them.
func runAll(jobs []func()) {
	if len(jobs) == 1 {
		jobs[0]()
		return
	}
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

// aboutOneName reports whether a GetParameters call that failed as a whole
// may have failed for one of its names: IAM refusing one parameter, KMS
// refusing one key, Secrets Manager refusing one secret, one name AWS finds
// malformed. Reading each name on its own tells which.
func aboutOneName(err error) bool {
	switch awscfg.APICode(err) {
	case "AccessDeniedException", "AccessDenied", "InvalidKeyId", "ValidationException",
		"ParameterNotFound", "ParameterVersionNotFound":
		return true
	}
	return false
}

// ReviewAccess reports credentials that are long-lived access keys rather
// than a role's temporary credentials (inject.AccessReviewer's contract).
func (p *Provider) ReviewAccess(ctx context.Context, refs []Ref) ([]inject.AccessFinding, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	f, err := awscfg.LongLivedKeys(ctx, p.cfg.Credentials)
	if err != nil {
		return nil, fmt.Errorf("awsssm: %w", err)
	}
	if f == nil {
		return nil, nil
	}
	return []inject.AccessFinding{*f}, nil
}

// classify maps an error of a Parameter Store call to the core's sentinels.
func classify(ctx context.Context, r Ref, region string, err error) error {
	what := r.describe()
	if ctx.Err() != nil {
		return fmt.Errorf("awsssm: get %s: %w", what, ctx.Err())
	}
	if awscfg.IsCredentialsError(err) {
		return fmt.Errorf("awsssm: get %s: %w", what, awscfg.CredentialFailure(err))
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fromCode(what, region, ae.ErrorCode(), ae.ErrorMessage(), awscfg.HTTPStatus(err), ae.ErrorFault())
	}
	if s := awscfg.HTTPStatus(err); s >= 500 || s == 429 {
		return fmt.Errorf("awsssm: get %s: %w (%s: HTTP %d)", what, inject.ErrUnavailable, region, s)
	}
	if awscfg.IsTransport(err) {
		return fmt.Errorf("awsssm: get %s: %w (%s: %s)", what, inject.ErrUnavailable, region, awscfg.Trunc(awscfg.Innermost(err).Error(), 300))
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		// Its text may quote the answer, which holds values.
		return fmt.Errorf("awsssm: get %s: Parameter Store's answer could not be decoded (%s)", what, region)
	}
	return fmt.Errorf("awsssm: get %s: %s", what, awscfg.Trunc(err.Error(), 300))
}

// fromCode maps an AWS error code to the core's sentinels. status and
// fault are those of the call, when known.
func fromCode(what, region, code, msg string, status int, fault smithy.ErrorFault) error {
	detail := fmt.Sprintf("(%s: %s: %s)", region, code, awscfg.Trunc(msg, 300))
	switch code {
	case "ParameterNotFound":
		return fmt.Errorf("awsssm: get %s: %w %s", what, inject.ErrNotFound, detail)
	case "ParameterVersionNotFound":
		return fmt.Errorf("awsssm: get %s: %w: the parameter exists, this version does not %s", what, inject.ErrNotFound, detail)
	case "AccessDeniedException", "AccessDenied":
		if strings.Contains(msg, "KMS") || strings.Contains(msg, "ciphertext") {
			return fmt.Errorf("awsssm: get %s: %w: KMS refused to decrypt the SecureString: allow kms:Decrypt on its key %s", what, inject.ErrPermission, detail)
		}
		return fmt.Errorf("awsssm: get %s: %w %s", what, inject.ErrPermission, detail)
	case "InvalidKeyId":
		return fmt.Errorf("awsssm: get %s: %w: the parameter's KMS key cannot be used (disabled, deleted, or not allowed to the caller) %s", what, inject.ErrPermission, detail)
	case "ValidationException":
		switch {
		case strings.Contains(msg, "dependency service"):
			return fmt.Errorf("awsssm: get %s: %w: Parameter Store reports that Secrets Manager refused the secret: allow secretsmanager:GetSecretValue on it (and kms:Decrypt on its key if customer managed) %s",
				what, inject.ErrPermission, detail)
		case strings.Contains(msg, "Invalid Request to Secrets Manager"):
			return fmt.Errorf("awsssm: get %s: %w: Secrets Manager refused to read the secret (marked for deletion) %s", what, inject.ErrNotFound, detail)
		}
		return fmt.Errorf("awsssm: get %s: %w: AWS refused the request %s", what, inject.ErrBadReference, detail)
	}
	if awscfg.IsAuthCode(code) {
		return fmt.Errorf("awsssm: get %s: %w: AWS rejected the credentials %s", what, inject.ErrAuth, detail)
	}
	if awscfg.IsThrottle(code) || status >= 500 || status == 429 || fault == smithy.FaultServer ||
		code == "InternalServerError" || code == "InternalFailure" || code == "ServiceUnavailable" ||
		code == "ServiceUnavailableException" || code == "RequestTimeout" || code == "RequestTimeoutException" {
		return fmt.Errorf("awsssm: get %s: %w %s", what, inject.ErrUnavailable, detail)
	}
	return fmt.Errorf("awsssm: get %s: %s", what, detail[1:len(detail)-1])
}
