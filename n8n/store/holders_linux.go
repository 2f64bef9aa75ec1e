package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// SQLite's lock bytes (sqlite3.c, os_unix.c): the PENDING byte at 1 GiB,
// then RESERVED, then the 510-byte SHARED range, in the database file; in
// the WAL index (-shm) the lock bytes start at 120 and the "DMS" byte at
// 128 is share-locked by every connection that has the WAL open.
const (
	pendingByte = 0x40000000
	lockRange   = 2 + 510
	shmDMS      = 128
)

// sqliteHolders returns what shows that another process has the database
// path open, empty when nothing does. It must run before this process opens
// the file itself: POSIX locks and leases see other processes only, and
// closing any descriptor of a file drops this process's locks on it.
//
// Four probes, any of which is enough:
//
//   - a read lease (fcntl F_SETLEASE): the kernel grants it only when no
//     process anywhere has the file open for writing, which n8n does for as
//     long as it runs, in WAL and rollback-journal mode alike, idle or not;
//     it sees across containers sharing the volume. It needs the file's
//     owner or CAP_LEASE; when refused, the other probes still run;
//   - the WAL index's DMS byte: every connection with the WAL open holds a
//     shared lock on it (WAL mode);
//   - the database file's lock bytes: a transaction in progress (both
//     modes);
//   - /proc/<pid>/fd: a process of this PID namespace (same container or
//     host) with the file, its -wal, -shm or -journal open; it names the
//     process.
//
// lease is false once this process has the file open for writing itself
// (its own descriptor would refuse the lease).
func sqliteHolders(path string, lease bool) []string {
	found, _ := sqliteHoldersProbed(path, lease)
	return found
}

// sqliteHoldersProbed is sqliteHolders, and says whether the lease probe
// could run (leased): without it, an idle n8n in rollback-journal mode in
// another PID namespace (another container) shows in no other probe.
func sqliteHoldersProbed(path string, lease bool) (found []string, leased bool) {
	if lease {
		msg, ok := leaseProbe(path)
		leased = ok
		if msg != "" {
			found = append(found, msg)
		}
	}
	if msg := lockProbe(path+"-shm", shmDMS, 1); msg != "" {
		found = append(found, "the WAL index is in use ("+msg+")")
	}
	if msg := lockProbe(path, pendingByte, lockRange); msg != "" {
		found = append(found, "a transaction is in progress ("+msg+")")
	}
	if procs := procHolders(path); len(procs) > 0 {
		found = append(found, "open in "+strings.Join(procs, ", "))
	}
	return found, leased
}

// leaseProbe takes and at once releases a read lease on path. ok is false
// when no lease could be asked for (not the file's owner and no CAP_LEASE,
// or a file system without leases: EACCES, EPERM, EINVAL).
func leaseProbe(path string) (msg string, ok bool) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return "", false
	}
	defer f.Close()
	fd := int(f.Fd())
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_RDLCK)
	if err == nil {
		_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_UNLCK)
		return "", true
	}
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EBUSY) {
		return "another process has the file open for writing", true
	}
	return "", false
}

// lockProbe asks (F_GETLK) whether another process holds a lock that
// conflicts with a write lock on [start, start+n) of path.
func lockProbe(path string, start, n int64) string {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return ""
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: start, Len: n}
	if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk); err != nil || lk.Type == unix.F_UNLCK {
		return ""
	}
	if lk.Pid > 0 {
		return "lock held by pid " + strconv.Itoa(int(lk.Pid))
	}
	return "lock held by another process"
}

// procHolders lists the processes of this PID namespace, other than this
// one, that have path or its -wal, -shm or -journal open.
func procHolders(path string) []string {
	type id struct{ dev, ino uint64 }
	want := map[id]bool{}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		var st unix.Stat_t
		if unix.Stat(p, &st) == nil {
			want[id{st.Dev, st.Ino}] = true
		}
	}
	if len(want) == 0 {
		return nil
	}
	self := os.Getpid()
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var out []string
	for _, dir := range procs {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil || pid == self {
			continue
		}
		fds, err := os.ReadDir(dir + "/fd")
		if err != nil {
			continue
		}
		for _, fd := range fds {
			var st unix.Stat_t
			if unix.Stat(dir+"/fd/"+fd.Name(), &st) != nil || !want[id{st.Dev, st.Ino}] {
				continue
			}
			comm, _ := os.ReadFile(dir + "/comm")
			out = append(out, fmt.Sprintf("pid %d (%s)", pid, strings.TrimSpace(string(comm))))
			break
		}
	}
	return out
}
