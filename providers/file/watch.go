package file

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

var _ inject.Watcher = (*Provider)(nil)

// Watch reads each file again and returns a digest of its content as the
// stamp, the same a Fetch puts in the payload: a file replaced in place, or
// by a new target behind a symlink (Kubernetes updates a secret volume by
// pointing its ..data symlink at a new directory), changes the stamp, and a
// file rewritten with the same content does not. Errors are those of Fetch.
//
// The files are read side by side: one whose read blocks (a FIFO, a hung
// mount) fails when ctx ends, and the others have their stamps; it is not
// read again while its first read has not returned (see inject.ReadFile).
func (p *Provider) Watch(ctx context.Context, refs []inject.Reference) []inject.WatchResult {
	res := make([]inject.WatchResult, len(refs))
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Go(func() {
			// Fetch reads and digests the file: the same stamp, the same errors.
			pl, err := p.Fetch(ctx, ref)
			res[i].Stamp, res[i].Err = pl.Stamp, err
		})
	}
	wg.Wait()
	return res
}

// digest is a file's stamp: SHA-256 of its bytes, in hex. It never leaves
// the process.
func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
