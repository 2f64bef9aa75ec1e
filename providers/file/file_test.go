package file

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

func TestTrimNewline(t *testing.T) {
	for in, want := range map[string]string{
		"v": "v", "v\n": "v", "v\r\n": "v", "v\n\n": "v\n", "v\r": "v\r", "\n": "", "": "", "a\nb\n": "a\nb",
	} {
		if got := string(TrimNewline([]byte(in))); got != want {
			t.Errorf("TrimNewline(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFetch(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("plain", "value\n")
	abs := write("sub/abs", "absolute\r\n")
	// A Kubernetes secret volume: name -> ..data/name -> ..2026_x/name.
	write("..2026_11_25/k8s", "from-volume\n")
	if err := os.Symlink("..2026_11_25", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..data/k8s", filepath.Join(dir, "k8s")); err != nil {
		t.Fatal(err)
	}
	write("big", strings.Repeat("x", MaxSize+1))
	write("exact", strings.Repeat("x", MaxSize))
	os.Mkdir(filepath.Join(dir, "dir"), 0o755)
	if err := os.Symlink("nowhere", filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop-b", filepath.Join(dir, "loop-a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop-a", filepath.Join(dir, "loop-b")); err != nil {
		t.Fatal(err)
	}

	p := New(dir)
	tests := []struct {
		ref     string
		want    string
		wantErr error
	}{
		{"file:plain", "value", nil},
		{"file://" + abs, "absolute", nil},
		{"file:k8s", "from-volume", nil},
		{"file:exact", strings.Repeat("x", MaxSize), nil},
		{"file:missing", "", inject.ErrNotFound},
		{"file:plain/under-a-file", "", inject.ErrNotFound},
		{"file:dangling", "", inject.ErrNotFound},
		{"file:dir", "", inject.ErrBadData},
		{"file:big", "", inject.ErrBadData},
		{"file:loop-a", "", inject.ErrBadData},
		{"file://" + filepath.Join(dir, "loop-b"), "", inject.ErrBadData},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			ref, err := inject.Stores{Store}.Parse(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			pl, err := p.Fetch(context.Background(), ref)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.HasPrefix(err.Error(), "file: ") {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}

				return
			}
			if err != nil || !bytes.Equal(pl.Value.Reveal(), []byte(tt.want)) || pl.Object {
				t.Fatalf("Fetch: %v (value of %d bytes)", err, pl.Value.Len())
			}
		})
	}
}

func TestFetchDevice(t *testing.T) {
	// A reference to an endless device stops at MaxSize instead of
	// exhausting memory.
	ref, _ := inject.Stores{Store}.Parse("file:///dev/zero")
	_, err := New("/").Fetch(context.Background(), ref)
	if !errors.Is(err, inject.ErrBadData) {
		t.Fatalf("err = %v, want ErrBadData for an oversized source", err)
	}
}

// TestNotFoundNamesTheDir: a missing file:<name> names the secrets dir and
// what it holds (names, not content), or says the dir itself is missing.
func TestNotFoundNamesTheDir(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"db_password", "n8n_encryption_key", ".hidden"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("CANARY-content"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ref, _ := inject.Stores{Store}.Parse("file:db_pasword")
	_, err := New(dir).Fetch(context.Background(), ref)
	if !errors.Is(err, inject.ErrNotFound) || !strings.Contains(err.Error(), dir) ||
		!strings.Contains(err.Error(), "it holds: db_password, n8n_encryption_key)") || strings.Contains(err.Error(), "CANARY") {
		t.Errorf("err = %v", err)
	}
	// A value that merely starts with "file:" may be a literal secret:
	// the name is never repeated.
	for _, lit := range []string{"file:CANARY-hunter2", "file:CANARY-a/b", "file:CANARY-x?optional=false"} {
		ref, _ := inject.Stores{Store}.Parse(lit)
		if _, err := New(dir).Fetch(context.Background(), ref); err == nil || strings.Contains(err.Error(), "hunter2") ||
			strings.Contains(err.Error(), "CANARY-a") || strings.Contains(err.Error(), "CANARY-x") {
			t.Errorf("err = %v", err)
		}
	}
	_, err = New(filepath.Join(dir, "absent")).Fetch(context.Background(), ref)
	if !errors.Is(err, inject.ErrNotFound) || !strings.Contains(err.Error(), "secrets dir") || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing dir: err = %v", err)
	}
}
