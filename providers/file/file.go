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
	"strings"
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
	if isAbs(ref) {
		return ref.Path()
	}
	return filepath.Join(p.Dir, filepath.FromSlash(ref.Path()))
}

// isAbs reports whether ref names an absolute path.
func isAbs(ref inject.Reference) bool {
	r, _ := ref.Loc.(Ref)
	return r.IsAbs()
}

// Fetch reads the file that ref names. A missing file wraps
// inject.ErrNotFound, an unreadable one inject.ErrPermission, a directory,
// a loop of links or an oversized file inject.ErrBadData. Errors never hold
// content; they name an absolute path (file:///…, NAME_FILE), but not the
// name in a file:<name> reference, which might be a literal secret that
// happens to start with "file:": they name the secrets dir instead, and
// what it holds, so that a misspelled name can be seen.
func (p *Provider) Fetch(ctx context.Context, ref inject.Reference) (inject.Payload, error) {
	name := p.Path(ref)
	shown := name
	if !isAbs(ref) {
		shown = "<name in the reference> in " + p.Dir
	}
	b, err := inject.ReadFile(ctx, name, func(name string) ([]byte, error) { return readLimited(name, shown) })
	if err != nil {
		if errors.Is(err, inject.ErrNotFound) && !isAbs(ref) {
			err = p.notFound()
		}
		return inject.Payload{}, err
	}
	return inject.Payload{Value: inject.NewSecret(TrimNewline(b)), Stamp: digest(b)}, nil
}

// notFound describes a missing file:<name>: the secrets dir missing, or
// what it holds.
func (p *Provider) notFound() error {
	entries, err := os.ReadDir(p.Dir)
	if err != nil {
		return fmt.Errorf("file: %w: the secrets dir %s does not exist or cannot be listed (nothing mounted there?)", inject.ErrNotFound, p.Dir)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	const most = 10
	held := "nothing"
	switch {
	case len(names) > most:
		held = strings.Join(names[:most], ", ") + fmt.Sprintf(" and %d more", len(names)-most)
	case len(names) > 0:
		held = strings.Join(names, ", ")
	}
	return fmt.Errorf("file: %w: no file of the reference's name in %s (it holds: %s)", inject.ErrNotFound, p.Dir, held)
}

func readLimited(name, shown string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, classify(shown, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("file: read %s: %w: is a directory", shown, inject.ErrBadData)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, classify(shown, err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("file: read %s: %w: larger than %d bytes", shown, inject.ErrBadData, MaxSize)
	}
	return b, nil
}

// classify maps a file system error. None of them goes away by waiting, so
// none is transient: a missing file is not found, a refused one permission
// denied, the rest bad data (a loop of links, a directory, an I/O error).
func classify(shown string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("file: read %s: %w", shown, inject.ErrNotFound)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("file: read %s: %w", shown, inject.ErrPermission)
	case errors.Is(err, syscall.EISDIR):
		return fmt.Errorf("file: read %s: %w: is a directory", shown, inject.ErrBadData)
	case errors.Is(err, syscall.ELOOP):
		return fmt.Errorf("file: read %s: %w: a loop of symbolic links", shown, inject.ErrBadData)
	default:
		return fmt.Errorf("file: read %s: %w: %v", shown, inject.ErrBadData, err)
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
