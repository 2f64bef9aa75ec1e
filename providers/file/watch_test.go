package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

func TestWatchFollowsASymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// A Kubernetes secret volume: pw -> ..data/pw, ..data -> ..v1.
	must(os.Mkdir(filepath.Join(dir, "..v1"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "..v1", "pw"), []byte("one\n"), 0o600))
	must(os.Symlink("..v1", filepath.Join(dir, "..data")))
	must(os.Symlink(filepath.Join("..data", "pw"), filepath.Join(dir, "pw")))
	p := New(dir)
	ref := inject.Reference{Scheme: inject.SchemeFile, Path: "pw"}
	ctx := context.Background()
	pl, err := p.Fetch(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	stamp := func() string {
		t.Helper()
		w := p.Watch(ctx, []inject.Reference{ref})
		if w[0].Err != nil {
			t.Fatal(w[0].Err)
		}
		return w[0].Stamp
	}
	if s := stamp(); s == "" || s != pl.Stamp {
		t.Fatalf("watch stamp %q, fetch stamp %q: want equal and set", s, pl.Stamp)
	}
	swap := func(name, content string) {
		t.Helper()
		must(os.Mkdir(filepath.Join(dir, name), 0o755))
		must(os.WriteFile(filepath.Join(dir, name, "pw"), []byte(content), 0o600))
		must(os.Symlink(name, filepath.Join(dir, "..tmp")))
		must(os.Rename(filepath.Join(dir, "..tmp"), filepath.Join(dir, "..data")))
	}
	swap("..v2", "one\n")
	if s := stamp(); s != pl.Stamp {
		t.Error("the same content behind a new link changed the stamp")
	}
	swap("..v3", "two\n")
	if s := stamp(); s == pl.Stamp {
		t.Error("new content behind the link kept the stamp")
	}
	w := p.Watch(ctx, []inject.Reference{{Scheme: inject.SchemeFile, Path: "gone"}})
	if !errors.Is(w[0].Err, inject.ErrNotFound) {
		t.Errorf("missing file: %v, want ErrNotFound", w[0].Err)
	}
}
