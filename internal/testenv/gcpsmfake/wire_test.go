package gcpsmfake_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2/google"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/gcpsmfake"
)

// The checks the fake makes, as the real services make them.

func TestJWTSignatureChecked(t *testing.T) {
	f := gcpsmfake.New(t)
	key := f.ServiceAccountKey(email, project)
	var m map[string]string
	if err := json.Unmarshal(key, &m); err != nil {
		t.Fatal(err)
	}
	// The same key id and email, another private key: the signature fails.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(other)
	m["private_key"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	forged, _ := json.Marshal(m)
	for name, k := range map[string][]byte{"genuine": key, "forged": forged} {
		creds, err := google.CredentialsFromJSONWithType(t.Context(), k, google.ServiceAccount, gcpsmfake.Scope)
		if err != nil {
			t.Fatal(err)
		}
		_, err = creds.TokenSource.Token()
		if (err == nil) != (name == "genuine") {
			t.Errorf("%s key: %v", name, err)
		}
		if name == "forged" && (err == nil || !strings.Contains(err.Error(), "Invalid JWT Signature")) {
			t.Errorf("forged key: %v, want invalid_grant (Invalid JWT Signature)", err)
		}
	}
}

func TestMetadataFlavorRequired(t *testing.T) {
	f := gcpsmfake.New(t)
	f.SetMetadataAccount("serviceAccount:gke@p.iam.gserviceaccount.com", "p")
	u := "http://" + f.MetadataHost() + "/computeMetadata/v1/instance/service-accounts/default/token"
	for _, tc := range []struct {
		header map[string]string
		want   int
	}{
		{nil, http.StatusForbidden},
		{map[string]string{"Metadata-Flavor": "Google", "X-Forwarded-For": "10.0.0.1"}, http.StatusForbidden},
		{map[string]string{"Metadata-Flavor": "Google"}, http.StatusOK},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want || resp.Header.Get("Metadata-Flavor") != "Google" {
			t.Errorf("headers %v: HTTP %d (flavor %q), want %d", tc.header, resp.StatusCode, resp.Header.Get("Metadata-Flavor"), tc.want)
		}
	}
}

func TestErrorShape(t *testing.T) {
	f := gcpsmfake.New(t)
	f.AddProject(project, number)
	tok := f.IssueToken("serviceAccount:x@p.iam.gserviceaccount.com", 3600e9)
	for _, tc := range []struct {
		path, auth string
		code       int
		status     string
	}{
		{"/v1/projects/" + project + "/secrets/s/versions/latest:access", "", 401, "UNAUTHENTICATED"},
		{"/v1/projects/" + project + "/secrets/s/versions/latest:access", "Bearer " + tok, 403, "PERMISSION_DENIED"},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.APIURL()+tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Error struct {
				Code    int
				Message string
				Status  string
			}
		}
		if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != tc.code || e.Error.Code != tc.code || e.Error.Status != tc.status || e.Error.Message == "" {
			t.Errorf("%s: HTTP %d %s", tc.path, resp.StatusCode, body)
		}
	}
	// STS refuses a subject token it does not know, in OAuth's shape.
	resp, err := http.PostForm(f.OAuthURL()+"/v1/token", url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "requested_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"}, "subject_token": {"nope"}, "audience": {"//iam.googleapis.com/x"},
		"scope": {gcpsmfake.Scope},
	})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), `"error":"invalid_grant"`) {
		t.Errorf("STS: HTTP %d %s", resp.StatusCode, body)
	}
}
