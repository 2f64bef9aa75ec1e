package supervise

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the flush timer's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestMaskWholeWrites(t *testing.T) {
	m := NewMasker([][]byte{[]byte("s3cr3t-value"), []byte("cr3t-val"), []byte("short"), []byte("another-one")})
	var out lockedBuffer
	w := m.Writer(&out)
	fmt.Fprintf(w, "a s3cr3t-value b short c another-oneanother-one d\n")
	w.Close()
	want := "a <concealed> b short c <concealed><concealed> d\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

// TestMaskAcrossWrites: a value written in pieces, a byte at a time, is
// still concealed; what cannot start a value is written at once.
func TestMaskAcrossWrites(t *testing.T) {
	secret := "CANARY-split-secret-0123456789"
	m := NewMasker([][]byte{[]byte(secret)})
	var out lockedBuffer
	w := m.Writer(&out)
	line := "password=" + secret + " end\n"
	for i := range len(line) {
		w.Write([]byte{line[i]})
		if i == 3 && out.String() != "pass" {
			t.Errorf("bytes that start no value are held back: %q", out.String())
		}
	}
	w.Close()
	if got := out.String(); got != "password=<concealed> end\n" {
		t.Errorf("got %q", got)
	}
}

// TestMaskFlushesAfterDelay: the start of a value, alone, is written as it
// is after FlushDelay (a prompt must not hang): the documented limit.
func TestMaskFlushesAfterDelay(t *testing.T) {
	m := NewMasker([][]byte{[]byte("CANARY-value-xyz")})
	var out lockedBuffer
	w := m.Writer(&out)
	w.Write([]byte("prompt> CANARY-"))
	if got := out.String(); got != "prompt> " {
		t.Fatalf("before the delay: %q", got)
	}
	deadline := time.Now().Add(10 * FlushDelay)
	for out.String() != "prompt> CANARY-" && time.Now().Before(deadline) {
		time.Sleep(FlushDelay / 5)
	}
	if got := out.String(); got != "prompt> CANARY-" {
		t.Errorf("after the delay: %q", got)
	}
}

func TestMaskAddAndShortValues(t *testing.T) {
	m := NewMasker([][]byte{[]byte("5432"), []byte("n8n")})
	m.Add([][]byte{[]byte("rotated-secret")})
	var out lockedBuffer
	w := m.Writer(&out)
	io.WriteString(w, "port 5432 user n8n pw rotated-secret\n")
	w.Close()
	if got := out.String(); got != "port 5432 user n8n pw <concealed>\n" {
		t.Errorf("got %q", got)
	}
}

// n8nLogs is about what n8n writes: JSON lines of 150 to 300 bytes.
func n8nLogs(lines int) [][]byte {
	var out [][]byte
	for i := range lines {
		out = append(out, []byte(fmt.Sprintf(`{"level":"info","message":"Workflow execution finished","metadata":{"executionId":"%d","workflowId":"wf-%d","nodeType":"n8n-nodes-base.httpRequest","durationMs":%d,"file":"WorkflowRunner.js","function":"runMainProcess"},"timestamp":"2026-12-06T18:00:00.000Z"}`+"\n", i, i%97, i%1000)))
	}
	return out
}

// BenchmarkMask measures masking's cost on n8n-like logs: one write per
// line, 50 secrets of 32 bytes to look for; BenchmarkMaskNone is the copy
// alone.
func BenchmarkMask(b *testing.B) {
	var secrets [][]byte
	for i := range 50 {
		secrets = append(secrets, []byte(fmt.Sprintf("secret-%02d-%s", i, strings.Repeat("x", 22))))
	}
	benchMask(b, NewMasker(secrets).Writer(io.Discard))
}

func BenchmarkMaskNone(b *testing.B) {
	benchMask(b, io.Discard)
}

func benchMask(b *testing.B, w io.Writer) {
	lines := n8nLogs(1000)
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			w.Write(l)
		}
	}
}
