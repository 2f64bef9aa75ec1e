package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// readOnlyOpen is how a read-only open keeps SQLite from writing anything
// beside the database (verify-key, a rekey's dry run, the check before
// start), so that it also works on a read-only copy such as a restored
// snapshot. A plain mode=ro open of a database in WAL mode creates the
// -wal and -shm files when they do not exist and writes its read marks into
// the -shm (https://www.sqlite.org/wal.html#readonly).
type readOnlyOpen int

const (
	// roPlain: a rollback-journal database (n8n 1.x's default): mode=ro
	// reads the file under shared locks and writes nothing. A hot journal
	// left by an interrupted write makes the open fail with
	// SQLITE_READONLY_ROLLBACK (ErrInterrupted): a read-only connection
	// cannot roll it back, and the file alone may hold half of that write.
	roPlain readOnlyOpen = iota
	// roImmutable: a WAL database without a WAL file (or an empty one)
	// and without a WAL index: nothing is open and every commit is in the
	// database file, which immutable=1 reads without locks, without
	// creating a WAL or an index.
	roImmutable
	// roSharedIndex: a WAL database whose -wal and -shm exist (n8n runs,
	// or stopped without a checkpoint): readonly_shm=1 opens the index
	// read-only, so SQLite reads the WAL under the running n8n's locks, or,
	// when no process maintains the index, builds a private copy of it in
	// memory from the WAL. The WAL file is opened but not written.
	roSharedIndex
)

// sqliteHeaderSize is the size of SQLite's database header; bytes 18 and
// 19 are the file format's write and read versions: 1 for a rollback
// journal, 2 for WAL (https://www.sqlite.org/fileformat2.html#database_header).
const sqliteHeaderSize = 100

var sqliteMagic = []byte("SQLite format 3\x00")

// planReadOnly decides how to open path read-only (see readOnlyOpen) from
// the database header and the files beside it. It reads 100 bytes and
// stats two files; it writes nothing. A WAL database whose WAL holds
// commits but has no index beside it cannot be read without creating one:
// that is an error saying so (ErrConfig), not a write.
func planReadOnly(path string) (readOnlyOpen, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return roPlain, fmt.Errorf("%w: sqlite: %s cannot be read", ErrConfig, path)
	}
	defer f.Close()
	hdr := make([]byte, sqliteHeaderSize)
	n, err := io.ReadFull(f, hdr)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return roPlain, fmt.Errorf("%w: sqlite: %s cannot be read", ErrConfig, path)
	}
	if n < sqliteHeaderSize || !bytes.HasPrefix(hdr, sqliteMagic) || hdr[18] != 2 || hdr[19] != 2 {
		// Not WAL: a rollback journal, an empty file, or not a database
		// (SQLite says which when it opens it).
		return roPlain, nil
	}
	wal, walErr := os.Lstat(path + "-wal")
	_, shmErr := os.Lstat(path + "-shm")
	switch {
	case errors.Is(walErr, fs.ErrNotExist) && errors.Is(shmErr, fs.ErrNotExist):
		return roImmutable, nil
	case walErr == nil && wal.Mode().IsRegular() && wal.Size() == 0 && errors.Is(shmErr, fs.ErrNotExist):
		return roImmutable, nil
	case walErr == nil && shmErr == nil:
		return roSharedIndex, nil
	case errors.Is(walErr, fs.ErrNotExist):
		// An index without a WAL: left by a process that stopped; every
		// commit is in the database file.
		return roImmutable, nil
	case errors.Is(shmErr, fs.ErrNotExist):
		return roPlain, fmt.Errorf("%w: sqlite: %s-wal holds commits not yet in the database file, and the WAL index (%s-shm) that SQLite needs to read them without writing is missing (a copy of the database without its -shm file?): run this as a user who may write that folder, or copy the database with its -wal file somewhere writable, or start n8n once (it folds the WAL into the database)",
			ErrConfig, path, path)
	}
	return roPlain, fmt.Errorf("%w: sqlite: %s-wal or %s-shm cannot be read", ErrConfig, path, path)
}

// hotJournalText explains SQLITE_READONLY_ROLLBACK: a hot rollback journal
// beside the database.
func hotJournalText(path string) string {
	return fmt.Sprintf("%s-journal is a hot rollback journal: a write to the database was interrupted (a crash, a kill, a power loss) and the database file may hold part of it; a read-only open cannot roll it back, so nothing was read. "+
		"SQLite rolls it back at the next open for writing: start n8n once (it does), or run `sqlite3 %s 'PRAGMA quick_check'` as the file's owner, then run this again. Never delete the -journal file: it holds what undoes the partial write",
		path, path)
}

// callCtx runs fn and returns its result, or ctx's error when ctx ends
// first; fn is then left to finish in the background (a read of a local
// file that blocks on a dead mount).
func callCtx[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := fn()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("%w: sqlite: reading the database header: %v", ErrUnavailable, context.Cause(ctx))
	}
}
