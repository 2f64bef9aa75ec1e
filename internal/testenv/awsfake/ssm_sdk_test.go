package awsfake_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
)

// The Parameter Store side of the fake, exercised by the official SDK.

func getParams(t *testing.T, c *ssm.Client, decrypt bool, names ...string) *ssm.GetParametersOutput {
	t.Helper()
	out, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: names, WithDecryption: aws.Bool(decrypt)})
	if err != nil {
		t.Fatalf("GetParameters(%v): %v", names, err)
	}
	return out
}

func byName(ps []types.Parameter) map[string]types.Parameter {
	m := map[string]types.Parameter{}
	for _, p := range ps {
		m[aws.ToString(p.Name)+aws.ToString(p.Selector)] = p
	}
	return m
}

func TestSSMTypesAndDecryption(t *testing.T) {
	s := awsfake.New(t)
	ps := s.ParameterStore()
	modified := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	str := ps.Put(usEast, "/n8n/host", awsfake.String, "n8n.example.com", awsfake.WithModified(modified))
	ps.Put(usEast, "/n8n/hosts", awsfake.StringList, "a.example.com,b.example.com")
	sec := ps.Put(usEast, "/n8n/db/password", awsfake.SecureString, "hunter2")
	ps.Put(usEast, "plain", awsfake.String, "no hierarchy")
	c := s.SSMClient(usEast)

	out := getParams(t, c, true, "/n8n/hosts", "/n8n/host", "/n8n/db/password", "plain", "/n8n/missing")
	var names []string
	for _, p := range out.Parameters {
		names = append(names, aws.ToString(p.Name))
	}
	if want := []string{"/n8n/db/password", "/n8n/host", "/n8n/hosts", "plain"}; !slices.Equal(names, want) {
		t.Errorf("Parameters = %v, want %v (alphabetical, as AWS documents)", names, want)
	}
	if !slices.Equal(out.InvalidParameters, []string{"/n8n/missing"}) {
		t.Errorf("InvalidParameters = %v", out.InvalidParameters)
	}
	got := byName(out.Parameters)
	if p := got["/n8n/host"]; aws.ToString(p.Value) != "n8n.example.com" || p.Type != types.ParameterTypeString || p.Version != 1 ||
		aws.ToString(p.ARN) != "arn:aws:ssm:us-east-1:123456789012:parameter/n8n/host" || aws.ToString(p.DataType) != "text" ||
		!p.LastModifiedDate.Equal(modified) || str.ARN != aws.ToString(p.ARN) {
		t.Errorf("String parameter: %+v", p)
	}
	if p := got["/n8n/hosts"]; aws.ToString(p.Value) != "a.example.com,b.example.com" || p.Type != types.ParameterTypeStringList {
		t.Errorf("StringList parameter: %+v", p)
	}
	if p := got["/n8n/db/password"]; aws.ToString(p.Value) != "hunter2" || p.Type != types.ParameterTypeSecureString || sec.Version != 1 {
		t.Errorf("SecureString decrypted: type %s, %d bytes", p.Type, len(aws.ToString(p.Value)))
	}
	if p := got["plain"]; aws.ToString(p.ARN) != "arn:aws:ssm:us-east-1:123456789012:parameter/plain" {
		t.Errorf("ARN of a name without hierarchy: %s", aws.ToString(p.ARN))
	}
	if ps.Decryptions() != 1 {
		t.Errorf("%d decryptions, want 1 (the SecureString only)", ps.Decryptions())
	}

	// Without decryption: the ciphertext, which tells nothing of the
	// value, and no KMS call; String values are returned as they are.
	out = getParams(t, c, false, "/n8n/db/password", "/n8n/host")
	got = byName(out.Parameters)
	cipher := aws.ToString(got["/n8n/db/password"].Value)
	if cipher == "" || strings.Contains(cipher, "hunter2") || !strings.HasPrefix(cipher, "AQICAH") {
		t.Errorf("SecureString without decryption: %d bytes, want a ciphertext", len(cipher))
	}
	if aws.ToString(got["/n8n/host"].Value) != "n8n.example.com" {
		t.Error("String without decryption must be the value")
	}
	again := aws.ToString(byName(getParams(t, c, false, "/n8n/db/password").Parameters)["/n8n/db/password"].Value)
	if again != cipher {
		t.Error("the ciphertext of a version must not change between reads")
	}
	if ps.Decryptions() != 1 {
		t.Errorf("reads without decryption decrypted: %d", ps.Decryptions())
	}

	// Names asked twice are answered once; spaces around a name are dropped.
	out = getParams(t, c, true, "/n8n/host", "/n8n/host", " /n8n/hosts ")
	if len(out.Parameters) != 2 || len(out.InvalidParameters) != 0 {
		t.Errorf("duplicates/spaces: %d parameters, invalid %v", len(out.Parameters), out.InvalidParameters)
	}
}

func TestSSMVersionsAndLabels(t *testing.T) {
	s := awsfake.New(t)
	ps := s.ParameterStore()
	ps.Put(usEast, "/app/key", awsfake.SecureString, "v1")
	ps.Put(usEast, "/app/key", awsfake.SecureString, "v2")
	v3 := ps.Put(usEast, "/app/key", awsfake.SecureString, "v3")
	if v3.Version != 3 {
		t.Fatalf("third Put is version %d", v3.Version)
	}
	ps.Label(usEast, "/app/key", 2, "prod", "blue")
	c := s.SSMClient(usEast)

	out := getParams(t, c, true, "/app/key", "/app/key:1", "/app/key:prod", "/app/key:9", "/app/key:nolabel", "/app/key:1:2", "/app/key:")
	got := byName(out.Parameters)
	for sel, want := range map[string]struct {
		value   string
		version int64
	}{"": {"v3", 3}, ":1": {"v1", 1}, ":prod": {"v2", 2}} {
		p, ok := got["/app/key"+sel]
		if !ok || aws.ToString(p.Value) != want.value || p.Version != want.version || aws.ToString(p.Selector) != sel {
			t.Errorf("/app/key%s: version %d, selector %q, found %v", sel, p.Version, aws.ToString(p.Selector), ok)
		}
	}
	if want := []string{"/app/key:9", "/app/key:nolabel", "/app/key:1:2", "/app/key:"}; !slices.Equal(out.InvalidParameters, want) {
		t.Errorf("InvalidParameters = %v, want %v", out.InvalidParameters, want)
	}

	// Moving a label.
	ps.Label(usEast, "/app/key", 3, "prod")
	if p := byName(getParams(t, c, true, "/app/key:prod").Parameters)["/app/key:prod"]; p.Version != 3 {
		t.Errorf("moved label reads version %d", p.Version)
	}

	// GetParameter's errors.
	_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/key:9")})
	var vnf *types.ParameterVersionNotFound
	if !errors.As(err, &vnf) || vnf.ErrorMessage() != "Systems Manager could not find version 9 of /app/key. Verify the version and try again." {
		t.Errorf("missing version: %v", err)
	}
	for _, name := range []string{"/app/nope", "/app/key:nolabel", "/app/key:1:2"} {
		_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
		var nf *types.ParameterNotFound
		if !errors.As(err, &nf) || nf.ErrorMessage() != "Parameter "+name+" not found." {
			t.Errorf("%s: %v, want ParameterNotFound", name, err)
		}
	}
	p, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/key:blue"), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(p.Parameter.Value) != "v2" || aws.ToString(p.Parameter.Selector) != ":blue" {
		t.Errorf("GetParameter by label: %v", err)
	}
}

func TestSSMGetParametersLimits(t *testing.T) {
	s := awsfake.New(t)
	c := s.SSMClient(usEast)
	var eleven []string
	for i := range 11 {
		eleven = append(eleven, fmt.Sprint("/p", i))
	}
	for _, tc := range []struct {
		names []string
		code  string
		msg   string
	}{
		{eleven, "ValidationException", "1 validation error detected: Value '[" + strings.Join(eleven, ", ") + "]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10"},
		{[]string{}, "ValidationException", "Member must have length greater than or equal to 1"},
		{[]string{"n8n/db"}, "ValidationException", "Parameter name must be a fully qualified name."},
		{[]string{"/a b"}, "ValidationException", "can't contain spaces"},
		{[]string{strings.Repeat("x", 2049)}, "ValidationException", "Member must have length less than or equal to 2048"},
	} {
		_, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: tc.names})
		if code, status := errorCode(t, err); code != tc.code || status != 400 || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%d names: %v (status %d), want %s %q", len(tc.names), err, status, tc.code, tc.msg)
		}
	}
}

func TestSSMDenied(t *testing.T) {
	s := awsfake.New(t)
	ps := s.ParameterStore()
	ps.Put(usEast, "/ok", awsfake.String, "x")
	ps.Put(usEast, "/secret", awsfake.SecureString, "y")
	ps.Put(usEast, "/cmk", awsfake.SecureString, "z", awsfake.WithKeyID("alias/n8n"))
	ps.Deny(usEast, "/secret")
	ps.Deny(usEast, "/never-created")
	ps.DenyKMS(usEast, "/cmk")
	c := s.SSMClient(usEast)

	// One refused name fails the call, whether or not it exists.
	for _, names := range [][]string{{"/ok", "/secret"}, {"/never-created"}} {
		_, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: names, WithDecryption: aws.Bool(true)})
		var ad smithy.APIError
		if !errors.As(err, &ad) || ad.ErrorCode() != "AccessDeniedException" || !strings.Contains(ad.ErrorMessage(), "is not authorized to perform: ssm:GetParameters on resource: arn:aws:ssm:us-east-1:123456789012:parameter/") {
			t.Errorf("%v: %v, want AccessDeniedException naming the resource", names, err)
		}
	}
	// KMS refusing the key: only with decryption.
	_, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/ok", "/cmk"}, WithDecryption: aws.Bool(true)})
	var ad smithy.APIError
	if !errors.As(err, &ad) || ad.ErrorCode() != "AccessDeniedException" || !strings.Contains(ad.ErrorMessage(), "The ciphertext refers to a customer master key") {
		t.Errorf("KMS refused: %v", err)
	}
	if out := getParams(t, c, false, "/ok", "/cmk"); len(out.Parameters) != 2 {
		t.Errorf("without decryption: %d parameters", len(out.Parameters))
	}
	if ps.Decryptions() != 0 {
		t.Errorf("%d decryptions", ps.Decryptions())
	}
	// An operation the policy lacks.
	ps.DenyOperation(awsfake.OpDescribeParameters)
	_, err = c.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	if !errors.As(err, &ad) || ad.ErrorCode() != "AccessDeniedException" || !strings.Contains(ad.ErrorMessage(), "ssm:DescribeParameters") {
		t.Errorf("DescribeParameters denied: %v", err)
	}
	ps.ClearFaults()
	if out := getParams(t, c, true, "/ok", "/secret", "/cmk", "/never-created"); len(out.Parameters) != 3 || len(out.InvalidParameters) != 1 {
		t.Errorf("after ClearFaults: %d parameters, invalid %v", len(out.Parameters), out.InvalidParameters)
	}
}

func TestSSMSecretsManagerReferences(t *testing.T) {
	s := awsfake.New(t)
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	sr := s.AddSecret(usEast, "prod/n8n", `{"key":"one"}`, awsfake.WithCreatedDate(created))
	v2 := s.PutVersion(usEast, "prod/n8n", awsfake.StringValue(`{"key":"two"}`))
	s.AddBinarySecret(usEast, "blob", []byte{1, 2, 3})
	s.AddSecret(usEast, "denied", "d")
	s.DenySecret(usEast, "denied")
	s.AddSecret(usEast, "gone", "g")
	s.DeleteSecret(usEast, "gone")
	ps := s.ParameterStore()
	ps.Put(usEast, "/plain", awsfake.String, "p")
	c := s.SSMClient(usEast)
	ref := func(id string) string { return awsfake.SecretsManagerReferencePrefix + id }

	out := getParams(t, c, true, ref("prod/n8n"), ref("prod/n8n:AWSPREVIOUS"), ref("prod/n8n:"+sr.VersionID), ref("missing"),
		ref("prod/n8n:NOSUCH"), ref("prod/n8n:a:b"), ref("prod/n8n:bad/stage"), "/plain")
	got := byName(out.Parameters)
	cur := got[ref("prod/n8n")]
	if aws.ToString(cur.Value) != `{"key":"two"}` || cur.Type != types.ParameterTypeSecureString || cur.Version != 0 ||
		aws.ToString(cur.ARN) != sr.ARN || cur.DataType != nil {
		t.Errorf("current: %+v", cur)
	}
	var src struct {
		VersionID     string   `json:"VersionId"`
		VersionStages []string `json:"VersionStages"`
		Name          string   `json:"Name"`
		ARN           string   `json:"ARN"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(cur.SourceResult)), &src); err != nil || src.VersionID != v2 ||
		!slices.Equal(src.VersionStages, []string{"AWSCURRENT"}) || src.Name != "prod/n8n" || src.ARN != sr.ARN {
		t.Errorf("SourceResult: %+v, %v", src, err)
	}
	if p := got[ref("prod/n8n")+":AWSPREVIOUS"]; aws.ToString(p.Value) != `{"key":"one"}` || !p.LastModifiedDate.Equal(created) {
		t.Errorf("AWSPREVIOUS: %+v", p)
	}
	if p := got[ref("prod/n8n")+":"+sr.VersionID]; aws.ToString(p.Value) != `{"key":"one"}` {
		t.Errorf("by version id: %+v", p)
	}
	if want := []string{ref("missing"), ref("prod/n8n:NOSUCH"), ref("prod/n8n:a:b"), ref("prod/n8n:bad/stage")}; !slices.Equal(out.InvalidParameters, want) {
		t.Errorf("InvalidParameters = %v, want %v", out.InvalidParameters, want)
	}
	// A binary secret has no Value.
	if p := byName(getParams(t, c, true, ref("blob")).Parameters)[ref("blob")]; p.Value != nil || p.SourceResult == nil {
		t.Errorf("binary: %+v", p)
	}

	// Without decryption: not answered.
	out = getParams(t, c, false, ref("prod/n8n"), "/plain")
	if len(out.Parameters) != 1 || !slices.Equal(out.InvalidParameters, []string{ref("prod/n8n")}) {
		t.Errorf("without decryption: %d parameters, invalid %v", len(out.Parameters), out.InvalidParameters)
	}
	for _, tc := range []struct {
		name    string
		decrypt bool
		code    string
		msg     string
	}{
		{ref("prod/n8n"), false, "ValidationException", awsfake.MsgNeedsDecryption},
		{ref("missing"), false, "ValidationException", awsfake.MsgNeedsDecryption},
		{ref("prod/n8n:a:b"), false, "ValidationException", awsfake.MsgBadSelector},
		{ref("missing"), true, "ParameterNotFound", "An error occurred (ParameterNotFound) when referencing Secrets Manager: Secret aws/reference/secretsmanager/missingnull not found."},
		{ref("prod/n8n:NOSUCH"), true, "ParameterNotFound", "Secret aws/reference/secretsmanager/prod/n8n:NOSUCH not found."},
		{ref("denied"), true, "ValidationException", awsfake.MsgDependencyFailed},
		{ref("gone"), true, "ValidationException", awsfake.MsgSecretInvalidRequest},
	} {
		_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(tc.name), WithDecryption: aws.Bool(tc.decrypt)})
		if code, _ := errorCode(t, err); code != tc.code || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("GetParameter %s (decrypt %v): %v, want %s %q", tc.name, tc.decrypt, err, tc.code, tc.msg)
		}
	}
	// A refused secret fails a GetParameters call as a whole.
	_, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{ref("prod/n8n"), ref("denied")}, WithDecryption: aws.Bool(true)})
	if code, _ := errorCode(t, err); code != "ValidationException" || !strings.Contains(err.Error(), awsfake.MsgDependencyFailed) {
		t.Errorf("GetParameters with a refused secret: %v", err)
	}
}

func TestSSMDescribeParameters(t *testing.T) {
	s := awsfake.New(t)
	ps := s.ParameterStore()
	var names []string
	for i := range 25 {
		n := fmt.Sprintf("/n8n/p%02d", i)
		names = append(names, n)
		ps.Put(usEast, n, awsfake.SecureString, fmt.Sprint("value-", i))
	}
	ps.Put(usEast, "/n8n/p00", awsfake.SecureString, "second")
	ps.Put(usEast, "/other/x", awsfake.String, "x")
	ps.Put(usEast, "/other/x/y", awsfake.String, "y")
	ps.Put(usEast, "top", awsfake.String, "t")
	ps.Put(euWest, "/n8n/elsewhere", awsfake.String, "e")
	c := s.SSMClient(usEast)

	// Default page: 10; paging with MaxResults up to 50.
	out, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	if err != nil || len(out.Parameters) != 10 || out.NextToken == nil {
		t.Fatalf("default page: %d entries, token %v, %v", len(out.Parameters), out.NextToken, err)
	}
	var listed []string
	pages := 0
	pg := ssm.NewDescribeParametersPaginator(c, &ssm.DescribeParametersInput{MaxResults: aws.Int32(12),
		ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Path"), Option: aws.String("Recursive"), Values: []string{"/n8n"}}}})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, m := range page.Parameters {
			listed = append(listed, aws.ToString(m.Name))
			if aws.ToString(m.Name) == "/n8n/p00" && (m.Version != 2 || aws.ToString(m.KeyId) != awsfake.DefaultSSMKeyID || m.Type != types.ParameterTypeSecureString) {
				t.Errorf("metadata: %+v", m)
			}
		}
	}
	if pages != 3 || !slices.Equal(listed, names) {
		t.Errorf("%d pages, listed %v", pages, listed)
	}

	// The Name filter with many names, Equals, leading '/' or not.
	out, err = c.DescribeParameters(ctx, &ssm.DescribeParametersInput{MaxResults: aws.Int32(50),
		ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("Equals"), Values: append(slices.Clone(names), "n8n/p03", "/nope")}}})
	if err != nil || len(out.Parameters) != 25 || out.NextToken != nil {
		t.Errorf("Name Equals: %d entries, %v", len(out.Parameters), err)
	}
	for _, tc := range []struct {
		f    types.ParameterStringFilter
		want []string
	}{
		{types.ParameterStringFilter{Key: aws.String("Path"), Values: []string{"/other"}}, []string{"/other/x"}},
		{types.ParameterStringFilter{Key: aws.String("Path"), Values: []string{"/"}}, []string{"top"}},
		{types.ParameterStringFilter{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{"/other"}}, []string{"/other/x", "/other/x/y"}},
		{types.ParameterStringFilter{Key: aws.String("Name"), Option: aws.String("Contains"), Values: []string{"x/y"}}, []string{"/other/x/y"}},
		{types.ParameterStringFilter{Key: aws.String("Type"), Values: []string{"String"}}, []string{"/other/x", "/other/x/y", "top"}},
	} {
		out, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{tc.f}})
		var got []string
		if err == nil {
			for _, m := range out.Parameters {
				got = append(got, aws.ToString(m.Name))
			}
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s %s %v: %v, %v; want %v", aws.ToString(tc.f.Key), aws.ToString(tc.f.Option), tc.f.Values, got, err, tc.want)
		}
	}

	// Limits and bad filters.
	fifty1 := make([]string, 51)
	for i := range fifty1 {
		fifty1[i] = fmt.Sprint("/x", i)
	}
	for _, tc := range []struct {
		in   *ssm.DescribeParametersInput
		code string
		msg  string
	}{
		{&ssm.DescribeParametersInput{MaxResults: aws.Int32(51)}, "ValidationException", "Member must have value less than or equal to 50"},
		{&ssm.DescribeParametersInput{NextToken: aws.String("garbage")}, "InvalidNextToken", "The specified token isn't valid."},
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: fifty1}}}, "ValidationException", "Member must have length less than or equal to 50"},
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Label"), Values: []string{"x"}}}}, "InvalidFilterKey", ""}, // the model gives it no message member
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("Recursive"), Values: []string{"x"}}}}, "InvalidFilterOption", "Valid options include: [BeginsWith, Equals, Contains]."},
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"Binary"}}}}, "InvalidFilterValue", "The following filter value is not valid: Binary."},
		{&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"a"}}, {Key: aws.String("Name"), Values: []string{"b"}}}}, "InvalidFilterKey", ""},
		{&ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"a"}}},
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"b"}}}}, "ValidationException", "You can use either Filters or ParameterFilters in a single request."},
	} {
		_, err := c.DescribeParameters(ctx, tc.in)
		if code, status := errorCode(t, err); code != tc.code || status != 400 || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v (status %d), want %s %q", err, status, tc.code, tc.msg)
		}
	}
	// Values of the type it lists are never in the answer.
	raw := rawSSM(t, s, s.Credential().AWS(), usEast, "ssm", "DescribeParameters", `{"MaxResults":50}`, time.Now())
	if raw.Status != 200 || strings.Contains(string(raw.Body), "value-") || strings.Contains(string(raw.Body), "second") {
		t.Errorf("DescribeParameters answer (status %d) holds a value", raw.Status)
	}
}

func TestSSMPutAndLabelThroughTheSDK(t *testing.T) {
	s := awsfake.New(t)
	c := s.SSMClient(euWest)
	put, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/n8n/key"), Value: aws.String("k1"), Type: types.ParameterTypeSecureString})
	if err != nil || put.Version != 1 || put.Tier != types.ParameterTierStandard {
		t.Fatalf("PutParameter: %+v, %v", put, err)
	}
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/n8n/key"), Value: aws.String("k2")})
	var exists *types.ParameterAlreadyExists
	if !errors.As(err, &exists) {
		t.Errorf("without Overwrite: %v", err)
	}
	put, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/n8n/key"), Value: aws.String("k2"), Overwrite: aws.Bool(true)})
	if err != nil || put.Version != 2 {
		t.Fatalf("overwrite: %+v, %v", put, err)
	}
	for _, name := range []string{"/aws/x", "ssm-thing", "/a/b c", "n8n/key"} {
		if _, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("v"), Type: types.ParameterTypeString}); err == nil {
			t.Errorf("PutParameter %q accepted", name)
		}
	}
	if _, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/big"), Value: aws.String(strings.Repeat("x", 4097)), Type: types.ParameterTypeString}); err == nil {
		t.Error("a 4097-byte Standard value was accepted")
	}
	lab, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/n8n/key"), ParameterVersion: aws.Int64(1),
		Labels: []string{"prod", "1bad", "awsx", "ok.label"}})
	if err != nil || lab.ParameterVersion != 1 || !slices.Equal(lab.InvalidLabels, []string{"1bad", "awsx"}) {
		t.Fatalf("LabelParameterVersion: %+v, %v", lab, err)
	}
	if v := s.ParameterStore().Versions(euWest, "/n8n/key"); len(v) != 2 || !slices.Equal(v[0].Labels, []string{"prod", "ok.label"}) || v[1].Value != "k2" {
		t.Errorf("versions: %+v", v)
	}
	_, err = c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/n8n/key"), ParameterVersion: aws.Int64(7), Labels: []string{"x"}})
	var vnf *types.ParameterVersionNotFound
	if !errors.As(err, &vnf) {
		t.Errorf("label on a missing version: %v", err)
	}
	p, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/n8n/key:prod"), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(p.Parameter.Value) != "k1" {
		t.Errorf("read by the new label: %v", err)
	}
}

func TestSSMSharedParameters(t *testing.T) {
	s := awsfake.New(t)
	ps := s.ParameterStore()
	other := ps.Put(usEast, "/shared/key", awsfake.SecureString, "theirs", awsfake.WithOwner("210987654321"), awsfake.WithTier("Advanced"))
	ps.Put(usEast, "/shared/key", awsfake.SecureString, "ours")
	c := s.SSMClient(usEast)
	if other.ARN != "arn:aws:ssm:us-east-1:210987654321:parameter/shared/key" {
		t.Fatalf("ARN %s", other.ARN)
	}
	out := getParams(t, c, true, other.ARN, other.ARN+":1", "/shared/key")
	got := byName(out.Parameters)
	if aws.ToString(got[other.ARN].Value) != "theirs" || aws.ToString(got[other.ARN+":1"].Value) != "theirs" || aws.ToString(got["/shared/key"].Value) != "ours" {
		t.Errorf("shared by ARN / own by name: %v, invalid %v", len(out.Parameters), out.InvalidParameters)
	}
	// An ARN of another region does not resolve in this one.
	if out := getParams(t, s.SSMClient(euWest), true, other.ARN); len(out.InvalidParameters) != 1 {
		t.Errorf("ARN read in another region: %v", out.InvalidParameters)
	}
	shared, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{Shared: aws.Bool(true)})
	if err != nil || len(shared.Parameters) != 1 || aws.ToString(shared.Parameters[0].ARN) != other.ARN {
		t.Errorf("DescribeParameters Shared: %+v, %v", shared, err)
	}
}

func TestSSMSignatureAndFaults(t *testing.T) {
	s := awsfake.New(t)
	ps := s.ParameterStore()
	ps.Put(usEast, "/a", awsfake.String, "1")
	creds := s.Credential().AWS()
	now := time.Now()

	// Signed for Secrets Manager, sent to Parameter Store.
	resp := rawSSM(t, s, creds, usEast, "secretsmanager", "GetParameters", `{"Names":["/a"]}`, now)
	if resp.Status != 400 || resp.JSON(t)["__type"] != "InvalidSignatureException" ||
		resp.JSON(t)["message"] != "Credential should be scoped to correct service: 'ssm'. " {
		t.Errorf("wrong service scope: %d %s", resp.Status, resp.Body)
	}
	// A wrong secret key.
	bad := creds
	bad.SecretAccessKey = "wrong"
	if resp := rawSSM(t, s, bad, usEast, "ssm", "GetParameters", `{"Names":["/a"]}`, now); resp.JSON(t)["__type"] != "InvalidSignatureException" {
		t.Errorf("bad signature: %s", resp.Body)
	}
	// Unsigned.
	if resp := rawSSM(t, s, aws.Credentials{}, usEast, "ssm", "GetParameters", `{"Names":["/a"]}`, now); resp.JSON(t)["__type"] != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %s", resp.Body)
	}
	// Unknown operation.
	if resp := rawSSM(t, s, creds, usEast, "ssm", "DeleteParameter", `{"Name":"/a"}`, now); resp.JSON(t)["__type"] != "UnknownOperationException" {
		t.Errorf("unknown operation: %s", resp.Body)
	}

	// Faults: throttling and 5xx, with the shapes the SSM model declares;
	// the Server's own faults are Secrets Manager's.
	for _, tc := range []struct {
		fault  func()
		status int
		body   string
	}{
		{func() { ps.ThrottleNext(1) }, 400, `{"__type":"ThrottlingException","message":"Rate exceeded"}`},
		{func() { ps.FailNext(1) }, 500, `{"Message":"Internal Server Error","__type":"InternalServerError"}`},
		{func() { s.ParameterStore().Deny(usEast, "/a") }, 400, ""},
	} {
		tc.fault()
		resp := rawSSM(t, s, creds, usEast, "ssm", "GetParameters", `{"Names":["/a"]}`, now)
		if resp.Status != tc.status || (tc.body != "" && strings.TrimSpace(string(resp.Body)) != tc.body) {
			t.Errorf("status %d body %s, want %d %s", resp.Status, resp.Body, tc.status, tc.body)
		}
		if resp.Header.Get("X-Amzn-Errortype") == "" {
			t.Error("no X-Amzn-ErrorType header")
		}
		ps.ClearFaults()
	}
	s.ThrottleNext(1)
	if resp := rawSSM(t, s, creds, usEast, "ssm", "GetParameters", `{"Names":["/a"]}`, now); resp.Status != 200 {
		t.Errorf("a Secrets Manager fault reached Parameter Store: %d", resp.Status)
	}
	s.ClearFaults()

	// The SDK's standard retryer recovers from throttling.
	ps.ThrottleNext(2)
	s.Reset()
	out, err := s.SSMClient(usEast, func(o *ssm.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}).GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/a"}})
	if err != nil || len(out.Parameters) != 1 || s.Calls(awsfake.OpGetParameters) != 3 {
		t.Errorf("throttled twice then answered: %v after %d calls", err, s.Calls(awsfake.OpGetParameters))
	}
	if log := s.Log(); len(log) != 3 || !slices.Equal(log[2].Names, []string{"/a"}) || log[2].Region != usEast {
		t.Errorf("log: %+v", log)
	}
}
