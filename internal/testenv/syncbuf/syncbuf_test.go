package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

func TestConcurrentAndBounded(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	line := strings.Repeat("x", 1023) + "\n"
	for range 4 {
		wg.Go(func() {
			for range 3000 {
				b.Write([]byte(line))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	s := b.String()
	if len(s) > limit+len(line)+64 || !strings.HasPrefix(s, "...[truncated]...") || !strings.HasSuffix(s, line) {
		t.Fatalf("kept %d bytes, truncated %v", len(s), strings.HasPrefix(s, "...[truncated]..."))
	}
}
