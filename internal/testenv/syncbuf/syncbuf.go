// Package syncbuf is a buffer that a child process's output copier writes
// while a test reads it: the test servers' logs (Vault, PostgreSQL, n8n)
// and the output of long-running commands, for failure messages.
package syncbuf

import (
	"bytes"
	"sync"
)

// limit bounds what a Buffer keeps: past it, the oldest half is dropped.
const limit = 4 << 20

// Buffer is a bytes.Buffer safe for concurrent writes and reads, which
// keeps at most about 4 MiB, the newest (a chatty log level must not grow
// a test's memory without bound). The zero value is ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > limit {
		keep := b.buf.Bytes()[b.buf.Len()/2:]
		b.buf = *bytes.NewBuffer(append([]byte("...[truncated]...\n"), keep...))
	}
	return b.buf.Write(p)
}

// String returns what is kept.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
