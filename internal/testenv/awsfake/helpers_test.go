package awsfake_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
)

const (
	usEast = "us-east-1"
	euWest = "eu-west-1"
)

// errorCode returns the API error code of an SDK error and its HTTP status.
func errorCode(t *testing.T, err error) (string, int) {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error, got nil")
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is not a smithy.APIError", err, err)
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return apiErr.ErrorCode(), status
}

// rawResponse is an answer read off the wire, bypassing the SDK.
type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r rawResponse) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.Body, err)
	}
	return m
}

// rawCall signs a request with the SDK signer and sends it with net/http,
// so the test sees the exact status, headers and body the fake writes.
func rawCall(t *testing.T, s *awsfake.Server, creds aws.Credentials, region, op, body string, signTime time.Time) rawResponse {
	t.Helper()
	return rawSend(t, s, creds, region, op, body, body, signTime)
}

// rawSend signs signedBody but sends body.
func rawSend(t *testing.T, s *awsfake.Server, creds aws.Credentials, region, op, signedBody, body string, signTime time.Time) rawResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if op != "" {
		req.Header.Set("X-Amz-Target", "secretsmanager."+op)
	}
	if creds.AccessKeyID != "" {
		sum := sha256.Sum256([]byte(signedBody))
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]),
			"secretsmanager", region, signTime); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// rawSSM signs a Parameter Store request with the SDK signer for service
// (as a client scoped to it would) and sends it with net/http.
func rawSSM(t *testing.T, s *awsfake.Server, creds aws.Credentials, region, service, op, body string, signTime time.Time) rawResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM."+op)
	if creds.AccessKeyID != "" {
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, signTime); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}
