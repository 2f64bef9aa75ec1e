package supervise

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Masking (N8N_SECRETS_MASK): the child's stdout and stderr are pipes to
// the supervisor, which copies them to its own with every secret value
// replaced by Concealed, as 1Password's op run does. It is the last line
// of defence against a program that prints a credential (n8n's debug logs
// can), not a guarantee: what it cannot catch is listed in the README.

// Concealed replaces a secret value in the child's output.
const Concealed = "<concealed>"

// MinMaskLength is the shortest value masked: a shorter one (a port, "n8n",
// "true") would conceal ordinary text all over the output, and is no
// secret worth the name.
const MinMaskLength = 6

// MaxMaskLength is the longest value masked whole: a value split across
// the child's writes is still found when it is at most this long. A longer
// value (a certificate) is still masked when one write holds it whole.
const MaxMaskLength = 4096

// FlushDelay is how long the start of what may be a value (a tail of the
// output that a value begins with) is held back waiting for the rest:
// after it, the bytes held are written as they are. A value that a program
// writes in two parts further apart than this is not masked.
const FlushDelay = 250 * time.Millisecond

// Masker holds the values to conceal, and copies the child's output. It is
// safe for concurrent use.
type Masker struct {
	mu     sync.Mutex
	m      *matcher // replaced, never changed, when values are added
	seen   map[string]bool
	copies sync.WaitGroup
}

// NewMasker returns a Masker concealing values (those shorter than
// MinMaskLength are left as they are).
func NewMasker(values [][]byte) *Masker {
	m := &Masker{seen: map[string]bool{}, m: newMatcher(nil)}
	m.Add(values)
	return m
}

// Add adds values to conceal, for the values a restart brings (the old
// ones stay: the old child may still be writing).
func (m *Masker) Add(values [][]byte) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	needles := m.m.needles
	for _, v := range values {
		if len(v) < MinMaskLength || m.seen[string(v)] {
			continue
		}
		m.seen[string(v)] = true
		needles = append(needles, bytes.Clone(v))
	}
	m.m = newMatcher(needles)
}

// addVars adds the values env gives the variables names, for a restart.
func (m *Masker) addVars(env, names []string) {
	if m == nil || len(names) == 0 {
		return
	}
	var vals [][]byte
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		for _, n := range names {
			if n == k {
				vals = append(vals, []byte(v))
			}
		}
	}
	m.Add(vals)
}

func (m *Masker) snapshot() *matcher {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m
}

// pipes returns the write ends to give a child as its stdout and stderr,
// and starts copying what it writes to out and errOut, masked. The caller
// closes the write ends once the child has started (or failed to).
func (m *Masker) pipes(out, errOut io.Writer) (stdout, stderr *os.File, err error) {
	rOut, wOut, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	rErr, wErr, err := os.Pipe()
	if err != nil {
		rOut.Close()
		wOut.Close()
		return nil, nil, err
	}
	for _, c := range []struct {
		r *os.File
		w io.Writer
	}{{rOut, out}, {rErr, errOut}} {
		m.copies.Go(func() {
			defer c.r.Close()
			mw := m.Writer(c.w)
			_, _ = io.Copy(mw, c.r)
			mw.Close()
		})
	}
	return wOut, wErr, nil
}

// Wait waits until every copy has reached the end of its pipe (every
// process holding it has exited), at most timeout: a grandchild that keeps
// the pipe open must not keep the supervisor from exiting.
func (m *Masker) Wait(timeout time.Duration) {
	if m == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		m.copies.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
	}
}

// Writer returns a writer that writes to w what is written to it, with
// every value of m replaced by Concealed. Close writes what it holds back.
func (m *Masker) Writer(w io.Writer) *MaskWriter {
	return &MaskWriter{m: m, w: w}
}

// MaskWriter is one masked stream: see Masker.Writer.
type MaskWriter struct {
	m     *Masker
	w     io.Writer
	mu    sync.Mutex
	held  []byte // the tail that may start a value
	timer *time.Timer
}

// Write masks p with what was held back before it, writes what cannot be
// the start of a value, and holds back the rest (at most MaxMaskLength-1
// bytes, for at most FlushDelay). It reports len(p) written.
func (mw *MaskWriter) Write(p []byte) (int, error) {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	if mw.timer != nil {
		mw.timer.Stop()
	}
	buf := p // no copy unless something was held back
	if len(mw.held) > 0 {
		buf = append(mw.held, p...)
	}
	out, held := mask(buf, mw.m.snapshot())
	mw.held = append([]byte(nil), held...)
	if len(mw.held) > 0 {
		mw.timer = time.AfterFunc(FlushDelay, mw.flush)
	}
	if len(out) > 0 {
		if _, err := mw.w.Write(out); err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}

// flush writes what is held back, as it is.
func (mw *MaskWriter) flush() {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	if len(mw.held) > 0 {
		_, _ = mw.w.Write(mw.held)
		mw.held = nil
	}
}

// Close writes what is held back.
func (mw *MaskWriter) Close() error {
	mw.mu.Lock()
	if mw.timer != nil {
		mw.timer.Stop()
	}
	mw.mu.Unlock()
	mw.flush()
	return nil
}

// matcher finds many values in one pass: each value (at least
// MinMaskLength bytes) is indexed by its first four bytes, and a bit table
// of their hashes rules out most positions with one load.
type matcher struct {
	needles  [][]byte
	longest  int                 // of the needles, at most MaxMaskLength
	first    [256]bool           // a needle starts with the byte
	bits     [1 << 10]uint64     // 2^16 bits: a hash of 4 bytes is set
	byPrefix map[uint32][]int    // first 4 bytes → needles
	short    map[string]struct{} // the prefixes of 1 to 3 bytes, for the tail
}

func newMatcher(needles [][]byte) *matcher {
	m := &matcher{needles: needles, byPrefix: map[uint32][]int{}, short: map[string]struct{}{}}
	for i, n := range needles {
		w := binary.LittleEndian.Uint32(n)
		h := hash4(w)
		m.bits[h>>6] |= 1 << (h & 63)
		m.byPrefix[w] = append(m.byPrefix[w], i)
		m.first[n[0]] = true
		for l := 1; l < 4; l++ {
			m.short[string(n[:l])] = struct{}{}
		}
		m.longest = max(m.longest, min(len(n), MaxMaskLength))
	}
	return m
}

func hash4(w uint32) uint32 { return (w * 2654435761) >> 16 }

// candidates returns the needles whose first four bytes are b's.
func (m *matcher) candidates(b []byte) []int {
	w := binary.LittleEndian.Uint32(b)
	h := hash4(w)
	if m.bits[h>>6]&(1<<(h&63)) == 0 {
		return nil
	}
	return m.byPrefix[w]
}

// mask returns buf with every whole occurrence of a needle replaced by
// Concealed (overlapping ones merged), up to the tail that may be the
// start of a needle, which it returns as held.
func mask(buf []byte, m *matcher) (out, held []byte) {
	if len(m.needles) == 0 {
		return buf, nil
	}
	type span struct{ start, end int }
	var spans []span // in order of start; merged as they come
	for i := 0; i+4 <= len(buf); i++ {
		if !m.first[buf[i]] {
			continue
		}
		for _, ni := range m.candidates(buf[i:]) {
			n := m.needles[ni]
			if i+len(n) > len(buf) || !bytes.Equal(buf[i:i+len(n)], n) {
				continue
			}
			if k := len(spans) - 1; k >= 0 && i < spans[k].end {
				spans[k].end = max(spans[k].end, i+len(n))
			} else {
				spans = append(spans, span{i, i + len(n)})
			}
		}
	}
	lastEnd := 0
	if len(spans) > 0 {
		lastEnd = spans[len(spans)-1].end
	}
	// The tail that a needle starts with, after the last match.
	h := len(buf)
	for i := max(lastEnd, len(buf)-m.longest+1); i < len(buf); i++ {
		if m.startsNeedle(buf[i:]) {
			h = i
			break
		}
	}
	if len(spans) == 0 {
		return buf[:h], buf[h:]
	}
	out = make([]byte, 0, h)
	pos := 0
	for _, s := range spans {
		out = append(out, buf[pos:s.start]...)
		out = append(out, Concealed...)
		pos = s.end
	}
	out = append(out, buf[pos:h]...)
	return out, buf[h:]
}

// startsNeedle reports whether tail is a proper prefix of a needle.
func (m *matcher) startsNeedle(tail []byte) bool {
	if len(tail) < 4 {
		_, ok := m.short[string(tail)]
		return ok
	}
	for _, ni := range m.candidates(tail) {
		if n := m.needles[ni]; len(n) > len(tail) && len(n) <= MaxMaskLength && bytes.HasPrefix(n, tail) {
			return true
		}
	}
	return false
}
