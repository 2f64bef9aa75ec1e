package awsfake_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
)

// These tests read the fake's answers off the wire, without the SDK.

func TestWireErrorShapes(t *testing.T) {
	s := awsfake.New(t)
	s.AddSecret(usEast, "a", "1")
	creds := s.Credential().AWS()
	now := time.Now()

	cases := []struct {
		name   string
		setup  func()
		creds  func() (string, string) // access key, secret
		op     string
		body   string
		status int
		want   string // exact JSON body
	}{
		{name: "not found", op: "GetSecretValue", body: `{"SecretId":"missing"}`, status: 400,
			want: `{"Message":"Secrets Manager can't find the specified secret.","__type":"ResourceNotFoundException"}`},
		{name: "internal error", setup: func() { s.FailNext(1) }, op: "GetSecretValue", body: `{"SecretId":"a"}`, status: 500,
			want: `{"Message":"An error occurred on the server side.","__type":"InternalServiceError"}`},
		{name: "throttled", setup: func() { s.ThrottleNext(1) }, op: "GetSecretValue", body: `{"SecretId":"a"}`, status: 400,
			want: `{"__type":"ThrottlingException","message":"Rate exceeded"}`},
		{name: "unknown key", creds: func() (string, string) { return "AKIAUNKNOWN000000001", "x" }, op: "GetSecretValue", body: `{"SecretId":"a"}`, status: 400,
			want: `{"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."}`},
		{name: "missing required member", op: "GetSecretValue", body: `{}`, status: 400,
			want: `{"__type":"ValidationException","message":"1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null"}`},
		{name: "member names are case-sensitive", op: "GetSecretValue", body: `{"secretid":"a"}`, status: 400,
			want: `{"__type":"ValidationException","message":"1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null"}`},
		{name: "short version id", op: "GetSecretValue", body: `{"SecretId":"a","VersionId":"v1"}`, status: 400,
			want: `{"__type":"ValidationException","message":"1 validation error detected: Value 'v1' at 'versionId' failed to satisfy constraint: Member must have length greater than or equal to 32"}`},
		{name: "not JSON", op: "GetSecretValue", body: `{"SecretId":`, status: 400},
		{name: "unknown operation", op: "RotateSecret", body: `{"SecretId":"a"}`, status: 400},
		{name: "batch without ids or filters", op: "BatchGetSecretValue", body: `{}`, status: 400,
			want: `{"Message":"Either 'SecretIdList' or 'Filters' must be provided, but not both.","__type":"InvalidParameterException"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			c := creds
			if tc.creds != nil {
				c.AccessKeyID, c.SecretAccessKey = tc.creds()
			}
			resp := rawCall(t, s, c, usEast, tc.op, tc.body, now)
			if resp.Status != tc.status {
				t.Errorf("status %d, want %d (%s)", resp.Status, tc.status, resp.Body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
				t.Errorf("Content-Type %q", ct)
			}
			if resp.Header.Get("X-Amzn-Requestid") == "" {
				t.Error("no x-amzn-RequestId header")
			}
			body := resp.JSON(t)
			if et := resp.Header.Get("X-Amzn-Errortype"); et == "" || et != body["__type"] {
				t.Errorf("X-Amzn-ErrorType %q, __type %v", et, body["__type"])
			}
			if tc.want != "" {
				canon, _ := json.Marshal(body) // sorted keys
				if string(canon) != tc.want {
					t.Errorf("body %s\nwant %s", canon, tc.want)
				}
			}
		})
	}
}

func TestWireSuccessShapes(t *testing.T) {
	s := awsfake.New(t)
	created := time.Date(2023, 11, 14, 22, 13, 20, 500_000_000, time.UTC)
	blob := []byte{0xde, 0xad, 0xbe, 0xef}
	ref := s.AddBinarySecret(usEast, "bin", blob, awsfake.WithCreatedDate(created))
	resp := rawCall(t, s, s.Credential().AWS(), usEast, "GetSecretValue", `{"SecretId":"bin"}`, time.Now())
	if resp.Status != 200 {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
	body := resp.JSON(t)
	if body["SecretBinary"] != base64.StdEncoding.EncodeToString(blob) {
		t.Errorf("SecretBinary on the wire = %v, want standard base64", body["SecretBinary"])
	}
	if _, ok := body["SecretString"]; ok {
		t.Error("SecretString present for a binary secret")
	}
	if body["CreatedDate"] != 1700000000.5 {
		t.Errorf("CreatedDate = %v, want epoch seconds 1700000000.5", body["CreatedDate"])
	}
	if body["ARN"] != ref.ARN || body["Name"] != "bin" || body["VersionId"] != ref.VersionID {
		t.Errorf("body %s", resp.Body)
	}
	if stages, _ := body["VersionStages"].([]any); len(stages) != 1 || stages[0] != "AWSCURRENT" {
		t.Errorf("VersionStages %v", body["VersionStages"])
	}

	batch := rawCall(t, s, s.Credential().AWS(), usEast, "BatchGetSecretValue", `{"SecretIdList":["bin","nope"]}`, time.Now())
	var out struct {
		SecretValues []map[string]any
		Errors       []map[string]string
		NextToken    *string
	}
	if err := json.Unmarshal(batch.Body, &out); err != nil || batch.Status != 200 {
		t.Fatalf("%d %s %v", batch.Status, batch.Body, err)
	}
	if len(out.SecretValues) != 1 || out.SecretValues[0]["Name"] != "bin" || out.NextToken != nil {
		t.Errorf("batch body %s", batch.Body)
	}
	want := map[string]string{"SecretId": "nope", "ErrorCode": "ResourceNotFoundException", "Message": "Secrets Manager can't find the specified secret."}
	if len(out.Errors) != 1 || !strings.EqualFold(out.Errors[0]["ErrorCode"], want["ErrorCode"]) ||
		out.Errors[0]["SecretId"] != want["SecretId"] || out.Errors[0]["Message"] != want["Message"] {
		t.Errorf("Errors %v, want [%v]", out.Errors, want)
	}
}
