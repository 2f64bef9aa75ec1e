package awsfake_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
)

var ctx = context.Background()

func get(t *testing.T, c *secretsmanager.Client, in *secretsmanager.GetSecretValueInput) *secretsmanager.GetSecretValueOutput {
	t.Helper()
	out, err := c.GetSecretValue(ctx, in)
	if err != nil {
		t.Fatalf("GetSecretValue(%q): %v", aws.ToString(in.SecretId), err)
	}
	return out
}

func TestGetSecretValueByNameARNAndPartialARN(t *testing.T) {
	s := awsfake.New(t)
	created := time.Date(2024, 3, 1, 12, 30, 45, 0, time.UTC)
	ref := s.AddSecret(usEast, "prod/n8n/db", `{"password":"hunter2"}`, awsfake.WithCreatedDate(created))
	c := s.Client(usEast)

	for _, id := range []string{ref.Name, ref.ARN, ref.PartialARN()} {
		out := get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if got := aws.ToString(out.SecretString); got != `{"password":"hunter2"}` {
			t.Errorf("%s: SecretString = %q", id, got)
		}
		if out.SecretBinary != nil {
			t.Errorf("%s: SecretBinary = %v, want nil", id, out.SecretBinary)
		}
		if aws.ToString(out.ARN) != ref.ARN || aws.ToString(out.Name) != "prod/n8n/db" || aws.ToString(out.VersionId) != ref.VersionID {
			t.Errorf("%s: ARN/Name/VersionId = %q/%q/%q, want %q/%q/%q", id,
				aws.ToString(out.ARN), aws.ToString(out.Name), aws.ToString(out.VersionId), ref.ARN, ref.Name, ref.VersionID)
		}
		if !slices.Equal(out.VersionStages, []string{"AWSCURRENT"}) {
			t.Errorf("%s: VersionStages = %v", id, out.VersionStages)
		}
		if out.CreatedDate == nil || !out.CreatedDate.Equal(created) {
			t.Errorf("%s: CreatedDate = %v, want %v", id, out.CreatedDate, created)
		}
	}
	wantARN := fmt.Sprintf("arn:aws:secretsmanager:us-east-1:%s:secret:prod/n8n/db-", awsfake.DefaultAccountID)
	if len(ref.ARN) != len(wantARN)+6 || ref.ARN[:len(wantARN)] != wantARN {
		t.Errorf("ARN %q is not %s + 6 characters", ref.ARN, wantARN)
	}
	if got := s.RequestedSecretIDs(); !slices.Equal(got, []string{ref.Name, ref.ARN, ref.PartialARN()}) {
		t.Errorf("RequestedSecretIDs = %v", got)
	}
	if s.Calls(awsfake.OpGetSecretValue) != 3 || s.TotalCalls() != 3 {
		t.Errorf("calls = %d, total %d, want 3, 3", s.Calls(awsfake.OpGetSecretValue), s.TotalCalls())
	}

	// An ARN with a wrong suffix, or a name with a suffix, does not resolve.
	for _, id := range []string{ref.PartialARN() + "-ZZZZZZ", ref.Name + ref.ARN[len(ref.ARN)-7:]} {
		_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("%s: err = %v, want ResourceNotFoundException", id, err)
		}
	}
}

func TestRegionsAreSeparate(t *testing.T) {
	s := awsfake.New(t)
	us := s.AddSecret(usEast, "api-key", "us-value")
	eu := s.AddSecret(euWest, "api-key", "eu-value")
	s.AddSecret(euWest, "eu-only", "x")
	if us.ARN == eu.ARN {
		t.Fatalf("both regions got ARN %s", us.ARN)
	}

	for region, want := range map[string]string{usEast: "us-value", euWest: "eu-value"} {
		out := get(t, s.Client(region), &secretsmanager.GetSecretValueInput{SecretId: aws.String("api-key")})
		if aws.ToString(out.SecretString) != want {
			t.Errorf("%s: got %q, want %q", region, aws.ToString(out.SecretString), want)
		}
	}
	cases := []struct {
		name   string
		region string
		id     string
	}{
		{"name that exists only in eu-west-1, asked in us-east-1", usEast, "eu-only"},
		{"us-east-1 ARN sent to eu-west-1", euWest, us.ARN},
	}
	for _, tc := range cases {
		_, err := s.Client(tc.region).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(tc.id)})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("%s: err = %v, want *types.ResourceNotFoundException", tc.name, err)
		} else if nf.ErrorMessage() != "Secrets Manager can't find the specified secret." {
			t.Errorf("%s: message = %q", tc.name, nf.ErrorMessage())
		}
	}
	regions := map[string]int{}
	for _, call := range s.Log() {
		regions[call.Region]++
	}
	if regions[usEast] != 2 || regions[euWest] != 2 {
		t.Errorf("calls per signing region = %v, want 2 and 2", regions)
	}
}

func TestBinarySecret(t *testing.T) {
	s := awsfake.New(t)
	blob := []byte{0x00, 0xff, 0x10, 'k', 'e', 'y', 0x80}
	s.AddBinarySecret(usEast, "tls/key", blob)
	out := get(t, s.Client(usEast), &secretsmanager.GetSecretValueInput{SecretId: aws.String("tls/key")})
	if !bytes.Equal(out.SecretBinary, blob) {
		t.Errorf("SecretBinary = %v, want %v", out.SecretBinary, blob)
	}
	if out.SecretString != nil {
		t.Errorf("SecretString = %q, want nil", *out.SecretString)
	}
}

func TestVersionsAndStages(t *testing.T) {
	s := awsfake.New(t)
	v1 := s.AddSecret(usEast, "db", "one")
	v2 := s.PutVersion(usEast, "db", awsfake.StringValue("two"))
	c := s.Client(usEast)

	check := func(in *secretsmanager.GetSecretValueInput, wantValue, wantVersion string, wantStages ...string) {
		t.Helper()
		in.SecretId = aws.String("db")
		out := get(t, c, in)
		if aws.ToString(out.SecretString) != wantValue || aws.ToString(out.VersionId) != wantVersion ||
			!slices.Equal(out.VersionStages, wantStages) {
			t.Errorf("got %q %s %v, want %q %s %v", aws.ToString(out.SecretString), aws.ToString(out.VersionId),
				out.VersionStages, wantValue, wantVersion, wantStages)
		}
	}
	check(&secretsmanager.GetSecretValueInput{}, "two", v2, "AWSCURRENT")
	check(&secretsmanager.GetSecretValueInput{VersionStage: aws.String("AWSPREVIOUS")}, "one", v1.VersionID, "AWSPREVIOUS")
	check(&secretsmanager.GetSecretValueInput{VersionId: aws.String(v1.VersionID)}, "one", v1.VersionID, "AWSPREVIOUS")
	check(&secretsmanager.GetSecretValueInput{VersionId: aws.String(v2), VersionStage: aws.String("AWSCURRENT")}, "two", v2, "AWSCURRENT")

	// Both given but naming different versions.
	_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("db"),
		VersionId: aws.String(v1.VersionID), VersionStage: aws.String("AWSCURRENT")})
	var ir *types.InvalidRequestException
	if !errors.As(err, &ir) || ir.ErrorMessage() != "You provided a VersionStage that is not associated to the provided VersionId." {
		t.Errorf("mismatched id/stage: err = %v, want InvalidRequestException", err)
	}
	// Unknown stage and unknown version id.
	for _, in := range []*secretsmanager.GetSecretValueInput{
		{SecretId: aws.String("db"), VersionStage: aws.String("AWSPENDING")},
		{SecretId: aws.String("db"), VersionId: aws.String("00000000-0000-4000-8000-000000000000")},
	} {
		_, err := c.GetSecretValue(ctx, in)
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("%v/%v: err = %v, want ResourceNotFoundException", aws.ToString(in.VersionStage), aws.ToString(in.VersionId), err)
		}
	}

	// A third version: AWSPREVIOUS follows AWSCURRENT, v1 keeps no label
	// but stays readable by id.
	v3 := s.PutVersion(usEast, "db", awsfake.StringValue("three"))
	check(&secretsmanager.GetSecretValueInput{}, "three", v3, "AWSCURRENT")
	check(&secretsmanager.GetSecretValueInput{VersionStage: aws.String("AWSPREVIOUS")}, "two", v2, "AWSPREVIOUS")
	check(&secretsmanager.GetSecretValueInput{VersionId: aws.String(v1.VersionID)}, "one", v1.VersionID)

	// Rotation: a pending version is invisible until AWSCURRENT moves to it.
	pending := s.PutVersion(usEast, "db", awsfake.StringValue("four"), awsfake.StagePending)
	check(&secretsmanager.GetSecretValueInput{}, "three", v3, "AWSCURRENT")
	check(&secretsmanager.GetSecretValueInput{VersionStage: aws.String("AWSPENDING")}, "four", pending, "AWSPENDING")
	s.MoveStages(usEast, "db", pending, awsfake.StageCurrent)
	check(&secretsmanager.GetSecretValueInput{}, "four", pending, "AWSPENDING", "AWSCURRENT")
	check(&secretsmanager.GetSecretValueInput{VersionStage: aws.String("AWSPREVIOUS")}, "three", v3, "AWSPREVIOUS")
}

func TestCreateAndPutSecretValueThroughTheSDK(t *testing.T) {
	s := awsfake.New(t)
	c := s.Client(euWest)
	created, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("n8n/encryption-key"), SecretString: aws.String("k1"), Description: aws.String("n8n key"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(created.VersionId) == "" || aws.ToString(created.Name) != "n8n/encryption-key" {
		t.Fatalf("CreateSecret = %+v", created)
	}
	_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("n8n/encryption-key"), SecretString: aws.String("x")})
	var exists *types.ResourceExistsException
	if !errors.As(err, &exists) {
		t.Errorf("second CreateSecret: err = %v, want ResourceExistsException", err)
	}

	put, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: created.ARN, SecretString: aws.String("k2")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(put.VersionStages, []string{"AWSCURRENT"}) || aws.ToString(put.VersionId) == aws.ToString(created.VersionId) {
		t.Errorf("PutSecretValue = %+v", put)
	}
	// The SDK fills ClientRequestToken with a UUID; replaying it is idempotent.
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: created.ARN,
		SecretString: aws.String("k2"), ClientRequestToken: put.VersionId})
	if err != nil {
		t.Errorf("replayed PutSecretValue: %v", err)
	}
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: created.ARN,
		SecretString: aws.String("other"), ClientRequestToken: put.VersionId})
	if !errors.As(err, &exists) {
		t.Errorf("PutSecretValue changing a version: err = %v, want ResourceExistsException", err)
	}

	prev := get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("n8n/encryption-key"), VersionStage: aws.String("AWSPREVIOUS")})
	cur := get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("n8n/encryption-key")})
	if aws.ToString(prev.SecretString) != "k1" || aws.ToString(cur.SecretString) != "k2" {
		t.Errorf("previous/current = %q/%q, want k1/k2", aws.ToString(prev.SecretString), aws.ToString(cur.SecretString))
	}
	if n := len(s.Versions(euWest, "n8n/encryption-key")); n != 2 {
		t.Errorf("versions = %d, want 2", n)
	}
	if s.Calls(awsfake.OpCreateSecret) != 2 || s.Calls(awsfake.OpPutSecretValue) != 3 {
		t.Errorf("calls: create %d put %d", s.Calls(awsfake.OpCreateSecret), s.Calls(awsfake.OpPutSecretValue))
	}
}

// batchGet fetches ids in chunks of 20, the most one BatchGetSecretValue takes.
func batchGet(t *testing.T, c *secretsmanager.Client, ids []string) (map[string]string, []types.APIErrorType) {
	t.Helper()
	values := map[string]string{}
	var errs []types.APIErrorType
	for chunk := range slices.Chunk(ids, 20) {
		out, err := c.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: chunk})
		if err != nil {
			t.Fatalf("BatchGetSecretValue: %v", err)
		}
		if out.NextToken != nil {
			t.Errorf("NextToken %q with a SecretIdList", *out.NextToken)
		}
		for _, v := range out.SecretValues {
			values[aws.ToString(v.Name)] = aws.ToString(v.SecretString)
		}
		errs = append(errs, out.Errors...)
	}
	return values, errs
}

func TestBatchGet45IDsTakesThreeCalls(t *testing.T) {
	s := awsfake.New(t)
	var ids []string
	for i := range 45 {
		name := fmt.Sprintf("app/secret-%02d", i)
		ref := s.AddSecret(usEast, name, "value-"+name)
		if i%2 == 0 {
			ids = append(ids, name)
		} else {
			ids = append(ids, ref.ARN)
		}
	}
	c := s.Client(usEast)
	values, errs := batchGet(t, c, ids)
	if len(errs) != 0 {
		t.Errorf("Errors = %+v", errs)
	}
	if len(values) != 45 {
		t.Fatalf("got %d values, want 45", len(values))
	}
	for name, v := range values {
		if v != "value-"+name {
			t.Errorf("%s = %q", name, v)
		}
	}
	// Calls the client made: a call the SDK retried (a loaded machine,
	// also after a 200 whose answer came too late) counts once, by its
	// invocation id; every request is listed.
	var calls []string
	for _, c := range s.Log() {
		if c.Op == awsfake.OpBatchGetSecretValue {
			calls = append(calls, fmt.Sprintf("%d %s %s", c.Status, c.ErrorCode, c.Invocation))
		}
	}
	if n := s.Invocations(awsfake.OpBatchGetSecretValue); n != 3 {
		t.Errorf("BatchGetSecretValue invocations = %d, want 3 (all: %v)", n, calls)
	}
	if s.Calls(awsfake.OpGetSecretValue) != 0 {
		t.Errorf("GetSecretValue was called")
	}
	// What the client asked for: each invocation once (a retry repeats
	// its request), in order.
	var sizes []int
	var asked []string
	seen := map[string]bool{}
	for _, call := range s.Log() {
		if call.Invocation != "" {
			if seen[call.Invocation] {
				continue // the SDK's retry of a call already counted
			}
			seen[call.Invocation] = true
		}
		sizes = append(sizes, len(call.SecretIDs))
		asked = append(asked, call.SecretIDs...)
	}
	if !slices.Equal(asked, ids) {
		t.Errorf("requested secret ids = %v", asked)
	}
	if !slices.Equal(sizes, []int{20, 20, 5}) {
		t.Errorf("batch sizes = %v, want [20 20 5] (all: %v)", sizes, calls)
	}

	// 21 ids in one call: the service rejects it (the SDK does not check
	// list lengths), and the error is not retried.
	s.Reset()
	_, err := c.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: ids[:21]})
	code, status := errorCode(t, err)
	var generic *smithy.GenericAPIError
	if code != "ValidationException" || status != 400 || !errors.As(err, &generic) {
		t.Errorf("21 ids: code %q status %d (%T), want ValidationException 400 GenericAPIError", code, status, err)
	}
	if s.TotalCalls() != 1 {
		t.Errorf("calls = %d, want 1 (not retried)", s.TotalCalls())
	}
}

func TestBatchGetPerSecretErrors(t *testing.T) {
	s := awsfake.New(t)
	s.AddSecret(usEast, "ok-1", "v1")
	s.AddSecret(usEast, "ok-2", "v2")
	s.AddSecret(usEast, "kms-broken", "x")
	s.AddSecret(usEast, "forbidden", "x")
	s.AddSecret(usEast, "deleted", "x")
	s.FailDecryption(usEast, "kms-broken")
	s.DenySecret(usEast, "forbidden")
	s.DeleteSecret(usEast, "deleted")

	values, errs := batchGet(t, s.Client(usEast), []string{"ok-1", "missing", "kms-broken", "forbidden", "deleted", "ok-2"})
	if len(values) != 2 || values["ok-1"] != "v1" || values["ok-2"] != "v2" {
		t.Errorf("values = %v", values)
	}
	got := map[string]string{}
	for _, e := range errs {
		got[aws.ToString(e.SecretId)] = aws.ToString(e.ErrorCode)
		if aws.ToString(e.Message) == "" {
			t.Errorf("%s: empty Message", aws.ToString(e.SecretId))
		}
	}
	want := map[string]string{
		"missing":    "ResourceNotFoundException",
		"kms-broken": "DecryptionFailure",
		"forbidden":  "AccessDeniedException",
		"deleted":    "InvalidRequestException",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Errors = %v, want %v", got, want)
	}

	// The same secrets through GetSecretValue fail as typed errors.
	c := s.Client(usEast)
	_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("kms-broken")})
	var df *types.DecryptionFailure
	if !errors.As(err, &df) {
		t.Errorf("kms-broken: err = %v, want *types.DecryptionFailure", err)
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("deleted")})
	var ir *types.InvalidRequestException
	if !errors.As(err, &ir) {
		t.Errorf("deleted: err = %v, want *types.InvalidRequestException", err)
	}
}

func TestBatchDeniedWhileGetWorks(t *testing.T) {
	s := awsfake.New(t)
	s.AddSecret(usEast, "a", "1")
	s.DenyOperation(awsfake.OpBatchGetSecretValue)
	c := s.Client(usEast)

	_, err := c.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"a"}})
	code, status := errorCode(t, err)
	if code != "AccessDeniedException" || status != 400 {
		t.Errorf("batch: %q %d, want AccessDeniedException 400", code, status)
	}
	// AccessDeniedException is not in the Secrets Manager model.
	var generic *smithy.GenericAPIError
	if !errors.As(err, &generic) {
		t.Errorf("batch error is %T, want *smithy.GenericAPIError", err)
	} else if want := "User: arn:aws:iam::123456789012:user/awsfake is not authorized to perform: secretsmanager:BatchGetSecretValue because no identity-based policy allows the secretsmanager:BatchGetSecretValue action"; generic.Message != want {
		t.Errorf("message = %q", generic.Message)
	}
	if s.Calls(awsfake.OpBatchGetSecretValue) != 1 {
		t.Errorf("batch calls = %d, want 1: AccessDenied is not retried", s.Calls(awsfake.OpBatchGetSecretValue))
	}

	out := get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")})
	if aws.ToString(out.SecretString) != "1" {
		t.Errorf("GetSecretValue = %q", aws.ToString(out.SecretString))
	}

	// Denying one secret: GetSecretValue names it in the message.
	s.DenySecret(usEast, "a")
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" ||
		apiErr.ErrorMessage() != "User: arn:aws:iam::123456789012:user/awsfake is not authorized to perform: secretsmanager:GetSecretValue on resource: a because no identity-based policy allows the secretsmanager:GetSecretValue action" {
		t.Errorf("denied secret: %v", err)
	}
}

func TestBatchGetWithFiltersPaginates(t *testing.T) {
	s := awsfake.New(t)
	for i := range 5 {
		s.AddSecret(usEast, fmt.Sprintf("n8n/%d", i), fmt.Sprint(i), awsfake.WithTag("app", "n8n"))
	}
	s.AddSecret(usEast, "other/x", "x")
	c := s.Client(usEast)

	p := secretsmanager.NewBatchGetSecretValuePaginator(c, &secretsmanager.BatchGetSecretValueInput{
		Filters:    []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"n8n/"}}},
		MaxResults: aws.Int32(2),
	})
	var names []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, v := range out.SecretValues {
			names = append(names, aws.ToString(v.Name))
		}
	}
	if pages != 3 || !slices.Equal(names, []string{"n8n/0", "n8n/1", "n8n/2", "n8n/3", "n8n/4"}) {
		t.Errorf("pages %d names %v", pages, names)
	}
	out, err := c.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{
		Filters: []types.Filter{{Key: types.FilterNameStringTypeTagValue, Values: []string{"!n8n"}}},
	})
	if err != nil || len(out.SecretValues) != 1 || aws.ToString(out.SecretValues[0].Name) != "other/x" {
		t.Errorf("negated tag filter: %v %+v", err, out)
	}

	bad := map[string]*secretsmanager.BatchGetSecretValueInput{
		"InvalidNextTokenException": {Filters: []types.Filter{{Key: "name", Values: []string{"n"}}}, NextToken: aws.String("bogus")},
		"InvalidParameterException": {SecretIdList: []string{"a"}, MaxResults: aws.Int32(5)},
	}
	for want, in := range bad {
		_, err := c.BatchGetSecretValue(ctx, in)
		if code, _ := errorCode(t, err); code != want {
			t.Errorf("got %q, want %q", code, want)
		}
	}
	_, err = c.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{
		SecretIdList: []string{"a"}, Filters: []types.Filter{{Key: "name", Values: []string{"n"}}},
	})
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) || ip.ErrorMessage() != "Either 'SecretIdList' or 'Filters' must be provided, but not both." {
		t.Errorf("list and filters: %v", err)
	}
}

func TestThrottlingAndServerErrorsAreRetried(t *testing.T) {
	s := awsfake.New(t)
	s.AddSecret(usEast, "a", "1")
	c := s.Client(usEast, awsfake.FastRetries)
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")}

	// Two throttles, then success: the default 3 attempts suffice.
	s.ThrottleNext(2)
	if out := get(t, c, in); aws.ToString(out.SecretString) != "1" {
		t.Errorf("value %q", aws.ToString(out.SecretString))
	}
	if n := s.Calls(awsfake.OpGetSecretValue); n != 3 {
		t.Errorf("calls = %d, want 3", n)
	}

	// Five throttles: the SDK gives up after 3 attempts.
	s.Reset()
	s.ThrottleNext(5)
	_, err := c.GetSecretValue(ctx, in)
	code, status := errorCode(t, err)
	var maxErr *retry.MaxAttemptsError
	if code != "ThrottlingException" || status != 400 || !errors.As(err, &maxErr) || maxErr.Attempt != 3 {
		t.Errorf("code %q status %d err %v, want ThrottlingException 400 after 3 attempts", code, status, err)
	}
	// ThrottlingException is not in the Secrets Manager model: no typed error.
	var generic *smithy.GenericAPIError
	if !errors.As(err, &generic) || generic.Message != "Rate exceeded" {
		t.Errorf("throttling error is %T %v, want *smithy.GenericAPIError", err, err)
	}
	if n := s.Calls(awsfake.OpGetSecretValue); n != 3 {
		t.Errorf("calls = %d, want 3", n)
	}
	s.ClearFaults()

	// 500 InternalServiceError: retried, typed when it persists.
	s.Reset()
	s.FailNext(1)
	get(t, c, in)
	if n := s.TotalCalls(); n != 2 {
		t.Errorf("one 500: calls = %d, want 2", n)
	}
	s.Reset()
	s.FailNext(3)
	_, err = c.GetSecretValue(ctx, in)
	var ise *types.InternalServiceError
	if !errors.As(err, &ise) {
		t.Errorf("err = %v, want *types.InternalServiceError", err)
	}
	if _, status := errorCode(t, err); status != 500 || s.TotalCalls() != 3 {
		t.Errorf("status %d calls %d, want 500 and 3", status, s.TotalCalls())
	}

	// The same code with status 400 is not retried: the SDK retries on the
	// HTTP status (500/502/503/504) and on throttling codes, not on the code.
	s.Reset()
	s.InjectError(1, 400, awsfake.CodeInternalServiceError, "An error occurred on the server side.")
	_, err = c.GetSecretValue(ctx, in)
	if !errors.As(err, &ise) || s.TotalCalls() != 1 {
		t.Errorf("400 InternalServiceError: err %v calls %d, want typed error and 1 call", err, s.TotalCalls())
	}

	// Not found and decryption failures are not retried either.
	s.Reset()
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || s.TotalCalls() != 1 {
		t.Errorf("not found: err %v calls %d", err, s.TotalCalls())
	}
}

func TestDefaultRetryerBacksOffOnThrottling(t *testing.T) {
	s := awsfake.New(t)
	s.AddSecret(usEast, "a", "1")
	s.ThrottleNext(1)
	start := time.Now()
	get(t, s.Client(usEast), &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")})
	// The default backoff is random in [0, 1s) for the first retry after a
	// throttling error; only its upper bound can be asserted.
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	if s.TotalCalls() != 2 {
		t.Errorf("calls = %d, want 2", s.TotalCalls())
	}
}

func TestDelay(t *testing.T) {
	s := awsfake.New(t)
	s.AddSecret(usEast, "a", "1")
	s.SetDelay(300 * time.Millisecond)
	c := s.Client(usEast)

	start := time.Now()
	get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")})
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("call took %v, want >= 300ms", d)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := c.GetSecretValue(short, &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestLoadDefaultConfigWithEndpointFromEnvironment(t *testing.T) {
	s := awsfake.New(t)
	s.AddSecret(euWest, "from-env", "ok")
	s.Setenv(t, euWest)

	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := secretsmanager.NewFromConfig(cfg) // no BaseEndpoint: AWS_ENDPOINT_URL_SECRETS_MANAGER
	out := get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("from-env")})
	if aws.ToString(out.SecretString) != "ok" {
		t.Errorf("value %q", aws.ToString(out.SecretString))
	}
	log := s.Log()
	if len(log) != 1 || log[0].Region != euWest || log[0].AccessKeyID != awsfake.DefaultAccessKeyID || log[0].Status != 200 {
		t.Errorf("log = %+v", log)
	}
}

// The default retryer draws retries from a token bucket per client (500
// tokens, 14 per retry after a 5xx, 5 after throttling, refunded on
// success). A client that keeps meeting 500s stops retrying: 17 operations
// use 34 retries, the 18th gets one more, later ones get none.
func TestRetryQuotaIsPerClientAndRunsOut(t *testing.T) {
	s := awsfake.New(t)
	s.AddSecret(usEast, "a", "1")
	c := s.Client(usEast, awsfake.FastRetries)
	s.FailNext(1000)
	var attempts []int
	for range 20 {
		s.Reset()
		_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")})
		var ise *types.InternalServiceError
		if !errors.As(err, &ise) {
			t.Fatalf("err = %v, want InternalServiceError", err)
		}
		attempts = append(attempts, s.TotalCalls())
	}
	want := slices.Concat(slices.Repeat([]int{3}, 17), []int{2, 1, 1})
	if !slices.Equal(attempts, want) {
		t.Errorf("attempts per operation = %v, want %v", attempts, want)
	}
	// A fresh client has a fresh bucket.
	s.Reset()
	s.ClearFaults()
	s.FailNext(2)
	get(t, s.Client(usEast, awsfake.FastRetries), &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")})
	if s.TotalCalls() != 3 {
		t.Errorf("fresh client: calls = %d, want 3", s.TotalCalls())
	}
}

func TestConcurrentUse(t *testing.T) {
	s := awsfake.New(t)
	ref := s.AddSecret(usEast, "shared", "v0")
	c := s.Client(usEast)
	done := make(chan error)
	for g := range 8 {
		go func() {
			for range 10 {
				out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref.ARN)})
				if err == nil && !strings.HasPrefix(aws.ToString(out.SecretString), "v") {
					err = fmt.Errorf("goroutine %d: value %q", g, aws.ToString(out.SecretString))
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for i := range 5 {
		s.PutVersion(usEast, "shared", awsfake.StringValue(fmt.Sprintf("v%d", i+1)))
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if s.Calls(awsfake.OpGetSecretValue) != 80 {
		t.Errorf("calls = %d, want 80", s.Calls(awsfake.OpGetSecretValue))
	}
}

func TestWithAccountID(t *testing.T) {
	s := awsfake.New(t, awsfake.WithAccountID("999988887777"))
	ref := s.AddSecret(usEast, "a", "1")
	if !strings.HasPrefix(ref.ARN, "arn:aws:secretsmanager:us-east-1:999988887777:secret:a-") {
		t.Errorf("ARN %s", ref.ARN)
	}
	c := s.Client(usEast)
	get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref.ARN)})
	// An ARN of another account does not resolve.
	other := strings.Replace(ref.ARN, "999988887777", "123456789012", 1)
	_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(other)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("other account: %v", err)
	}
	s.DenySecret(usEast, "a")
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("a")})
	if err == nil || !strings.Contains(err.Error(), "User: arn:aws:iam::999988887777:user/awsfake is not authorized") {
		t.Errorf("denied: %v", err)
	}
}

// TestDescribeSecretAndSharedSecrets: DescribeSecret answers with the
// metadata (VersionIdsToStages, DeletedDate for a secret marked for
// deletion), never a value; another account's secret shared by a
// resource policy is read and described by ARN, and never listed.
func TestDescribeSecretAndSharedSecrets(t *testing.T) {
	s := awsfake.New(t)
	own := s.AddSecret(usEast, "n8n/own", "v1")
	shared := s.AddSharedSecret(usEast, "210987654321", "team/db", "s1")
	c := s.Client(usEast)

	out, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(shared.ARN)})
	if err != nil {
		t.Fatalf("DescribeSecret(shared ARN): %v", err)
	}
	if aws.ToString(out.ARN) != shared.ARN || !slices.Equal(out.VersionIdsToStages[shared.VersionID], []string{"AWSCURRENT"}) || out.DeletedDate != nil {
		t.Errorf("describe: ARN %q, versions %v, deleted %v", aws.ToString(out.ARN), out.VersionIdsToStages, out.DeletedDate)
	}
	for _, id := range []string{shared.ARN, shared.PartialARN()} {
		if got := aws.ToString(get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)}).SecretString); got != "s1" {
			t.Errorf("%s: %q", id, got)
		}
	}
	// By name it is not found: that name in the caller's account is not it.
	if _, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("team/db")}); !isCode(err, "ResourceNotFoundException") {
		t.Errorf("describe by name: %v, want ResourceNotFoundException", err)
	}
	list, err := c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
	if err != nil || len(list.SecretList) != 1 || aws.ToString(list.SecretList[0].Name) != "n8n/own" {
		t.Errorf("ListSecrets: %v %v, want the own secret only", list, err)
	}

	v2 := s.PutVersion(usEast, shared.ARN, awsfake.StringValue("s2"))
	out, _ = c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(shared.ARN)})
	if !slices.Equal(out.VersionIdsToStages[v2], []string{"AWSCURRENT"}) || !slices.Equal(out.VersionIdsToStages[shared.VersionID], []string{"AWSPREVIOUS"}) {
		t.Errorf("after a new version: %v", out.VersionIdsToStages)
	}

	s.DeleteSecret(usEast, own.Name)
	out, err = c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(own.Name)})
	if err != nil || out.DeletedDate == nil {
		t.Errorf("describe a secret marked for deletion: %v, DeletedDate %v", err, out)
	}
	if _, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(own.Name)}); !isCode(err, "InvalidRequestException") {
		t.Errorf("reading a secret marked for deletion: %v", err)
	}
	s.DenyOperation(awsfake.OpDescribeSecret)
	if _, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(shared.ARN)}); !isCode(err, "AccessDeniedException") {
		t.Errorf("denied: %v", err)
	}
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}
