package inject

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const canary = "CANARY-s3cr3t-7a1b2c3d"

func TestSecretRedactsEverywhere(t *testing.T) {
	s := NewSecret([]byte(canary))
	type holder struct {
		Exported Secret
		hidden   Secret
		Ptr      *Secret
	}
	h := holder{Exported: s, hidden: s, Ptr: &s}
	outputs := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
		outputs["Sprintf "+verb+" secret"] = fmt.Sprintf(verb, s)
		outputs["Sprintf "+verb+" holder"] = fmt.Sprintf(verb, h)
		outputs["Sprintf "+verb+" pointer"] = fmt.Sprintf(verb, &h)
	}
	outputs["String"] = s.String()
	outputs["Sprint"] = fmt.Sprint(s, h, []Secret{s}, map[string]Secret{"k": s})
	outputs["errorf"] = fmt.Errorf("wrap %v", s).Error()
	j, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(j)
	jm, _ := json.Marshal(map[string]Secret{"k": s})
	outputs["json map key value"] = string(jm)
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "secret", s, "holder", h, "group", slog.Group("g", "s", s))
	tlog := slog.New(slog.NewTextHandler(&buf, nil))
	tlog.Info("x", "secret", s, "holder", h)
	outputs["slog"] = buf.String()
	for name, out := range outputs {
		if strings.Contains(out, canary) || strings.Contains(out, fmt.Sprintf("%x", canary)) ||
			strings.Contains(out, fmt.Sprint([]byte(canary))) {
			t.Errorf("%s reveals the secret value", name)
		}
	}
	if !strings.Contains(outputs["Sprintf %v secret"], redacted) {
		t.Errorf("%%v of a secret = %q, want %s", outputs["Sprintf %v secret"], redacted)
	}
	if string(s.Reveal()) != canary || s.Len() != len(canary) {
		t.Error("Reveal must return the value")
	}
	var zero Secret
	if zero.Reveal() != nil || zero.Len() != 0 {
		t.Error("the zero Secret must be empty")
	}
}

func TestVarErrorNamesVariable(t *testing.T) {
	err := varErr("DB_PASSWORD", fmt.Errorf("vault: read secret/db: %w", ErrPermission))
	if err.Code != CodePermissionDenied || err.Code.Exit() != 77 {
		t.Fatalf("code %s exit %d", err.Code, err.Code.Exit())
	}
	if !strings.HasPrefix(err.Error(), "DB_PASSWORD: vault: read secret/db") {
		t.Errorf("message %q", err.Error())
	}
	if !errors.Is(err, ErrPermission) {
		t.Error("VarError must unwrap")
	}
}

func TestExitCodeOf(t *testing.T) {
	e := func(s error) error { return varErr("X", s) }
	tests := []struct {
		name string
		errs []error
		want int
	}{
		{"none", nil, 0},
		{"not found", []error{e(ErrNotFound)}, 65},
		{"key", []error{e(ErrKeyNotFound)}, 65},
		{"bad data", []error{e(ErrBadData)}, 65},
		{"unavailable", []error{e(ErrUnavailable)}, 69},
		{"unknown provider error", []error{e(errors.New("boom"))}, 65},
		{"auth", []error{e(ErrAuth)}, 77},
		{"permission beats data", []error{e(ErrNotFound), e(ErrPermission)}, 77},
		{"unavailable beats data", []error{e(ErrBadData), e(ErrUnavailable)}, 69},
		{"permission beats unavailable", []error{e(ErrUnavailable), e(ErrPermission)}, 77},
		{"config is usage", []error{e(ErrNotConfigured), e(ErrPermission)}, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCodeOf(tt.errs); got != tt.want {
				t.Errorf("ExitCodeOf = %d, want %d", got, tt.want)
			}
		})
	}
}
