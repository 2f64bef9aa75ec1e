package main

import (
	"fmt"
	"os"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/failure"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
)

// exit is the one exit path of every command: it maps what stopped the
// command (nil for nothing) to its exit code (failure.Exit), and reports
// a failure not logged yet. In JSON mode (the default, and what s says;
// with s nil, N8N_SECRETS_LOG_FORMAT when it is valid) that is one JSON
// line with a code, like every other line; in text mode it is
// "n8n-secrets: error: …" and an optional "n8n-secrets: hint: …".
func exit(s *settings.Settings, err error) int {
	if err == nil {
		return 0
	}
	f := failure.Of(err)
	code := f.Exit()
	if f.Logged {
		return code
	}
	hint := failure.HintOf(err)
	if settings.Format(s) == "text" {
		fmt.Fprintf(os.Stderr, "n8n-secrets: error: %v\n", err)
		if hint != "" {
			fmt.Fprintf(os.Stderr, "n8n-secrets: hint: %s\n", hint)
		}
		return code
	}
	c := inject.CodeOf(err)
	if len(f.Codes) > 0 {
		c = f.Codes[0]
	}
	attrs := []any{"code", c, "error", err.Error(), "exit", code}
	if hint != "" {
		attrs = append(attrs, "hint", hint)
	}
	msg := "failed"
	if settings.IsUsage(err) {
		msg = "usage or settings error"
	}
	settings.NewLogger("json", "info").Error(msg, attrs...)
	return code
}
