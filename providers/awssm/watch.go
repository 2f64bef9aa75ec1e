package awssm

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Watching for new versions: ListSecrets answers with each secret's
// SecretVersionsToStages (which version carries AWSCURRENT, AWSPREVIOUS, …)
// and no value, for many secrets per call: its "name" filter takes up to 10
// names (prefix match), a page up to 100 secrets. That is the cheapest call
// AWS has for the purpose: it decrypts nothing (no KMS request), and one
// call covers ten secrets, where DescribeSecret covers one and
// BatchGetSecretValue returns (and decrypts) the values.
//
// It needs secretsmanager:ListSecrets, which IAM cannot scope to resources
// (the policy statement's Resource must be "*"): it shows the names and
// metadata, never the values, of every secret in the account. Where it is
// denied, the results wrap inject.ErrPermission and the caller reads the
// secrets instead (BatchGetSecretValue, GetSecretValue), which the policy
// already allows.
//
// AWS documents ListSecrets as eventually consistent: a new version may
// show a few minutes after it was written. A rotation is then rolled out
// that much later.

var _ inject.Watcher = (*Provider)(nil)

// MaxFilterNames is the most names one ListSecrets name filter takes.
const MaxFilterNames = 10

// listPageSize is the MaxResults of each ListSecrets call (AWS's maximum).
const listPageSize = 100

// arnSuffix matches the "-XXXXXX" AWS appends to a secret's name in its ARN.
var arnSuffix = regexp.MustCompile(`-[A-Za-z0-9]{6}$`)

// Watch returns, for each reference, the id of the version that carries
// its stage (AWSCURRENT unless version-stage= says otherwise): the VersionId
// a Fetch would return. A reference pinned to a version-id gets an empty
// stamp (it cannot change). A secret that ListSecrets does not list (deleted,
// or marked for deletion) is asked about with DescribeSecret: another
// account's secret shared by a resource policy never shows in ListSecrets.
func (p *Provider) Watch(ctx context.Context, refs []inject.Reference) []inject.WatchResult {
	res := make([]inject.WatchResult, len(refs))
	byRegion := map[string][]int{}
	var regions []string
	for i, ref := range refs {
		if ref.Version() != "" {
			continue
		}
		region, err := p.regionOf(ref)
		if err != nil {
			res[i].Err = err
			continue
		}
		if byRegion[region] == nil {
			regions = append(regions, region)
		}
		byRegion[region] = append(byRegion[region], i)
	}
	var jobs []func()
	for _, region := range regions {
		idx := byRegion[region]
		// One name filter per call: names in a chunk share the call.
		var names []string
		nameOf := map[int]string{}
		for _, i := range idx {
			n := filterName(refs[i].Path())
			nameOf[i] = n
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		for chunk := range slices.Chunk(names, MaxFilterNames) {
			var mine []int
			for _, i := range idx {
				if slices.Contains(chunk, nameOf[i]) {
					mine = append(mine, i)
				}
			}
			jobs = append(jobs, func() { p.listVersions(ctx, region, chunk, refs, mine, res) })
		}
	}
	runAll(jobs)
	return res
}

// filterName returns the name prefix that finds the secret id names: the
// name itself, or the name part of an ARN without AWS's "-XXXXXX" suffix
// (a prefix of the name either way, as the name filter matches prefixes).
func filterName(id string) string {
	if !strings.HasPrefix(id, "arn:") {
		return id
	}
	f := strings.SplitN(id, ":", 7)
	if len(f) != 7 {
		return id
	}
	return arnSuffix.ReplaceAllString(f[6], "")
}

// listVersions lists the secrets whose names start with one of names and
// stores the stamp of each ref in idx.
func (p *Provider) listVersions(ctx context.Context, region string, names []string, refs []inject.Reference, idx []int, res []inject.WatchResult) {
	in := &secretsmanager.ListSecretsInput{
		Filters:    []types.Filter{{Key: types.FilterNameStringTypeName, Values: names}},
		MaxResults: aws.Int32(listPageSize),
	}
	var entries []types.SecretListEntry
	c := p.client(region)
	for page := 0; page < maxPages; page++ {
		out, err := c.ListSecrets(ctx, in)
		if err != nil {
			err = classifyList(ctx, region, err)
			for _, i := range idx {
				res[i].Err = err
			}
			return
		}
		entries = append(entries, out.SecretList...)
		tok := aws.ToString(out.NextToken)
		if tok == "" || tok == aws.ToString(in.NextToken) {
			break
		}
		in.NextToken = aws.String(tok)
	}
	var unlisted []int
	for _, i := range idx {
		ref := refs[i]
		best, rank := -1, 0
		for j, e := range entries {
			if r := idRank(ref.Path(), aws.ToString(e.ARN), aws.ToString(e.Name)); r > rank {
				best, rank = j, r
			}
		}
		if best < 0 {
			unlisted = append(unlisted, i)
			continue
		}
		res[i].Stamp, res[i].Err = stageVersion(ref, region, entries[best].SecretVersionsToStages)
	}
	// ListSecrets lists the caller's own account's secrets, and not those
	// marked for deletion: another account's secret shared by a resource
	// policy (named by its ARN) never shows there. DescribeSecret answers
	// for one secret, across accounts, without a value.
	var jobs []func()
	for _, i := range unlisted {
		jobs = append(jobs, func() { res[i].Stamp, res[i].Err = p.describe(ctx, c, region, refs[i]) })
	}
	runAll(jobs)
}

// stageVersion returns the id of the version that carries ref's stage.
func stageVersion(ref inject.Reference, region string, versions map[string][]string) (string, error) {
	stage := locOf(ref).Stage
	if stage == "" {
		stage = "AWSCURRENT"
	}
	for id, stages := range versions {
		if slices.Contains(stages, stage) {
			return id, nil
		}
	}
	return "", fmt.Errorf("awssm: list %s: %w (%s: no version carries the stage %s)", ref.Path(), inject.ErrNotFound, region, stage)
}

// describe returns the version id of ref's stage from DescribeSecret, for a
// secret ListSecrets did not list. A secret marked for deletion (still
// recoverable) wraps inject.ErrSoftDeleted with inject.ErrNotFound.
func (p *Provider) describe(ctx context.Context, c *secretsmanager.Client, region string, ref inject.Reference) (string, error) {
	out, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ref.Path())})
	if err != nil {
		err = classify(ctx, ref.Path(), region, err)
		if errors.Is(err, inject.ErrPermission) {
			err = fmt.Errorf("%w; allow secretsmanager:DescribeSecret on it (and in its resource policy, for another account's secret) to detect new versions without reading it", err)
		}
		return "", err
	}
	if out.DeletedDate != nil {
		return "", fmt.Errorf("awssm: describe %s: %w: %w (%s: marked for deletion on %s; restore it with RestoreSecret)",
			ref.Path(), inject.ErrNotFound, inject.ErrSoftDeleted, region, out.DeletedDate.UTC().Format(time.RFC3339))
	}
	if _, told := p.described.LoadOrStore(region+"\x00"+ref.Path(), true); !told {
		p.log.Debug("ListSecrets does not list this secret (another account's?): its versions are asked with DescribeSecret",
			"code", CodeWatchDescribe, "path", ref.Path(), "region", region)
	}
	return stageVersion(ref, region, out.VersionIdsToStages)
}

// classifyList maps a ListSecrets failure; a denial names the permission.
func classifyList(ctx context.Context, region string, err error) error {
	err = classify(ctx, "ListSecrets", region, err)
	if errors.Is(err, inject.ErrPermission) {
		return fmt.Errorf("%w; allow secretsmanager:ListSecrets (Resource \"*\") to detect new versions without reading the secrets", err)
	}
	return err
}
