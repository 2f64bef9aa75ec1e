package azkvfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

func get(t *testing.T, c *http.Client, u, bearer string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &body)
	return resp, body
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	if ie, ok := e["innererror"].(map[string]any); ok {
		c += "/" + ie["code"].(string)
	}
	return c
}

// TestWire checks the fake's answers on the wire, as Key Vault and Entra
// ID give them.
func TestWire(t *testing.T) {
	s := New(t)
	s.SetSecret("wire-kv", "one", "v")
	c := &http.Client{Transport: s.Transport()}
	base := "https://wire-kv.vault.azure.net"

	resp, body := get(t, c, base+"/secrets/one?api-version=7.6", "")
	want := `Bearer authorization="https://login.windows.net/` + DefaultTenant + `", resource="https://vault.azure.net"`
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != want || errCode(body) != "Unauthorized" {
		t.Fatalf("challenge: %d %q %v", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	if resp, body = get(t, c, base+"/secrets/one", ""); resp.StatusCode != 400 || errCode(body) != "BadParameter" {
		t.Fatalf("no api-version: %d %v", resp.StatusCode, body)
	}
	if resp, body = get(t, c, base+"/secrets/one?api-version=1.0", ""); resp.StatusCode != 400 || errCode(body) != "BadParameter" {
		t.Fatalf("unknown api-version: %d %v", resp.StatusCode, body)
	}
	tok := s.IssueToken(DefaultTenant, DefaultClientID, PublicCloud)
	if resp, body = get(t, c, base+"/secrets/one?api-version=7.6", tok); resp.StatusCode != 403 || errCode(body) != "Forbidden/ForbiddenByRbac" {
		t.Fatalf("no role: %d %v", resp.StatusCode, body)
	}
	s.GrantSecretsUser(DefaultClientID, "wire-kv")
	if resp, body = get(t, c, base+"/secrets/one?api-version=7.6", tok); resp.StatusCode != 200 || body["value"] != "v" || !strings.HasPrefix(body["id"].(string), base+"/secrets/one/") {
		t.Fatalf("get: %d %v", resp.StatusCode, body)
	}
	china := s.IssueToken(DefaultTenant, DefaultClientID, ChinaCloud)
	if resp, body = get(t, c, base+"/secrets/one?api-version=7.6", china); resp.StatusCode != 401 || !strings.Contains(fmt.Sprint(body), "AKV10022") {
		t.Fatalf("another cloud's token: %d %v", resp.StatusCode, body)
	}
	s.Throttle(1, 7)
	if resp, body = get(t, c, base+"/secrets/one?api-version=7.6", tok); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" || errCode(body) != "Throttled" {
		t.Fatalf("throttled: %d %v", resp.StatusCode, body)
	}

	// Paging: 30 secrets, 25 then 5, nextLink absolute with api-version.
	for i := range 29 {
		s.SetSecret("wire-kv", fmt.Sprintf("s%02d", i), "v")
	}
	resp, body = get(t, c, base+"/secrets?api-version=7.6", tok)
	next, _ := body["nextLink"].(string)
	if resp.StatusCode != 200 || len(body["value"].([]any)) != 25 || !strings.HasPrefix(next, base+":443/secrets?api-version=7.6&$skiptoken=") {
		t.Fatalf("first page: %d, %d items, nextLink %q", resp.StatusCode, len(body["value"].([]any)), next)
	}
	for _, it := range body["value"].([]any) {
		if _, has := it.(map[string]any)["value"]; has {
			t.Fatal("a listing holds a value")
		}
	}
	if resp, body = get(t, c, next, tok); resp.StatusCode != 200 || len(body["value"].([]any)) != 5 || body["nextLink"] != nil {
		t.Fatalf("last page: %d %v", resp.StatusCode, body)
	}

	// Entra: discovery, then a token for the client secret.
	resp, body = get(t, c, "https://login.microsoftonline.com/"+DefaultTenant+"/v2.0/.well-known/openid-configuration", "")
	if resp.StatusCode != 200 || body["token_endpoint"] != "https://login.microsoftonline.com/"+DefaultTenant+"/oauth2/v2.0/token" {
		t.Fatalf("openid-configuration: %d %v", resp.StatusCode, body)
	}
	resp, body = get(t, c, "https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint="+url.QueryEscape("https://login.azkvfake.test/x/oauth2/v2.0/authorize"), "")
	if resp.StatusCode != 400 || body["error"] != "invalid_instance" {
		t.Fatalf("instance discovery of an unknown host: %d %v", resp.StatusCode, body)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret},
		"scope": {"https://vault.azure.net/.default openid offline_access profile"}}
	tr, err := c.PostForm("https://login.microsoftonline.com/"+DefaultTenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tb map[string]any
	_ = json.NewDecoder(tr.Body).Decode(&tb)
	tr.Body.Close()
	if tr.StatusCode != 200 || tb["token_type"] != "Bearer" || tb["access_token"] == "" {
		t.Fatalf("token: %d %v", tr.StatusCode, tb)
	}
	form.Set("client_secret", "wrong")
	tr, _ = c.PostForm("https://login.microsoftonline.com/"+DefaultTenant+"/oauth2/v2.0/token", form)
	_ = json.NewDecoder(tr.Body).Decode(&tb)
	tr.Body.Close()
	if tr.StatusCode != 401 || tb["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %v", tr.StatusCode, tb)
	}
	// Hosts that are not the fake's do not connect; vaults that do not
	// exist do not resolve.
	if _, err := c.Get("https://example.com/"); err == nil {
		t.Fatal("a foreign host connected")
	}
	if _, err := c.Get("https://nope-kv.vault.azure.net/secrets?api-version=7.6"); err == nil || !strings.Contains(err.Error(), "no such host") {
		t.Fatalf("a vault that does not exist: %v", err)
	}
}

// TestSDK drives the fake with the official client: azidentity's client
// secret credential and azsecrets, writing, reading, paging versions.
func TestSDK(t *testing.T) {
	s := New(t)
	s.AddVault("sdk-kv", DefaultTenant)
	s.Grant(DefaultClientID, "sdk-kv", "", ActionGetSecret, ActionReadMetadata, ActionSetSecret)
	opts := azcore.ClientOptions{Transport: &http.Client{Transport: s.Transport()}, Retry: policy.RetryOptions{MaxRetries: -1}}
	cred, err := azidentity.NewClientSecretCredential(DefaultTenant, DefaultClientID, DefaultClientSecret, &azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	c, err := azsecrets.NewClient("https://sdk-kv.vault.azure.net/", cred, &azsecrets.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var last string
	for i := range 27 {
		s.AdvanceClock(time.Second)
		v := fmt.Sprintf("value-%d", i)
		r, err := c.SetSecret(ctx, "rotating", azsecrets.SetSecretParameters{Value: &v}, nil)
		if err != nil {
			t.Fatal(err)
		}
		last = r.ID.Version()
	}
	got, err := c.GetSecret(ctx, "rotating", "", nil)
	if err != nil || *got.Value != "value-26" || got.ID.Version() != last {
		t.Fatalf("get latest: %v %v", err, got.ID)
	}
	pager := c.NewListSecretPropertiesVersionsPager("rotating", nil)
	n, pages := 0, 0
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		n += len(page.Value)
	}
	if n != 27 || pages != 2 {
		t.Fatalf("versions: %d in %d pages, want 27 in 2", n, pages)
	}
	_, err = c.GetSecret(ctx, "absent", "", nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 404 || re.ErrorCode != "SecretNotFound" {
		t.Fatalf("absent: %v", err)
	}
	if s.CountOp("Token") != 1 {
		t.Errorf("token requests: %d, want 1", s.CountOp("Token"))
	}
}
