package azkv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// kvErrorBody is Key Vault's error shape.
type kvErrorBody struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError *struct {
			Code string `json:"code"`
		} `json:"innererror"`
	} `json:"error"`
}

// classify maps an error of a Key Vault call (op: "get", "list versions of")
// on r to the core's sentinels, prefixed "azkv: <op> <vault>/<secret>".
func (p *Provider) classify(ctx context.Context, op string, r Ref, err error) error {
	prefix := "azkv: " + op + " " + r.Path()
	var (
		refused *refusedError
		ce      *credError
		re      *azcore.ResponseError
		se      *sendError
	)
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", prefix, ctx.Err())
	case errors.As(err, &refused):
		return fmt.Errorf("%s: %w", prefix, refused.err)
	case errors.As(err, &ce):
		return fmt.Errorf("%s: %w", prefix, ce)
	case errors.As(err, &re):
		return fromResponse(prefix, re)
	case errors.As(err, &se):
		var dns *net.DNSError
		if errors.As(se.err, &dns) && dns.IsNotFound {
			// A name Azure does not know is a vault that does not exist
			// (or a wrong suffix): not worth retrying, and not a missing
			// secret that optional=true could hide.
			return fmt.Errorf("%s: the vault's host %s does not resolve (no such host): check the vault name, and AZURE_KEYVAULT_DNS_SUFFIX for a cloud other than Azure's public one",
				prefix, se.host)
		}
		return fmt.Errorf("%s: %w: %s did not answer (%s)", prefix, inject.ErrUnavailable, se.host, trunc(innermost(se.err).Error(), 200))
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "doesn't match the requested domain"):
		return fmt.Errorf("%s: %w: Key Vault's authentication challenge names a resource outside the vault's domain: check AZURE_KEYVAULT_DNS_SUFFIX", prefix, inject.ErrNotConfigured)
	case strings.Contains(msg, "WWW-Authenticate"):
		return fmt.Errorf("%s: %w: the server answered 401 without Key Vault's authentication challenge: is the host a key vault? (check AZURE_KEYVAULT_DNS_SUFFIX)", prefix, inject.ErrNotConfigured)
	case strings.Contains(msg, "unmarshalling type"):
		return fmt.Errorf("%s: %w: Key Vault's answer could not be decoded", prefix, inject.ErrUnavailable)
	}
	return fmt.Errorf("%s: the Azure SDK failed before an answer (%T; its message is not shown)", prefix, err)
}

// fromResponse maps Key Vault's error answer.
func fromResponse(prefix string, re *azcore.ResponseError) error {
	var body kvErrorBody
	if re.RawResponse != nil {
		if b, err := runtime.Payload(re.RawResponse); err == nil {
			_ = json.Unmarshal(b, &body)
		}
	}
	code, inner := body.Error.Code, ""
	if code == "" {
		code = re.ErrorCode
	}
	if body.Error.InnerError != nil {
		inner = body.Error.InnerError.Code
	}
	detail := fmt.Sprintf("HTTP %d", re.StatusCode)
	if code = codeToken(code); code != "" {
		detail += " " + code
	}
	if inner = codeToken(inner); inner != "" {
		detail += "/" + inner
	}
	if m := oneLine(body.Error.Message); m != "" {
		detail += ": " + m
	}
	s := re.StatusCode
	switch {
	case s == http.StatusNotFound:
		return fmt.Errorf("%s: %w (%s)", prefix, inject.ErrNotFound, detail)
	case s == http.StatusForbidden && inner == "SecretDisabled":
		return fmt.Errorf("%s: %w: the version is disabled (%s)", prefix, inject.ErrNotFound, detail)
	case s == http.StatusForbidden && (inner == "ForbiddenByFirewall" || inner == "ForbiddenByConnection"):
		return fmt.Errorf("%s: %w: the vault's network rules refuse this client (%s)", prefix, inject.ErrPermission, detail)
	case s == http.StatusForbidden:
		return fmt.Errorf("%s: %w (%s)", prefix, inject.ErrPermission, detail)
	case s == http.StatusUnauthorized:
		return fmt.Errorf("%s: %w: Key Vault refused the token (%s)", prefix, inject.ErrAuth, detail)
	case s == http.StatusTooManyRequests:
		if ra := re.RawResponse.Header.Get("Retry-After"); codeToken(ra) != "" {
			detail += "; Retry-After " + codeToken(ra) + "s"
		}
		return fmt.Errorf("%s: %w: throttled (%s)", prefix, inject.ErrUnavailable, detail)
	case s >= 500 || s == http.StatusRequestTimeout:
		return fmt.Errorf("%s: %w (%s)", prefix, inject.ErrUnavailable, detail)
	case s == http.StatusBadRequest && code == "BadParameter":
		return fmt.Errorf("%s: %w: Key Vault refused the request (%s)", prefix, inject.ErrBadReference, detail)
	}
	return fmt.Errorf("%s: Key Vault refused the request (%s)", prefix, detail)
}

// tokenRE is checked with the length apart: a bounded repetition such as
// {1,64} compiles into one copy of the class per place, 860 allocations at
// every start of the program, a reference to Key Vault or not.
var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// codeToken returns s when it is a short identifier (an error code), else "".
func codeToken(s string) string {
	if len(s) <= 64 && tokenRE.MatchString(s) {
		return s
	}
	return ""
}

// oneLine makes Key Vault's message one line of printable text, truncated.
// Key Vault's messages name the caller, the action and the object; they
// never hold a token or a value.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return trunc(strings.Join(strings.Fields(s), " "), 400)
}

// entraCode returns Entra ID's OAuth error code and AADSTS numbers from a
// token endpoint's error answer ("invalid_client AADSTS7000215"), never its
// description.
func entraCode(res *http.Response) string {
	b, err := runtime.Payload(res)
	if err != nil {
		return ""
	}
	return entraCodeOf(b)
}

// oauthCodeRE is checked with the length apart (as tokenRE).
var oauthCodeRE = regexp.MustCompile(`^[a-z_]+$`)

// entraCodeOf is entraCode of a body.
func entraCodeOf(b []byte) string {
	var e struct {
		Error      string `json:"error"`
		ErrorCodes []int  `json:"error_codes"`
	}
	if json.Unmarshal(b, &e) != nil {
		return ""
	}
	out := ""
	if len(e.Error) <= 48 && oauthCodeRE.MatchString(e.Error) {
		out = e.Error
	}
	for _, c := range e.ErrorCodes {
		out = strings.TrimSpace(fmt.Sprintf("%s AADSTS%d", out, c))
	}
	return out
}
