package awsssm

import (
	"context"
	"slices"
	"strconv"
	"sync"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Watching for new versions (supervise mode): GetParameters without
// decryption answers each parameter's Version, MaxBatch names a call,
// without a KMS request: a SecureString's value stays encrypted (the
// answer carries its ciphertext, which is dropped). It needs no permission
// beyond what reading needs (ssm:GetParameters, no kms:Decrypt), and it
// follows labels: a label moved to another version is a change.
//
// DescribeParameters was measured against it (docs/stores.md): it takes 50
// names a call (a Name filter, MaxResults 50), but needs
// ssm:DescribeParameters, which IAM cannot scope to parameters (Resource
// "*": the names and metadata of every parameter of the account), it
// cannot tell which version a label is on, and it does not list shared
// parameters by ARN nor Secrets Manager references.
//
// A reference to a Secrets Manager secret has no version Parameter Store
// can tell without reading it (it must be read with decryption): its stamp
// is empty, and the caller reads it to compare.

// WatchRefs returns, for each reference, the version Parameter Store serves
// for it now: the Version a FetchRef of it reports. A reference pinned to a
// version gets that version while it exists. Errors follow FetchRef's
// contract (ErrNotFound when the parameter, its version or its label is
// gone).
func (p *Provider) WatchRefs(ctx context.Context, refs []Ref) []inject.WatchResult {
	res := make([]inject.WatchResult, len(refs))
	errs := make([]error, len(refs))
	regions, byRegion := p.group(refs, errs, Ref.IsSecretsManager)
	for i, err := range errs {
		res[i].Err = err
	}
	var mu sync.Mutex
	var split []*item
	var jobs []func()
	for _, region := range regions {
		for chunk := range slices.Chunk(byRegion[region], MaxBatch) {
			jobs = append(jobs, func() {
				sp := p.versions(ctx, region, chunk, res)
				mu.Lock()
				split = append(split, sp...)
				mu.Unlock()
			})
		}
	}
	runAll(jobs)
	jobs = jobs[:0]
	for _, it := range split {
		jobs = append(jobs, func() { p.versions(ctx, it.region, []*item{it}, res) })
	}
	runAll(jobs)
	return res
}

// versions asks for the versions of items (at most MaxBatch, one region),
// without decryption, and stores their stamps in res. Like read, it
// returns the items to ask for on their own when the call failed as a
// whole in a way that may concern one of several names.
func (p *Provider) versions(ctx context.Context, region string, items []*item, res []inject.WatchResult) (split []*item) {
	set := func(it *item, stamp string, err error) {
		for _, i := range it.idx {
			res[i].Stamp, res[i].Err = stamp, err
		}
	}
	out, err := p.getParameters(ctx, region, items, false)
	if err != nil {
		if len(items) > 1 && ctx.Err() == nil && aboutOneName(err) {
			return items
		}
		for _, it := range items {
			set(it, "", classify(ctx, it.ref, region, err))
		}
		return nil
	}
	for _, it := range items {
		if prm := match(it.ref, out.Parameters); prm != nil {
			set(it, strconv.FormatInt(prm.Version, 10), nil)
			continue
		}
		set(it, "", notFound(it.ref, region, ""))
	}
	return nil
}
