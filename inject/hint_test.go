package inject

import (
	"errors"
	"fmt"
	"testing"
)

func TestHints(t *testing.T) {
	base := fmt.Errorf("vault: read x: %w: gone", ErrNotFound)
	h := WithHint(base, "restore it")
	wrapped := varErr("V", fmt.Errorf("after retries: %w", h))
	if HintOf(wrapped) != "restore it" || !errors.Is(wrapped, ErrNotFound) || CodeOf(wrapped) != CodeSecretNotFound {
		t.Fatalf("hint %q, code %s: the hint must survive wrapping and keep the classification", HintOf(wrapped), CodeOf(wrapped))
	}
	if h.Error() != base.Error() {
		t.Errorf("a hint must not change the message: %q", h.Error())
	}
	if HintOf(base) != "" || WithHint(nil, "x") != nil {
		t.Error("no hint on a plain error, and no error from nil")
	}
	if outer := WithHint(wrapped, "outer"); HintOf(outer) != "outer" {
		t.Error("the outermost hint wins")
	}
}
