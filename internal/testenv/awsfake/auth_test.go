package awsfake_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
)

func clientWith(s *awsfake.Server, creds aws.CredentialsProvider) *secretsmanager.Client {
	cfg := s.Config(usEast)
	cfg.Credentials = creds
	return secretsmanager.NewFromConfig(cfg)
}

func TestAuthenticationFailures(t *testing.T) {
	now := time.Now()
	s := awsfake.New(t,
		awsfake.WithCredential(awsfake.Credential{AccessKeyID: "ASIATEMPORARY0000001", SecretAccessKey: "temp-secret", SessionToken: "the-token"}),
		awsfake.WithCredential(awsfake.Credential{AccessKeyID: "ASIAEXPIRED000000001", SecretAccessKey: "old", SessionToken: "t", Expires: now.Add(-time.Minute)}),
	)
	s.AddSecret(usEast, "a", "1")
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")}

	cases := []struct {
		name    string
		creds   aws.CredentialsProvider
		code    string
		message string
	}{
		{"wrong secret key", credentials.NewStaticCredentialsProvider(awsfake.DefaultAccessKeyID, "not-the-secret", ""),
			"InvalidSignatureException", "The request signature we calculated does not match the signature you provided."},
		{"unknown access key", credentials.NewStaticCredentialsProvider("AKIAUNKNOWN000000001", "x", ""),
			"UnrecognizedClientException", "The security token included in the request is invalid."},
		{"missing session token", credentials.NewStaticCredentialsProvider("ASIATEMPORARY0000001", "temp-secret", ""),
			"UnrecognizedClientException", "The security token included in the request is invalid."},
		{"wrong session token", credentials.NewStaticCredentialsProvider("ASIATEMPORARY0000001", "temp-secret", "other"),
			"UnrecognizedClientException", "The security token included in the request is invalid."},
		{"expired credential", credentials.NewStaticCredentialsProvider("ASIAEXPIRED000000001", "old", "t"),
			"ExpiredTokenException", "The security token included in the request is expired"},
		{"unsigned request", aws.AnonymousCredentials{},
			"MissingAuthenticationTokenException", "Request is missing Authentication Token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.Reset()
			_, err := clientWith(s, tc.creds).GetSecretValue(ctx, in)
			code, status := errorCode(t, err)
			if code != tc.code || status != 400 {
				t.Errorf("got %q %d, want %q 400", code, status, tc.code)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q does not contain %q", err, tc.message)
			}
			// None of these is retried by the SDK (with a correct clock).
			if s.TotalCalls() != 1 {
				t.Errorf("calls = %d, want 1", s.TotalCalls())
			}
		})
	}

	// The right session token works.
	out, err := clientWith(s, credentials.NewStaticCredentialsProvider("ASIATEMPORARY0000001", "temp-secret", "the-token")).GetSecretValue(ctx, in)
	if err != nil || aws.ToString(out.SecretString) != "1" {
		t.Errorf("temporary credential: %v", err)
	}

	// A removed key stops working.
	s.RemoveCredential("ASIATEMPORARY0000001")
	_, err = clientWith(s, credentials.NewStaticCredentialsProvider("ASIATEMPORARY0000001", "temp-secret", "the-token")).GetSecretValue(ctx, in)
	if code, _ := errorCode(t, err); code != "UnrecognizedClientException" {
		t.Errorf("removed key: %q", code)
	}
}

func TestSignatureCoversTheBody(t *testing.T) {
	s := awsfake.New(t)
	s.AddSecret(usEast, "a", "1")
	creds := s.Credential().AWS()
	now := time.Now()

	ok := rawCall(t, s, creds, usEast, "GetSecretValue", `{"SecretId":"a"}`, now)
	if ok.Status != 200 {
		t.Fatalf("signed raw call: %d %s", ok.Status, ok.Body)
	}
	// Sign one body, send another: the signature no longer matches.
	resp := rawSend(t, s, creds, usEast, "GetSecretValue", `{"SecretId":"a"}`, `{"SecretId":"b"}`, now)
	if resp.Status != 400 || resp.Header.Get("X-Amzn-Errortype") != "InvalidSignatureException" {
		t.Errorf("tampered body: %d %s", resp.Status, resp.Body)
	}
	msg, _ := resp.JSON(t)["message"].(string)
	if !strings.Contains(msg, "The Canonical String for this request should have been") ||
		!strings.Contains(msg, "x-amz-target:secretsmanager.GetSecretValue") {
		t.Errorf("message lacks the canonical request: %q", msg)
	}
}

func TestSigningTimeWindow(t *testing.T) {
	s := awsfake.New(t)
	creds := s.Credential().AWS()
	resp := rawCall(t, s, creds, usEast, "GetSecretValue", `{"SecretId":"a"}`, time.Now().Add(-20*time.Minute))
	body := resp.JSON(t)
	if resp.Status != 400 || body["__type"] != "InvalidSignatureException" ||
		!strings.HasPrefix(body["message"].(string), "Signature expired: ") {
		t.Errorf("old signature: %d %s", resp.Status, resp.Body)
	}
	resp = rawCall(t, s, creds, usEast, "GetSecretValue", `{"SecretId":"a"}`, time.Now().Add(20*time.Minute))
	if body := resp.JSON(t); resp.Status != 400 || !strings.HasPrefix(body["message"].(string), "Signature not yet current: ") {
		t.Errorf("future signature: %d %s", resp.Status, resp.Body)
	}
}

// The SDK corrects clock skew: a server clock an hour ahead makes the first
// attempt fail with InvalidSignatureException; the SDK reads the Date
// header, re-signs with the offset and the retry succeeds.
func TestSDKCorrectsClockSkew(t *testing.T) {
	s := awsfake.New(t, awsfake.WithClock(func() time.Time { return time.Now().Add(time.Hour) }))
	s.AddSecret(usEast, "a", "1")
	out, err := s.Client(usEast, awsfake.FastRetries).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")})
	if err != nil {
		t.Fatalf("GetSecretValue: %v", err)
	}
	if aws.ToString(out.SecretString) != "1" {
		t.Errorf("value %q", aws.ToString(out.SecretString))
	}
	log := s.Log()
	if len(log) != 2 || log[0].ErrorCode != "InvalidSignatureException" || log[1].Status != 200 {
		t.Errorf("log = %+v, want a rejected attempt then a success", log)
	}
}
