package install

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The test binary itself is a Go program of this module: the running
// binary Install copies by default, and a copy of ours.
func self(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// leftovers fails when dir holds a temporary file of Install.
func leftovers(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			t.Errorf("a temporary file was left behind: %s", e.Name())
		}
	}
}

func TestInstallCopies(t *testing.T) {
	// A umask that would take the execute bits away: the mode is set exactly.
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()
	res, err := Install(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := self(t)
	got, err := os.ReadFile(filepath.Join(dir, Name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the copy differs from the running binary (%d bytes, want %d)", len(got), len(want))
	}
	sum := sha256.Sum256(want)
	if res.Path != filepath.Join(dir, Name) || res.Size != int64(len(want)) || res.SHA256 != hex.EncodeToString(sum[:]) || res.Replaced {
		t.Errorf("result %+v: want path, size and SHA-256 of the copy, not replaced", res)
	}
	st, err := os.Lstat(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode() != 0o755 {
		t.Errorf("mode %v, want -rwxr-xr-x", st.Mode())
	}
	leftovers(t, dir)

	// Again: our own copy is replaced (a new file, renamed over it).
	var before unix.Stat_t
	_ = unix.Stat(res.Path, &before)
	res, err = Install(context.Background(), dir, Options{})
	if err != nil {
		t.Fatalf("a second install over our own copy: %v", err)
	}
	var after unix.Stat_t
	_ = unix.Stat(res.Path, &after)
	if !res.Replaced || after.Ino == before.Ino {
		t.Errorf("second install: replaced %v, inode %d → %d: want a new file renamed over the old one", res.Replaced, before.Ino, after.Ino)
	}
	leftovers(t, dir)
}

// TestInstallRefuses: what is not ours is never replaced, and nothing is
// written.
func TestInstallRefuses(t *testing.T) {
	gofmt := goTool(t, "gofmt")
	cases := []struct {
		name string
		make func(t *testing.T, dir string) // makes dir/n8n-secrets
	}{
		{"shell script", func(t *testing.T, dir string) { write(t, filepath.Join(dir, Name), "#!/bin/sh\necho not ours\n") }},
		{"empty file", func(t *testing.T, dir string) { write(t, filepath.Join(dir, Name), "") }},
		{"another Go program", func(t *testing.T, dir string) { write(t, filepath.Join(dir, Name), string(readFile(t, gofmt))) }},
		{"link to another program", func(t *testing.T, dir string) { link(t, "/bin/sh", filepath.Join(dir, Name)) }},
		{"link to a copy of ours", func(t *testing.T, dir string) {
			other := t.TempDir()
			if _, err := Install(context.Background(), other, Options{}); err != nil {
				t.Fatal(err)
			}
			link(t, filepath.Join(other, Name), filepath.Join(dir, Name))
		}},
		{"dangling link", func(t *testing.T, dir string) { link(t, filepath.Join(dir, "nowhere"), filepath.Join(dir, Name)) }},
		{"directory", func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, Name), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"fifo", func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, Name), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.make(t, dir)
			before := snapshot(t, dir)
			_, err := Install(context.Background(), dir, Options{})
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("err %v, want a refusal", err)
			}
			if !strings.Contains(err.Error(), filepath.Join(dir, Name)) {
				t.Errorf("the error does not name the file: %v", err)
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("the directory changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// TestInstallRefusesDir: the directory must be one, not a link to one.
func TestInstallRefusesDir(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	link(t, real, filepath.Join(base, "link"))
	write(t, filepath.Join(base, "file"), "x")
	for name, dir := range map[string]string{
		"link to a directory": filepath.Join(base, "link"),
		"missing":             filepath.Join(base, "missing"),
		"a file":              filepath.Join(base, "file"),
		"empty":               "",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Install(context.Background(), dir, Options{})
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("err %v, want a refusal", err)
			}
		})
	}
	if ents, _ := os.ReadDir(real); len(ents) != 0 {
		t.Errorf("the directory behind the link was written: %v", ents)
	}
	for _, name := range []string{"../x", "a/b", "..", ""} {
		if name == "" {
			continue
		}
		if _, err := Install(context.Background(), real, Options{Name: name}); !errors.Is(err, ErrRefused) {
			t.Errorf("name %q: err %v, want a refusal", name, err)
		}
	}
}

// TestInstallSourceNotOurs: only a program of ours is copied, so that what
// Install leaves is something it will recognise the next time.
func TestInstallSourceNotOurs(t *testing.T) {
	dir := t.TempDir()
	_, err := Install(context.Background(), dir, Options{Source: "/bin/sh"})
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("err %v, want a refusal", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("something was written: %v", ents)
	}
}

// TestInstallFailureKeepsOld: when the last step fails, the old copy is as
// it was and the temporary file is gone.
func TestInstallFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	if _, err := Install(context.Background(), dir, Options{}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	renameAt = func(int, string, int, string) error { return unix.EIO }
	defer func() { renameAt = unix.Renameat }()
	if _, err := Install(context.Background(), dir, Options{}); err == nil || errors.Is(err, ErrRefused) {
		t.Fatalf("err %v, want the rename's failure", err)
	}
	if after := snapshot(t, dir); after != before {
		t.Errorf("the directory changed:\nbefore %s\nafter  %s", before, after)
	}
}

// TestInstallCanceled: a canceled context stops the copy; nothing is left.
func TestInstallCanceled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Install(ctx, dir, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("something was written: %v", ents)
	}
}

// TestOurs: the build information tells our programs from others.
func TestOurs(t *testing.T) {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := ours(f); err != nil {
		t.Errorf("the test binary of this module is not ours: %v", err)
	}
	g, err := os.Open(goTool(t, "gofmt"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := ours(g); err == nil {
		t.Error("gofmt counts as ours")
	}
	if err := ours(strings.NewReader("\x7fELF not really")); err == nil {
		t.Error("a truncated ELF header counts as ours")
	}
}

// goTool returns the path of a program of the Go toolchain (a Go program
// of another module than ours).
func goTool(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no %s to stand for another Go program: %v", name, err)
	}
	return p
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func link(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// snapshot describes dir's entries: name, type, mode, size, inode, link
// target and a hash of regular files.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		b.WriteString(e.Name())
		b.WriteString(" mode=" + strings.TrimSpace(os.FileMode(st.Mode&0o7777).String()))
		b.WriteString(" type=" + string(rune('0'+st.Mode>>12)))
		b.WriteString(" ino=" + hex.EncodeToString([]byte{byte(st.Ino), byte(st.Ino >> 8), byte(st.Ino >> 16)}))
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			target, _ := os.Readlink(p)
			b.WriteString(" -> " + target)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFREG {
			sum := sha256.Sum256(readFile(t, p))
			b.WriteString(" sha=" + hex.EncodeToString(sum[:8]))
		}
		b.WriteString("; ")
	}
	return b.String()
}
