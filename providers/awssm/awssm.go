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
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/awscfg"
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
// its source, so that a new variable in an upgrade is classified. The list
// is internal/awscfg's, which providers/awsssm shares.
var CredentialVars = awscfg.CredentialVars

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
	l, err := awscfg.Load(getenv, "AWS_ENDPOINT_URL_SECRETS_MANAGER")
	if err != nil {
		return nil, fmt.Errorf("awssm: %w", err)
	}
	cfg, endpoint := l.Config, l.Endpoint
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
			code := awscfg.APICode(err)
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

// classify maps an error of a Secrets Manager call to the core's sentinels.
func classify(ctx context.Context, id, region string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("awssm: get %s: %w", id, ctx.Err())
	}
	if chain := awscfg.ChainError(err); chain != nil {
		// Judged from the chain's own error alone, not from the provider
		// Load saw the chain choose: awssm's messages as they were.
		return fmt.Errorf("awssm: get %s: %w", id, awscfg.CredentialFailure(chain))
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fromCode(id, region, ae.ErrorCode(), ae.ErrorMessage(), awscfg.HTTPStatus(err), ae.ErrorFault())
	}
	if s := awscfg.HTTPStatus(err); s >= 500 || s == 429 {
		return fmt.Errorf("awssm: get %s: %w (%s: HTTP %d)", id, inject.ErrUnavailable, region, s)
	}
	if awscfg.IsTransport(err) {
		return fmt.Errorf("awssm: get %s: %w (%s: %s)", id, inject.ErrUnavailable, region, awscfg.Trunc(awscfg.Innermost(err).Error(), 300))
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		// Its text may quote the answer where decoding failed, and the
		// answer holds values.
		return fmt.Errorf("awssm: get %s: Secrets Manager's answer could not be decoded (%s)", id, region)
	}
	return fmt.Errorf("awssm: get %s: %s", id, awscfg.Trunc(err.Error(), 300))
}

// fromCode maps an AWS error code (of a call, or of one entry of a batch
// answer) to the core's sentinels. status and fault are those of the call,
// when known.
func fromCode(id, region, code, msg string, status int, fault smithy.ErrorFault) error {
	detail := fmt.Sprintf("(%s: %s: %s)", region, code, awscfg.Trunc(msg, 300))
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
	case "ValidationException", "InvalidParameterException":
		return fmt.Errorf("awssm: get %s: %w: AWS refused the request %s", id, inject.ErrBadReference, detail)
	}
	if awscfg.IsAuthCode(code) {
		return fmt.Errorf("awssm: get %s: %w: AWS rejected the credentials %s", id, inject.ErrAuth, detail)
	}
	if awscfg.IsThrottle(code) || status >= 500 || status == 429 || fault == smithy.FaultServer ||
		code == "InternalServiceError" || code == "InternalFailure" || code == "ServiceUnavailable" ||
		code == "ServiceUnavailableException" || code == "RequestTimeout" || code == "RequestTimeoutException" {
		return fmt.Errorf("awssm: get %s: %w %s", id, inject.ErrUnavailable, detail)
	}
	return fmt.Errorf("awssm: get %s: %s", id, detail[1:len(detail)-1])
}
