package install

import (
	"context"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestInstallNoExec: a directory on a noexec mount is reported (the copy
// is made: the n8n container may mount the volume otherwise). It mounts a
// tmpfs, so it runs as root only (CI runs as root).
func TestInstallNoExec(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a noexec tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOEXEC, "size=64m"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	res, err := Install(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.NoExec {
		t.Error("a noexec mount was not reported")
	}
	res, err = Install(context.Background(), t.TempDir(), Options{})
	if err != nil || res.NoExec {
		t.Errorf("an ordinary directory: NoExec %v, err %v", res.NoExec, err)
	}
}
