package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
	ref := inject.Reference{Scheme: Scheme, Loc: Ref{Name: "pw"}}
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
	w := p.Watch(ctx, []inject.Reference{{Scheme: Scheme, Loc: Ref{Name: "gone"}}})
	if !errors.Is(w[0].Err, inject.ErrNotFound) {
		t.Errorf("missing file: %v, want ErrNotFound", w[0].Err)
	}
}

// threads returns the process's OS threads (Threads: in /proc/self/status).
func threads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	t.Fatal("no Threads: line")
	return 0
}

// TestBlockedFileIsReadOnce: a secret file whose open(2) blocks (a FIFO
// with no writer) fails its watch when the round's deadline comes, the
// other files of the round still get their stamps, and the blocked file
// is never read a second time while the first read waits: one OS thread
// stays in the system call, not one per refresh.
func TestBlockedFileIsReadOnce(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "stuck")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok"), []byte("v\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A writer unblocks the reader still waiting in open(2).
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	p := New(dir)
	refs := []inject.Reference{{Scheme: Scheme, Loc: Ref{Name: "stuck"}}, {Scheme: Scheme, Loc: Ref{Name: "ok"}}}
	before := threads(t)
	const rounds = 30
	for i := range rounds {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		done := make(chan []inject.WatchResult, 1)
		go func() { done <- p.Watch(ctx, refs) }()
		var res []inject.WatchResult
		select {
		case res = <-done:
		case <-time.After(5 * time.Second):
			cancel()
			t.Fatalf("round %d: Watch did not return after its deadline", i)
		}
		cancel()
		if !errors.Is(res[0].Err, inject.ErrUnavailable) {
			t.Fatalf("round %d: the blocked file: %v, want ErrUnavailable", i, res[0].Err)
		}
		if res[1].Err != nil || res[1].Stamp == "" {
			t.Fatalf("round %d: the other file: %v, stamp %q", i, res[1].Err, res[1].Stamp)
		}
	}
	if n := inject.ReadsInFlight(); n != 1 {
		t.Errorf("%d reads in flight, want the one blocked read", n)
	}
	if grown := threads(t) - before; grown > 5 {
		t.Errorf("%d more OS threads after %d rounds: a blocked read was started again", grown, rounds)
	}
	// Fetch (a resolution) shares the blocked read too.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := p.Fetch(ctx, refs[0]); !errors.Is(err, inject.ErrUnavailable) || inject.ReadsInFlight() != 1 {
		t.Errorf("fetch: %v, %d reads in flight", err, inject.ReadsInFlight())
	}
}
