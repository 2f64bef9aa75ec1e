package n8n

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// maxSettingsSize bounds what is read of a settings file: n8n's is a few
// hundred bytes; anything larger is not one.
const maxSettingsSize = 1 << 20

// settingsFile is what readSettings found at a settings path. It keeps the
// folder open, so that a rewrite decided on what was read goes to the same
// folder, whatever happens to the path in between.
type settingsFile struct {
	path    string
	dir     *os.File // the folder, opened once; nil when it does not exist
	exists  bool
	symlink bool // the config entry is a symbolic link (n8n follows it)
	// dirLink: the folder (.n8n) is a symbolic link (n8n follows it); a
	// rewrite would go wherever it points.
	dirLink bool
	stat    unix.Stat_t  // of the file read, when exists
	doc     *settingsDoc // set when the content parsed
	err     error        // reading or parsing failed; never quotes the content
}

// perm returns the file's permission bits.
func (s settingsFile) perm() fs.FileMode { return fs.FileMode(s.stat.Mode) & fs.ModePerm }

// close releases the folder.
func (s settingsFile) close() {
	if s.dir != nil {
		s.dir.Close()
	}
}

// readSettings reads and parses the settings file at path, as n8n would
// (following a symbolic link). A missing file or folder is not an error.
// It never blocks on a FIFO or a device: it opens without waiting and reads
// regular files only.
func readSettings(path string) settingsFile {
	s := settingsFile{path: path}
	dir, err := os.OpenFile(filepath.Dir(path), os.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK|unix.O_NOFOLLOW, 0)
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		// A link (O_NOFOLLOW with O_DIRECTORY gives ENOTDIR for one) or
		// not a folder: read through it as n8n would, and remember that
		// what was opened is not the folder itself.
		s.dirLink = true
		dir, err = os.OpenFile(filepath.Dir(path), os.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK, 0)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return s
	}
	if err != nil {
		s.err = pathErr(err)
		return s
	}
	s.dir = dir
	name := filepath.Base(path)
	fd, err := openat(dir, name, unix.O_NOFOLLOW)
	if errors.Is(err, unix.ELOOP) {
		s.symlink = true
		fd, err = openat(dir, name, 0)
	}
	if errors.Is(err, unix.ENOENT) && !s.symlink {
		return s
	}
	s.exists = true
	if err != nil {
		s.err = fmt.Errorf("open %s: %w", path, err)
		return s
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if err := unix.Fstat(fd, &s.stat); err != nil {
		s.err = fmt.Errorf("stat %s: %w", path, err)
		return s
	}
	if s.stat.Mode&unix.S_IFMT != unix.S_IFREG {
		s.err = fmt.Errorf("%s is not a regular file", path)
		return s
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSettingsSize+1))
	if err != nil {
		s.err = fmt.Errorf("read %s: %w", path, pathErr(err))
		return s
	}
	if len(data) > maxSettingsSize {
		s.doc, s.err = nil, errSettings(fmt.Sprintf("larger than %d bytes", maxSettingsSize))
		return s
	}
	s.doc, s.err = parseSettings(data)
	return s
}

// openat opens name in dir for reading without blocking, with extra flags.
func openat(dir *os.File, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(int(dir.Fd()), name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// pathErr strips the *PathError wrapper, whose path the caller names.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// SyncPlan is a rewrite of the settings file that Check decided on
// (N8N_SECRETS_N8N_SETTINGS=sync, the file's key the only error), to be
// carried out by Apply as the very last step before n8n starts, once
// nothing else can refuse the start. `check` never applies it.
//
// The new content holds the key: it is kept behind a function, so that no
// formatting of a SyncPlan can print it.
type SyncPlan struct {
	Path           string // the settings file
	OldFingerprint string // of the key the file held, "" when it held none
	NewFingerprint string // of N8N_ENCRYPTION_KEY, which it will hold

	holds   string // what the file holds, as messages say it ("holds a key with fingerprint …")
	dir     *os.File
	name    string
	read    unix.Stat_t // the file as read: Apply refuses if it changed
	content func() []byte
}

// syncTempPrefix starts the name of the temporary file a sync writes.
const syncTempPrefix = ".config.n8n-secrets-"

// renameAt is unix.Renameat; tests replace it to make the last step fail.
var renameAt = unix.Renameat

// Apply replaces the settings file with the planned content, atomically:
// a temporary file created in the same folder (never following a link),
// mode 0600, owned like the file it replaces when run as root, written and
// synced, then renamed over the file's name in the folder opened when the
// file was read, and the folder synced. It refuses if the file is no
// longer the one that was read (another file, a link, other content). On
// failure the old file is left as it was and the temporary file removed.
func (p *SyncPlan) Apply() (err error) {
	if p == nil || p.dir == nil {
		return errors.New("n8n: no settings rewrite planned")
	}
	dirfd := int(p.dir.Fd())
	var now unix.Stat_t
	if err := unix.Fstatat(dirfd, p.name, &now, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("n8n: rewrite %s: %w", p.Path, err)
	}
	if now.Dev != p.read.Dev || now.Ino != p.read.Ino || now.Size != p.read.Size || now.Mtim != p.read.Mtim || now.Mode != p.read.Mode {
		return fmt.Errorf("n8n: rewrite %s: the file changed since it was read; not rewritten", p.Path)
	}
	var suffix [8]byte
	_, _ = rand.Read(suffix[:])
	tmp := syncTempPrefix + hex.EncodeToString(suffix[:])
	fd, err := unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("n8n: rewrite %s: create a temporary file: %w", p.Path, err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	defer func() {
		if err != nil {
			f.Close()
			_ = unix.Unlinkat(dirfd, tmp, 0)
		}
	}()
	if err = unix.Fchmod(fd, 0o600); err != nil {
		return fmt.Errorf("n8n: rewrite %s: %w", p.Path, err)
	}
	if os.Geteuid() == 0 {
		if err = unix.Fchown(fd, int(p.read.Uid), int(p.read.Gid)); err != nil {
			return fmt.Errorf("n8n: rewrite %s: %w", p.Path, err)
		}
	}
	if _, err = f.Write(p.content()); err != nil {
		return fmt.Errorf("n8n: rewrite %s: %w", p.Path, pathErr(err))
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("n8n: rewrite %s: %w", p.Path, pathErr(err))
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("n8n: rewrite %s: %w", p.Path, pathErr(err))
	}
	if err = renameAt(dirfd, tmp, dirfd, p.name); err != nil {
		return fmt.Errorf("n8n: rewrite %s: %w", p.Path, err)
	}
	_ = unix.Fsync(dirfd) // best effort: not every file system syncs folders
	return nil
}

// Close releases what the plan holds; Apply does not close it.
func (p *SyncPlan) Close() {
	if p != nil && p.dir != nil {
		p.dir.Close()
		p.dir = nil
	}
}

// planSync decides whether st can be rewritten with key, and returns the
// plan, or why not. It refuses a link (a rewrite would go wherever it
// points), anything but a regular file, and a file owned by someone other
// than this process's user or, for root, the owner of the folder (the user
// n8n runs as).
func planSync(st settingsFile, key, oldFP, holds string) (*SyncPlan, error) {
	switch {
	case st.dir == nil || !st.exists || st.doc == nil:
		return nil, errors.New("there is no settings file to rewrite")
	case st.symlink:
		return nil, fmt.Errorf("%s is a symbolic link: n8n-secrets rewrites only a regular file, never where a link points", st.path)
	case st.dirLink:
		return nil, fmt.Errorf("%s is a symbolic link: n8n-secrets rewrites only a file in a real folder, never where a link points", filepath.Dir(st.path))
	case st.stat.Mode&unix.S_IFMT != unix.S_IFREG:
		return nil, fmt.Errorf("%s is not a regular file", st.path)
	}
	owner := uint32(os.Geteuid())
	if owner == 0 {
		var ds unix.Stat_t
		if err := unix.Fstat(int(st.dir.Fd()), &ds); err != nil {
			return nil, fmt.Errorf("stat the folder of %s: %w", st.path, err)
		}
		owner = ds.Uid
	}
	if st.stat.Uid != owner && st.stat.Uid != uint32(os.Geteuid()) {
		return nil, fmt.Errorf("%s is owned by uid %d, not by uid %d (the user n8n runs as): not rewritten", st.path, st.stat.Uid, owner)
	}
	doc, err := st.doc.withKey(key)
	if err != nil {
		return nil, err
	}
	data, err := doc.render()
	if err != nil {
		return nil, err
	}
	dup, err := unix.Dup(int(st.dir.Fd()))
	if err != nil {
		return nil, fmt.Errorf("keep the folder of %s open: %w", st.path, err)
	}
	unix.CloseOnExec(dup)
	return &SyncPlan{
		Path: st.path, OldFingerprint: oldFP, NewFingerprint: Fingerprint(key), holds: holds,
		dir: os.NewFile(uintptr(dup), filepath.Dir(st.path)), name: filepath.Base(st.path), read: st.stat,
		content: func() []byte { return bytes.Clone(data) },
	}, nil
}
