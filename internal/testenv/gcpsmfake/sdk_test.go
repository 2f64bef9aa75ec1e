package gcpsmfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"net/http"
	"strings"
	"testing"
	"time"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/googleapis/gax-go/v2"
	"github.com/googleapis/gax-go/v2/apierror"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/gcpsmfake"
)

// Google's generated REST client for Secret Manager, with its own auth
// library (cloud.google.com/go/auth) reading a service account key, talks
// to the fake: every call decodes, every error arrives as the status code
// the real service gives. The client is a test-only import: it never
// enters the binary.

const (
	project = "sdk-test-project"
	number  = "424242424242"
	email   = "sdk@sdk-test-project.iam.gserviceaccount.com"
)

func newClient(t *testing.T, f *gcpsmfake.Server, key []byte, opts ...option.ClientOption) *secretmanager.Client {
	t.Helper()
	ctx := context.Background()
	opts = append([]option.ClientOption{
		option.WithEndpoint(f.APIURL()),
		option.WithAuthCredentialsJSON(option.ServiceAccount, key),
	}, opts...)
	c, err := secretmanager.NewRESTClient(ctx, opts...)
	if err != nil {
		t.Fatalf("NewRESTClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// googleStatus returns the HTTP code and the "status" of Google's error
// body: over REST the client maps a 400 to InvalidArgument whatever the
// body says, so FAILED_PRECONDITION is read from the body.
func googleStatus(err error) (int, string) {
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return 0, ""
	}
	var b struct {
		Error struct{ Status string } `json:"error"`
	}
	_ = json.Unmarshal([]byte(ge.Body), &b)
	return ge.Code, b.Error.Status
}

func code(err error) codes.Code {
	var ae *apierror.APIError
	if errors.As(err, &ae) {
		return ae.GRPCStatus().Code()
	}
	return codes.OK
}

func TestOfficialRESTClient(t *testing.T) {
	f := gcpsmfake.New(t)
	f.AddProject(project, number)
	key := f.ServiceAccountKey(email, project)
	f.CreateSecret(project + "/db")
	f.Grant("serviceAccount:"+email, gcpsmfake.RoleAdmin, project)
	c := newClient(t, f, key)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	parent := "projects/" + project + "/secrets/db"

	// Add two versions, the second with a checksum.
	v1, err := c.AddSecretVersion(ctx, &secretmanagerpb.AddSecretVersionRequest{Parent: parent, Payload: &secretmanagerpb.SecretPayload{Data: []byte("one")}})
	if err != nil {
		t.Fatalf("AddSecretVersion: %v", err)
	}
	sum := int64(crc32.Checksum([]byte("two"), crc32.MakeTable(crc32.Castagnoli)))
	v2, err := c.AddSecretVersion(ctx, &secretmanagerpb.AddSecretVersionRequest{Parent: parent, Payload: &secretmanagerpb.SecretPayload{Data: []byte("two"), DataCrc32C: &sum}})
	if err != nil {
		t.Fatalf("AddSecretVersion with a checksum: %v", err)
	}
	// Google's auth library took the key's token_uri: the fake's token
	// endpoint verified its signed assertion.
	if n := f.Count("oauth", "/token"); n != 1 {
		t.Errorf("token endpoint requests = %d, want 1", n)
	}
	if v1.GetName() != "projects/"+number+"/secrets/db/versions/1" || v2.GetState() != secretmanagerpb.SecretVersion_ENABLED || !v2.GetClientSpecifiedPayloadChecksum() {
		t.Errorf("versions: %v / %v", v1, v2)
	}
	bad := sum + 1
	_, err = c.AddSecretVersion(ctx, &secretmanagerpb.AddSecretVersionRequest{Parent: parent, Payload: &secretmanagerpb.SecretPayload{Data: []byte("two"), DataCrc32C: &bad}})
	if code(err) != codes.InvalidArgument {
		t.Errorf("a wrong checksum: %v, want InvalidArgument", err)
	}

	// Access latest: data and its checksum as the client decodes them.
	a, err := c.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: parent + "/versions/latest"})
	if err != nil {
		t.Fatalf("AccessSecretVersion: %v", err)
	}
	if string(a.GetPayload().GetData()) != "two" || a.GetPayload().GetDataCrc32C() != sum || a.GetName() != "projects/"+number+"/secrets/db/versions/2" {
		t.Errorf("access: %q crc %d name %s", a.GetPayload().GetData(), a.GetPayload().GetDataCrc32C(), a.GetName())
	}

	// Get: metadata, the state enum as the client asks for it (numbers).
	g, err := c.GetSecretVersion(ctx, &secretmanagerpb.GetSecretVersionRequest{Name: parent + "/versions/latest"})
	if err != nil || g.GetName() != a.GetName() || g.GetState() != secretmanagerpb.SecretVersion_ENABLED || g.GetCreateTime() == nil {
		t.Fatalf("GetSecretVersion: %v %v", g, err)
	}

	// Disable, destroy: states, and access refused as Google refuses it.
	if d, err := c.DisableSecretVersion(ctx, &secretmanagerpb.DisableSecretVersionRequest{Name: parent + "/versions/2"}); err != nil || d.GetState() != secretmanagerpb.SecretVersion_DISABLED {
		t.Fatalf("DisableSecretVersion: %v %v", d, err)
	}
	_, err = c.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: parent + "/versions/latest"})
	if c, st := googleStatus(err); c != 400 || st != "FAILED_PRECONDITION" || !strings.Contains(err.Error(), "DISABLED state") {
		t.Errorf("access disabled: %v, want FailedPrecondition", err)
	}
	if d, err := c.DestroySecretVersion(ctx, &secretmanagerpb.DestroySecretVersionRequest{Name: parent + "/versions/1"}); err != nil || d.GetState() != secretmanagerpb.SecretVersion_DESTROYED || d.GetDestroyTime() == nil {
		t.Fatalf("DestroySecretVersion: %v %v", d, err)
	}
	_, err = c.EnableSecretVersion(ctx, &secretmanagerpb.EnableSecretVersionRequest{Name: parent + "/versions/1"})
	if c, st := googleStatus(err); c != 400 || st != "FAILED_PRECONDITION" {
		t.Errorf("enable destroyed: %v, want FailedPrecondition", err)
	}
	if e, err := c.EnableSecretVersion(ctx, &secretmanagerpb.EnableSecretVersionRequest{Name: parent + "/versions/2"}); err != nil || e.GetState() != secretmanagerpb.SecretVersion_ENABLED {
		t.Fatalf("EnableSecretVersion: %v %v", e, err)
	}

	// Errors in Google's shape become the client's status codes.
	for _, tc := range []struct {
		name string
		want codes.Code
	}{
		{parent + "/versions/9", codes.NotFound},
		{"projects/" + project + "/secrets/nope/versions/latest", codes.NotFound},
		{"projects/someone-elses/secrets/db/versions/latest", codes.PermissionDenied},
	} {
		_, err := c.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: tc.name})
		if code(err) != tc.want {
			t.Errorf("access %s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// The client's own retry policy treats 429 and 503 as transient: it
	// recovers from one; without retries the codes show.
	noRetry := gax.WithRetry(func() gax.Retryer { return nil })
	for _, tc := range []struct {
		fault func(int)
		want  codes.Code
	}{{f.Throttle, codes.ResourceExhausted}, {f.FailNext, codes.Unavailable}} {
		tc.fault(1)
		before := f.Count("api", ":access")
		if _, err := c.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: parent + "/versions/2"}); err != nil {
			t.Errorf("%v once, with the client's retries: %v", tc.want, err)
		}
		if n := f.Count("api", ":access") - before; n != 2 {
			t.Errorf("%v once: %d requests, want 2", tc.want, n)
		}
		tc.fault(1)
		_, err = c.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: parent + "/versions/2"}, noRetry)
		if code(err) != tc.want {
			t.Errorf("without retries: %v, want %v", err, tc.want)
		}
	}
}

// TestOfficialClientAuth: the bearer token is checked, and x/oauth2's
// service account flow (the one the provider uses) works against the
// fake's token endpoint with the official client too.
func TestOfficialClientAuth(t *testing.T) {
	f := gcpsmfake.New(t)
	f.AddProject(project, number)
	key := f.ServiceAccountKey(email, project)
	f.AddVersion(project+"/db", []byte("v"))
	f.Grant("serviceAccount:"+email, gcpsmfake.RoleAccessor, project+"/db")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := "projects/" + project + "/secrets/db/versions/latest"

	creds, err := google.CredentialsFromJSONWithType(ctx, key, google.ServiceAccount, gcpsmfake.Scope)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, f, nil, option.WithTokenSource(creds.TokenSource))
	if _, err := c.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: name}); err != nil {
		t.Fatalf("with x/oauth2's token: %v", err)
	}
	if n := f.Count("oauth", "/token"); n != 1 {
		t.Errorf("token endpoint requests = %d, want 1", n)
	}

	// A viewer cannot read payloads; an accessor cannot read metadata.
	_, err = c.GetSecretVersion(ctx, &secretmanagerpb.GetSecretVersionRequest{Name: name})
	if code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "secretmanager.versions.get") {
		t.Errorf("get as accessor: %v, want PermissionDenied", err)
	}

	// No token, a made-up token, a revoked one: 401 UNAUTHENTICATED.
	anon := newClient(t, f, nil, option.WithoutAuthentication())
	_, err = anon.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: name})
	if code(err) != codes.Unauthenticated {
		t.Errorf("no token: %v, want Unauthenticated", err)
	}
	forged := newClient(t, f, nil, option.WithHTTPClient(&http.Client{Transport: bearer{"ya29.forged"}}))
	_, err = forged.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: name})
	if code(err) != codes.Unauthenticated {
		t.Errorf("forged token: %v, want Unauthenticated", err)
	}
	f.RevokeTokens()
	_, err = c.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: name})
	if code(err) != codes.Unauthenticated {
		t.Errorf("revoked token: %v, want Unauthenticated", err)
	}
}

type bearer struct{ tok string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.tok)
	return http.DefaultTransport.RoundTrip(r)
}
