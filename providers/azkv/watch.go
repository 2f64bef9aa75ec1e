package azkv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Watching for new versions. Key Vault has three ways to learn which version
// a secret serves now:
//
//   - Get Secret (GET /secrets/{name}): one request, but it returns the
//     value: what supervise mode must not read to find out whether
//     anything changed.
//   - Get Secrets (GET /secrets): one listing of the whole vault, 25 secrets
//     a page, with each secret's attributes but not its version id; and it
//     needs readMetadata on the whole vault, which a role assigned on
//     single secrets (least privilege) does not give.
//   - Get Secret Versions (GET /secrets/{name}/versions, the SDK's
//     NewListSecretPropertiesVersionsPager): every version's id and
//     attributes, 25 a page, no value; it needs readMetadata on the secret
//     only ("Key Vault Secrets User" has it, at the secret's scope too; with
//     access policies, the list permission).
//
// WatchRefs takes the third: the version Get Secret serves is the latest,
// the one created last, so a listing of all pages gives exactly the version
// id that FetchRef reports. Cost: ceil(V/25) requests per secret and round,
// V being the secret's number of versions (Key Vault keeps them all); at
// most maxWatchPages pages are followed, beyond which the stamp is empty
// and the caller fetches the secret to compare. Two latest versions created
// within the same second cannot be ordered (Key Vault's times are whole
// seconds): then, and only then, the watcher asks Get Secret which one Key
// Vault serves, and drops the value at once. (An empty stamp would make the
// caller read the value at every round from then on; this costs the same
// read only while the tie lasts, until the next version.)

// maxWatchPages bounds the pages of one secret's version listing (1,000
// versions).
const maxWatchPages = 40

// maxParallel bounds the listings one WatchRefs has in flight.
const maxParallel = 8

// WatchRefs returns, for each reference, the id of the version Key Vault
// serves now for it, read without the value: the Version FetchRef reports
// for the same value. A pinned reference gets its own version, with no
// request. Errors follow inject.Watcher's contract: ErrNotFound when the
// secret is gone or its latest version is disabled, ErrPermission when
// listing its versions is refused (the caller then fetches to compare).
func (p *Provider) WatchRefs(ctx context.Context, rs []Ref) []inject.WatchResult {
	res := make([]inject.WatchResult, len(rs))
	byKey := map[Ref][]int{}
	var keys []Ref
	for i, r := range rs {
		if r.VersionID != "" {
			res[i].Stamp = r.VersionID
			continue
		}
		if byKey[r] == nil {
			keys = append(keys, r)
		}
		byKey[r] = append(byKey[r], i)
	}
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for _, k := range keys {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			stamp, err := p.latestVersion(ctx, k)
			for _, i := range byKey[k] {
				res[i] = inject.WatchResult{Stamp: stamp, Err: err}
			}
		})
	}
	wg.Wait()
	return res
}

// latestVersion lists r's versions and returns the latest one's id, or ""
// when the listing cannot tell.
func (p *Provider) latestVersion(ctx context.Context, r Ref) (string, error) {
	c, done, err := p.client(ctx, r.Vault)
	if err != nil {
		return "", p.classify(ctx, "list versions of", r, err)
	}
	defer done()
	host := strings.TrimSuffix(strings.TrimPrefix(p.set.vaultURL(r.Vault), "https://"), "/")
	pager := c.NewListSecretPropertiesVersionsPager(r.Name, nil)
	var (
		latest  *azsecrets.SecretProperties
		tied    bool
		entries int
	)
	for page := 0; pager.More(); page++ {
		if page == maxWatchPages {
			return "", nil
		}
		out, err := pager.NextPage(ctx)
		if err != nil {
			err = p.classify(ctx, "list versions of", r, err)
			if errors.Is(err, inject.ErrPermission) {
				err = fmt.Errorf("%w; to see new versions without reading them, allow readMetadata on the secret (the role Key Vault Secrets User has it; with access policies, secret permission list)", err)
			}
			return "", err
		}
		for _, sp := range out.Value {
			if sp == nil || sp.ID == nil || sp.Attributes == nil || sp.Attributes.Created == nil {
				continue
			}
			entries++
			switch {
			case latest == nil || sp.Attributes.Created.After(*latest.Attributes.Created):
				latest, tied = sp, false
			case sp.Attributes.Created.Equal(*latest.Attributes.Created):
				tied = true
			}
		}
		// The next page's link is followed only to the same vault: it is
		// sent with the bearer token.
		if out.NextLink != nil && *out.NextLink != "" {
			u, err := url.Parse(*out.NextLink)
			if err != nil || u.Scheme != "https" || !strings.EqualFold(strings.TrimSuffix(u.Host, ":443"), host) {
				return "", fmt.Errorf("azkv: list versions of %s: Key Vault's nextLink points outside the vault: not followed", r.Path())
			}
		}
	}
	switch {
	case entries == 0:
		return "", fmt.Errorf("azkv: list versions of %s: %w (the secret has no version)", r.Path(), inject.ErrNotFound)
	case tied:
		resp, err := c.GetSecret(ctx, r.Name, "", nil)
		if err != nil {
			return "", p.classify(ctx, "get", r, err)
		}
		resp.Value = nil
		if resp.ID == nil {
			return "", nil
		}
		return resp.ID.Version(), nil
	case latest.Attributes.Enabled != nil && !*latest.Attributes.Enabled:
		return "", fmt.Errorf("azkv: list versions of %s: %w: the latest version is disabled", r.Path(), inject.ErrNotFound)
	}
	return latest.ID.Version(), nil
}
