// Package file is the provider for file: references and NAME_FILE
// variables: secrets mounted as files, as Docker and Swarm secrets
// (/run/secrets/<name>) and Kubernetes secret volumes (symlinks into a
// ..data directory, which are followed) provide them.
//
// file:<name> is relative to the secrets dir, file:///<path> absolute. The
// value loses exactly one trailing "\n" or "\r\n"; a selector takes a key
// of a JSON file. Files larger than [MaxSize] are refused, so that a
// reference to a device or a log file cannot exhaust memory.
package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// MaxSize is the largest secret file read, in bytes.
const MaxSize = 1 << 20

// Provider reads secrets from files.
type Provider struct {
	// Dir is the secrets dir that relative names are read from.
	Dir string
}

var _ inject.Provider = (*Provider)(nil)

// New returns a provider reading relative names from dir.
func New(dir string) *Provider { return &Provider{Dir: dir} }

// Path returns the file a reference names.
func (p *Provider) Path(ref inject.Reference) string {
	if ref.IsAbs() {
		return ref.Path
	}
	return filepath.Join(p.Dir, filepath.FromSlash(ref.Path))
}

// Fetch reads the file that ref names. A missing file wraps
// inject.ErrNotFound, an unreadable one inject.ErrPermission, a directory or
// an oversized file inject.ErrBadData. Errors name the path, never content.
func (p *Provider) Fetch(ctx context.Context, ref inject.Reference) (inject.Payload, error) {
	name := p.Path(ref)
	b, err := readLimited(name)
	if err != nil {
		return inject.Payload{}, err
	}
	return inject.Payload{Value: inject.NewSecret(TrimNewline(b)), Stamp: digest(b)}, nil
}

func readLimited(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, classify(name, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("file: read %s: %w: is a directory", name, inject.ErrBadData)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, classify(name, err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("file: read %s: %w: larger than %d bytes", name, inject.ErrBadData, MaxSize)
	}
	return b, nil
}

func classify(name string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("file: read %s: %w", name, inject.ErrNotFound)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("file: read %s: %w", name, inject.ErrPermission)
	case errors.Is(err, syscall.EISDIR):
		return fmt.Errorf("file: read %s: %w: is a directory", name, inject.ErrBadData)
	default:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("file: read %s: %w", name, err)
	}
}

// TrimNewline removes exactly one trailing "\n" or "\r\n".
func TrimNewline(b []byte) []byte {
	if b2, ok := bytes.CutSuffix(b, []byte("\n")); ok {
		b2, _ = bytes.CutSuffix(b2, []byte("\r"))
		return b2
	}
	return b
}
