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
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			ref, err := inject.ParseReference(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			pl, err := p.Fetch(context.Background(), ref)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.HasPrefix(err.Error(), "file: read ") {
					t.Fatalf("err = %v, want %v with the path", err, tt.wantErr)
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
	ref, _ := inject.ParseReference("file:///dev/zero")
	_, err := New("/").Fetch(context.Background(), ref)
	if !errors.Is(err, inject.ErrBadData) {
		t.Fatalf("err = %v, want ErrBadData for an oversized source", err)
	}
}
