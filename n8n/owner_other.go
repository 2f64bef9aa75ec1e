//go:build !unix

package n8n

import (
	"io/fs"
	"os"
)

// chownLike does nothing where files have no Unix owners.
func chownLike(*os.File, fs.FileInfo) error { return nil }
