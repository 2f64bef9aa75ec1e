// Package install copies the running n8n-secrets binary into a directory,
// for an image that does not contain it: a Kubernetes init container (the
// scratch `binary` image of docker/Dockerfile) copies it into a volume it
// shares with the n8n container, whose image stays as published and runs
// the copy as its command.
//
// The copy is atomic and never follows a link: the directory is opened
// once (not through a symbolic link), a temporary file is created in it
// with O_EXCL|O_NOFOLLOW, written, given mode 0755 and synced, then renamed
// over the name in the same directory handle, and the directory is synced.
// Readers see the old file or the new one, never a part.
//
// What is already there is replaced only when it is ours: a regular file
// holding a Go program whose main module is [Module] (the build information
// the Go toolchain embeds in every binary, which stripping keeps). A
// symbolic link, a directory, a device, a script or any other program is
// refused, and nothing is written: the directory given may be a mistake
// (/usr/local/bin of an image), and a file we did not write is not ours to
// replace.
package install

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Module is the Go module whose programs count as ours.
const Module = "github.com/n8n-secrets/n8n-secrets"

// Name is the file name of the copy in the directory.
const Name = "n8n-secrets"

// ErrRefused is wrapped by every refusal: the directory or what it holds
// is not something Install may write into or replace. Nothing was written.
var ErrRefused = errors.New("install refused")

// Options say what to copy where. The zero value copies the running binary.
type Options struct {
	// Source is the program to copy; "" is the running one (/proc/self/exe).
	Source string
	// Name is the copy's file name in the directory; "" is [Name].
	Name string
}

// Result describes a copy that was made.
type Result struct {
	Path     string // the copy: the directory joined with the name
	Size     int64  // its size in bytes
	SHA256   string // its SHA-256, hex
	Replaced bool   // an older copy of ours was replaced
	NoExec   bool   // the directory is on a noexec mount: the copy cannot be run from it
}

// tempPrefix starts the name of the temporary file.
const tempPrefix = ".n8n-secrets.install-"

// renameAt is unix.Renameat; tests replace it to make the last step fail.
var renameAt = unix.Renameat

// Install copies opts.Source into dir as opts.Name (see the package doc).
// Errors name the path and the kind of problem; a refusal wraps
// [ErrRefused]. On any error nothing is left behind: the previous file, if
// any, is untouched and the temporary file removed. ctx is checked between
// steps; a step that blocks (a dead mount) is the caller's to bound.
func Install(ctx context.Context, dir string, opts Options) (res Result, err error) {
	src := opts.Source
	if src == "" {
		src = "/proc/self/exe"
	}
	name := opts.Name
	if name == "" {
		name = Name
	}
	if name != filepath.Base(name) || name == "." || name == ".." {
		return res, fmt.Errorf("%w: the name must be a file name, not a path", ErrRefused)
	}
	if dir == "" {
		return res, fmt.Errorf("%w: no directory given", ErrRefused)
	}
	res.Path = filepath.Join(dir, name)

	// The directory: opened once, not through a link, and every later step
	// is relative to this handle.
	dfd, err := openDir(dir)
	if err != nil {
		return res, err
	}
	defer unix.Close(dfd)
	res.NoExec = noExec(dfd)

	// What is there now must be absent or ours: decided before anything is
	// written.
	before, exists, err := checkTarget(dfd, res.Path, name)
	if err != nil {
		return res, err
	}
	res.Replaced = exists
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("install: %w", err)
	}

	in, err := os.Open(src)
	if err != nil {
		return res, fmt.Errorf("install: open the binary to copy: %w", pathErr(err))
	}
	defer in.Close()
	if err := ours(in); err != nil {
		return res, fmt.Errorf("%w: the binary to copy (%s) is not n8n-secrets: %v", ErrRefused, src, err)
	}

	var suffix [8]byte
	_, _ = rand.Read(suffix[:])
	tmp := tempPrefix + hex.EncodeToString(suffix[:])
	fd, err := unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o700)
	if err != nil {
		return res, fmt.Errorf("install: create a temporary file in %s: %w", dir, err)
	}
	out := os.NewFile(uintptr(fd), filepath.Join(dir, tmp))
	defer func() {
		if err != nil {
			out.Close()
			_ = unix.Unlinkat(dfd, tmp, 0)
		}
	}()
	h := sha256.New()
	if res.Size, err = copyCtx(ctx, io.MultiWriter(out, h), in); err != nil {
		return res, fmt.Errorf("install: copy the binary into %s: %w", dir, pathErr(err))
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	// The mode exactly, whatever the umask.
	if err = unix.Fchmod(fd, 0o755); err != nil {
		return res, fmt.Errorf("install: chmod the copy in %s: %w", dir, err)
	}
	if err = out.Sync(); err != nil {
		return res, fmt.Errorf("install: sync the copy in %s: %w", dir, pathErr(err))
	}
	if err = out.Close(); err != nil {
		return res, fmt.Errorf("install: close the copy in %s: %w", dir, pathErr(err))
	}
	if err = ctx.Err(); err != nil {
		return res, fmt.Errorf("install: %w", err)
	}
	// The target must still be what was checked: a file that appeared, or
	// was swapped, since is not replaced.
	now, nowExists, err := lstatAt(dfd, name)
	if err != nil {
		return res, fmt.Errorf("install: %s: %w", res.Path, err)
	}
	if nowExists != exists || (exists && (now.Dev != before.Dev || now.Ino != before.Ino)) {
		err = fmt.Errorf("%w: %s changed while the copy was written", ErrRefused, res.Path)
		return res, err
	}
	if err = renameAt(dfd, tmp, dfd, name); err != nil {
		return res, fmt.Errorf("install: rename the copy to %s: %w", res.Path, err)
	}
	if err := unix.Fsync(dfd); err != nil {
		// The copy is in place; only its durability across a crash is in doubt.
		return res, fmt.Errorf("install: sync %s: %w", dir, err)
	}
	return res, nil
}

// openDir opens dir as a directory without following a link in its last
// component, and without blocking.
func openDir(dir string) (int, error) {
	for {
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		switch {
		case err == unix.EINTR:
			continue
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.ENOENT):
			return -1, fmt.Errorf("%w: %s does not exist", ErrRefused, dir)
		case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR):
			// O_NOFOLLOW|O_DIRECTORY on a link gives ENOTDIR or ELOOP.
			var st unix.Stat_t
			if unix.Lstat(dir, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				return -1, fmt.Errorf("%w: %s is a symbolic link; give the directory itself", ErrRefused, dir)
			}
			return -1, fmt.Errorf("%w: %s is not a directory", ErrRefused, dir)
		default:
			return -1, fmt.Errorf("install: open %s: %w", dir, err)
		}
	}
}

// lstatAt stats name in the directory dfd without following a link.
func lstatAt(dfd int, name string) (st unix.Stat_t, exists bool, err error) {
	err = unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return st, false, nil
	}
	return st, err == nil, err
}

// checkTarget returns what name in dfd is now, and whether it exists; an
// error when it exists and is not ours.
func checkTarget(dfd int, path, name string) (unix.Stat_t, bool, error) {
	st, exists, err := lstatAt(dfd, name)
	if err != nil {
		return st, false, fmt.Errorf("install: %s: %w", path, err)
	}
	if !exists {
		return st, false, nil
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFLNK:
		return st, true, fmt.Errorf("%w: %s is a symbolic link, not a copy of n8n-secrets; not replaced", ErrRefused, path)
	default:
		return st, true, fmt.Errorf("%w: %s exists and is not a regular file; not replaced", ErrRefused, path)
	}
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return st, true, fmt.Errorf("install: read %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var now unix.Stat_t
	if err := unix.Fstat(fd, &now); err != nil || now.Dev != st.Dev || now.Ino != st.Ino {
		return st, true, fmt.Errorf("%w: %s changed while it was read", ErrRefused, path)
	}
	if err := ours(f); err != nil {
		return st, true, fmt.Errorf("%w: %s exists and is not n8n-secrets (%v); not replaced", ErrRefused, path, err)
	}
	return st, true, nil
}

// ours returns nil when r holds a Go program of [Module], else what it is.
func ours(r io.ReaderAt) error {
	bi, err := buildinfo.Read(r)
	if err != nil {
		return errors.New("no Go build information")
	}
	if bi.Main.Path != Module {
		return errors.New("a program of another Go module")
	}
	return nil
}

// copyCtx copies src to dst, checking ctx between chunks.
func copyCtx(ctx context.Context, dst io.Writer, src io.Reader) (int64, error) {
	buf := make([]byte, 1<<20)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, rerr := src.Read(buf)
		if k > 0 {
			w, werr := dst.Write(buf[:k])
			n += int64(w)
			if werr != nil {
				return n, werr
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// pathErr strips the *PathError wrapper, whose path the caller names.
func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
