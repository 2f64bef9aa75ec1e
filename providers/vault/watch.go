package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/vault/api"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

var _ inject.Watcher = (*Provider)(nil)

// watchParallel bounds the metadata reads one Watch has in flight: no more
// than the client keeps idle connections for (GOMAXPROCS+1), so that a
// refresh opens no new connection.
var watchParallel = min(4, runtime.GOMAXPROCS(0)+1)

// Watch returns, for each reference to a KV v2 secret, the secret's
// current version from its metadata (<mount>/metadata/<path>): the version
// a Fetch would read, without reading the data. The token's policy needs
// read on the metadata path; when it is denied, the result wraps
// inject.ErrPermission and the caller reads the secret instead. References
// to KV v1 and other engines, and those pinned to a version, get an empty
// stamp: Vault keeps no version to compare.
func (p *Provider) Watch(ctx context.Context, refs []inject.Reference) []inject.WatchResult {
	res := make([]inject.WatchResult, len(refs))
	gen, err := p.login(ctx)
	if err != nil {
		for i := range res {
			res[i].Err = err
		}
		return res
	}
	defer func() {
		for _, r := range res {
			p.noteRefused(gen, r.Err)
		}
	}()
	// A few workers, not a goroutine per secret: the reads are small, and
	// a refresh that costs little CPU matters more than its latency.
	// Once Vault did not answer (down, unreachable), or refused the token,
	// the reads not sent yet are not sent: they get the same error, so
	// that an outage or a revoked token costs the requests in flight, not
	// one per secret.
	var down atomic.Pointer[error]
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(watchParallel, len(refs)) {
		wg.Go(func() {
			for i := range next {
				if e := down.Load(); e != nil {
					res[i].Err = *e
					continue
				}
				res[i].Stamp, res[i].Err = p.currentVersion(ctx, refs[i])
				if errors.Is(res[i].Err, inject.ErrUnavailable) || errors.Is(res[i].Err, inject.ErrAuth) {
					e := res[i].Err
					down.CompareAndSwap(nil, &e)
				}
			}
		})
	}
	for i := range refs {
		next <- i
	}
	close(next)
	wg.Wait()
	return res
}

// currentVersion reads the current version of a KV v2 secret, or returns
// "" for a reference Vault keeps no versions for.
func (p *Provider) currentVersion(ctx context.Context, ref inject.Reference) (string, error) {
	if ref.Version() != "" {
		return "", nil
	}
	m, err := p.mountOf(ctx, ref.Path())
	if err != nil {
		return "", err
	}
	if m.typ != "kv" || m.version != "2" {
		return "", nil
	}
	rest := strings.TrimPrefix(ref.Path(), m.path)
	rest = strings.TrimPrefix(rest, "data/")
	meta := m.path + "metadata/" + rest
	resp, err := p.client.Logical().ReadRawWithContext(ctx, meta)
	if resp != nil {
		defer resp.Body.Close()
	}
	if resp != nil && resp.StatusCode == 404 {
		return "", fmt.Errorf("vault: read %s: %w: no metadata", meta, inject.ErrNotFound)
	}
	if err != nil {
		var re *api.ResponseError
		if errors.As(err, &re) && re.StatusCode == 403 && !invalidToken(re) {
			return "", fmt.Errorf("vault: read %s: %w (allow read on %s to detect new versions without reading the secret)", meta, inject.ErrPermission, meta)
		}
		// A token Vault no longer accepts is ErrAuth: the caller logs
		// in again and keeps watching versions.
		return "", classify("read "+meta, err)
	}
	// Only the current version is wanted: decode that, not the history
	// of every version the metadata lists.
	var body struct {
		Data *struct {
			CurrentVersion json.Number `json:"current_version"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return "", fmt.Errorf("vault: read %s: %w: the answer is not Vault's metadata", meta, inject.ErrUnavailable)
	}
	if body.Data == nil || body.Data.CurrentVersion == "" {
		return "", fmt.Errorf("vault: read %s: %w: the metadata has no current_version", meta, inject.ErrUnavailable)
	}
	return body.Data.CurrentVersion.String(), nil
}
