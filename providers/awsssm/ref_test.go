package awsssm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/providers/awsssm"
)

const arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/n8n/prod/db"

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		path string
		opts map[string]string
		want awsssm.Ref
	}{
		{"/n8n/prod/db", nil, awsssm.Ref{Name: "/n8n/prod/db"}},
		{"n8n/prod/db", nil, awsssm.Ref{Name: "/n8n/prod/db"}}, // a hierarchy is fully qualified
		{"n8n-key", nil, awsssm.Ref{Name: "n8n-key"}},
		{"/n8n/key", map[string]string{"version": "3"}, awsssm.Ref{Name: "/n8n/key", VersionID: "3"}},
		{"/n8n/key", map[string]string{"label": "prod.v2_x-y"}, awsssm.Ref{Name: "/n8n/key", Label: "prod.v2_x-y"}},
		{"/n8n/key", map[string]string{"region": "eu-west-1"}, awsssm.Ref{Name: "/n8n/key", Region: "eu-west-1"}},
		{arn, nil, awsssm.Ref{Name: arn, Region: "eu-west-1"}},
		{arn, map[string]string{"region": "eu-west-1", "version": "7"}, awsssm.Ref{Name: arn, Region: "eu-west-1", VersionID: "7"}},
		{"arn:aws-cn:ssm:cn-north-1:123456789012:parameter/plain", nil, awsssm.Ref{Name: "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/plain", Region: "cn-north-1"}},
		{"/aws/reference/secretsmanager/prod/n8n", nil, awsssm.Ref{Name: "/aws/reference/secretsmanager/prod/n8n"}},
		{"aws/reference/secretsmanager/prod/n8n+x=y@z.w", map[string]string{"label": "AWSPREVIOUS"},
			awsssm.Ref{Name: "/aws/reference/secretsmanager/prod/n8n+x=y@z.w", Label: "AWSPREVIOUS"}},
		{"/aws/reference/secretsmanager/db", map[string]string{"version": "a1b2c3d4-1111-2222-3333-444455556666"},
			awsssm.Ref{Name: "/aws/reference/secretsmanager/db", VersionID: "a1b2c3d4-1111-2222-3333-444455556666"}},
		{"/aws/reference/secretsmanager/rds!db-0123abcd-4567-89ef-0123-456789abcdef", nil,
			awsssm.Ref{Name: "/aws/reference/secretsmanager/rds!db-0123abcd-4567-89ef-0123-456789abcdef"}}, // an RDS-managed secret
		{"/aws/service/global-infrastructure/version", nil, awsssm.Ref{Name: "/aws/service/global-infrastructure/version"}}, // public parameters
	} {
		got, err := awsssm.ParseRef(tc.path, tc.opts)
		if err != nil || got != tc.want {
			t.Errorf("ParseRef(%q, %v) = %+v, %v; want %+v", tc.path, tc.opts, got, err, tc.want)
		}
	}
}

func TestParseRefErrors(t *testing.T) {
	for _, tc := range []struct {
		path string
		opts map[string]string
		want string
	}{
		{"", nil, "empty path"},
		{"/", nil, "must not be '/'"},
		{"/n8n/", nil, "end with '/'"},
		{"/n8n//db", nil, "'//'"},
		{"/n8n/db:3", nil, "a version goes in ?version="},
		{"/n8n/d b", nil, "letters, digits and ._-"},
		{"/" + strings.Repeat("a/", 16) + "x", nil, "more than 15 levels"},
		{"/" + strings.Repeat("x", 1011), nil, "longer than 1011"},
		{"/n8n/db", map[string]string{"version-stage": "AWSCURRENT"}, "unknown option (awsssm takes: version, label, region)"},
		{"/n8n/db", map[string]string{"version": "0"}, "positive integer"},
		{"/n8n/db", map[string]string{"version": "03"}, "positive integer"},
		{"/n8n/db", map[string]string{"version": "99999999999999999999"}, "positive integer"},
		{"/n8n/db", map[string]string{"version": "1", "label": "x"}, "exclude each other"},
		{"/n8n/db", map[string]string{"label": "1st"}, "label rules"},
		{"/n8n/db", map[string]string{"label": "AwsLabel"}, "label rules"},
		{"/n8n/db", map[string]string{"label": "ssm"}, "label rules"},
		{"/n8n/db", map[string]string{"label": "a/b"}, "label rules"},
		{"/n8n/db", map[string]string{"region": "EU-WEST-1"}, "region name"},
		{"arn:aws:ssm:eu-west-1:123456789012:parameter/n8n/db", map[string]string{"region": "us-east-1"}, "differs from the ARN's region"},
		{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:x", nil, "arn:<partition>:ssm:"},
		{"arn:aws:ssm:eu-west-1:1234:parameter/x", nil, "arn:<partition>:ssm:"},
		{"arn:aws:ssm:eu-west-1:123456789012:document/x", nil, "arn:<partition>:ssm:"},
		{"arn:aws:ssm:eu-west-1:123456789012:parameter/aws/reference/secretsmanager/x", nil, "not by ARN"},
		{"/aws/reference/secretsmanager/", nil, "Secrets Manager secret name"},
		{"/aws/reference/secretsmanager/arn:aws:secretsmanager:us-east-1:123456789012:secret:x", nil, "no ARN"},
		{"/aws/reference/secretsmanager/x", map[string]string{"version": "3"}, "VersionId"},
		{"/aws/reference/secretsmanager/x", map[string]string{"label": "AWS CURRENT"}, "staging label"},
	} {
		_, err := awsssm.ParseRef(tc.path, tc.opts)
		if !errors.Is(err, inject.ErrBadReference) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRef(%q, %v): %v, want an error saying %q", tc.path, tc.opts, err, tc.want)
		}
	}
}

// TestRefString: String writes back what ParseRef reads, and the
// accessors say what logs show.
func TestRefString(t *testing.T) {
	for _, tc := range []struct {
		ref            awsssm.Ref
		str, path, ver string
	}{
		{awsssm.Ref{Name: "/n8n/db"}, "/n8n/db", "/n8n/db", ""},
		{awsssm.Ref{Name: "/n8n/db", VersionID: "3", Region: "eu-west-1"}, "/n8n/db?version=3&region=eu-west-1", "/n8n/db", "3"},
		{awsssm.Ref{Name: "/n8n/db", Label: "prod"}, "/n8n/db?label=prod", "/n8n/db", "prod"},
		{awsssm.Ref{Name: arn, Region: "eu-west-1", Label: "prod"}, arn + "?label=prod", arn, "prod"},
	} {
		if s := tc.ref.String(); s != tc.str {
			t.Errorf("String() = %q, want %q", s, tc.str)
		}
		if tc.ref.Path() != tc.path || tc.ref.Version() != tc.ver {
			t.Errorf("%+v: Path %q Version %q", tc.ref, tc.ref.Path(), tc.ref.Version())
		}
		if back := roundTrip(t, tc.ref); back != tc.ref {
			t.Errorf("%q parses back as %+v, want %+v", tc.str, back, tc.ref)
		}
	}
}

func roundTrip(t testing.TB, r awsssm.Ref) awsssm.Ref {
	t.Helper()
	path, query, _ := strings.Cut(r.String(), "?")
	opts := map[string]string{}
	for kv := range strings.SplitSeq(query, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			opts[k] = v
		}
	}
	back, err := awsssm.ParseRef(path, opts)
	if err != nil {
		t.Fatalf("%q does not parse back: %v", r.String(), err)
	}
	return back
}

// FuzzParseRef: no input makes ParseRef panic or repeat itself in an
// error, and whatever it accepts writes back to an equal Ref.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"/n8n/db", "n8n/db", arn, "/aws/reference/secretsmanager/x", "/a:b", "arn:aws:ssm:x:1:parameter/"} {
		f.Add(s, "3", "prod", "eu-west-1")
	}
	f.Fuzz(func(t *testing.T, path, version, label, region string) {
		const mark = "CANARYzq"
		for _, opts := range []map[string]string{
			{}, {"version": version}, {"label": label}, {"region": region}, {"version": version, "region": region},
		} {
			r, err := awsssm.ParseRef(path+mark, opts)
			if err != nil {
				if strings.Contains(err.Error(), mark) {
					t.Fatalf("the error repeats the input: %v", err)
				}
				if !errors.Is(err, inject.ErrBadReference) {
					t.Fatalf("error without ErrBadReference: %v", err)
				}
				continue
			}
			if back := roundTrip(t, r); back != r {
				t.Fatalf("%+v writes back as %q, which parses as %+v", r, r.String(), back)
			}
		}
	})
}
