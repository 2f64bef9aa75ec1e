package azkv

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// TestCredentialFailureClasses: the class of a token failure comes from
// where it came from and its status, for answers the fake cannot give
// (the instance metadata service's).
func TestCredentialFailureClasses(t *testing.T) {
	p := &Provider{getenv: envOf()}
	answer := func(rawURL string, status int, body string) error {
		u, _ := url.Parse(rawURL)
		return &azidentity.AuthenticationFailedError{RawResponse: &http.Response{
			StatusCode: status, Request: &http.Request{Method: http.MethodGet, URL: u},
			Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)),
		}}
	}
	imds := "http://169.254.169.254/metadata/identity/oauth2/token"
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"IMDS updating (410)", answer(imds, 410, ""), inject.ErrUnavailable},
		{"IMDS updating (404)", answer(imds, 404, ""), inject.ErrUnavailable},
		{"IMDS: no identity (400)", answer(imds, 400, `{"error":"invalid_request","error_description":"Identity not found"}`), inject.ErrAuth},
		{"Entra throttling", answer("https://login.microsoftonline.com/t/oauth2/v2.0/token", 429, ""), inject.ErrUnavailable},
		{"Entra refuses", answer("https://login.microsoftonline.com/t/oauth2/v2.0/token", 401, `{"error":"invalid_client","error_codes":[7000215]}`), inject.ErrAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := p.credentialFailure(tc.err, &recorder{}, "")
			if !errors.Is(got, tc.want) {
				t.Fatalf("%v, want %v", got, tc.want)
			}
		})
	}
}
