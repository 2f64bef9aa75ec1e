package inject

import (
	"bytes"
	"context"
	"fmt"
	"sync"
)

// A read of a file can block in the kernel where no context reaches it:
// open(2) of a FIFO with no writer, a read from a hung network mount. Call
// returns when its context ends, but the goroutine stays in the system
// call and holds an OS thread until the call returns, which may be never.
// In exec mode the process execs soon after; in supervise mode it lives as
// long as the command, and a read started at every refresh would leak one
// thread per refresh. So no path is ever read twice at once: while a read
// of a path has not returned, a second caller waits for that read's result
// instead of starting another, and gives up when its own context ends.

// reads holds the reads in flight, by path.
var reads = struct {
	sync.Mutex
	m map[string]*fileRead
}{m: map[string]*fileRead{}}

type fileRead struct {
	done chan struct{} // closed when b and err are set
	b    []byte
	err  error
}

// ReadFile runs read(name) under ctx, at most once at a time per name in
// the process: a caller that finds a read of name in flight waits for its
// result (read at that time, not anew) or for ctx to end, and never starts
// a second one. When ctx ends first, the error wraps ErrUnavailable and
// ctx's error, and says that the read has not returned; the read goes on in
// the background, alone, and its result is dropped.
func ReadFile(ctx context.Context, name string, read func(string) ([]byte, error)) ([]byte, error) {
	reads.Lock()
	r := reads.m[name]
	if r == nil {
		r = &fileRead{done: make(chan struct{})}
		reads.m[name] = r
		go func() {
			r.b, r.err = read(name)
			reads.Lock()
			delete(reads.m, name)
			reads.Unlock()
			close(r.done)
		}()
	}
	reads.Unlock()
	select {
	case <-r.done:
		return bytes.Clone(r.b), r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: the read of the file has not returned (a FIFO, a hung mount?): %w", ErrUnavailable, ctx.Err())
	}
}

// ReadsInFlight returns how many file reads have not returned yet: at most
// one per path, whatever the number of callers.
func ReadsInFlight() int {
	reads.Lock()
	defer reads.Unlock()
	return len(reads.m)
}
