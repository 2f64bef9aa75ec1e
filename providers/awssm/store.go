package awssm

import (
	"fmt"
	"sort"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Scheme is the scheme of AWS Secrets Manager references.
const Scheme = "awssm"

// Store declares the AWS Secrets Manager store to the core:
// awssm://<secret-id>[?version-stage=S|version-id=ID][&region=R][#selector].
var Store = inject.Store{
	Scheme: Scheme,
	Syntax: "awssm://<secret-id>[?version-stage=S|version-id=ID][&region=R][#selector]",
	Options: []inject.Option{
		{Name: "version-stage", Meaning: "a staging label (AWSCURRENT, AWSPREVIOUS, …); default AWSCURRENT"},
		{Name: "version-id", Meaning: "a version id"},
		{Name: "region", Meaning: "the region (taken from the ARN when the id is one); default AWS_REGION"},
	},
	Parse: func(path string, opts map[string]string) (inject.Locator, error) {
		return ParseRef(path, opts)
	},
	OwnedVars:      inject.Matcher{"AWS_*"},
	CredentialVars: inject.Matcher(CredentialVars),
	Hints: map[inject.Code]string{
		inject.CodeAuthFailed:    "check the AWS SDK's credential chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity (IRSA), container credentials, IMDS",
		inject.CodeNotConfigured: "configure AWS: a region (AWS_REGION or ?region=) and credentials from the SDK's chain",
	},
	New: func(c inject.Config) (inject.Provider, error) {
		return New(Options{Getenv: c.Getenv, AllowHTTP: c.AllowHTTP, Logger: c.Logger})
	},
	Provider: (*Provider)(nil),
	Foreign: []inject.ForeignPrefix{
		{Prefix: "arn:aws:secretsmanager:", Tool: "an AWS Secrets Manager ARN without a scheme", Hint: "to resolve it here, write awssm://arn:aws:secretsmanager:…"},
		{Prefix: "{{resolve:", Tool: "a CloudFormation dynamic reference", Hint: "CloudFormation resolves it only in templates: write awssm://… to resolve it here"},
	},
}

// Ref is an AWS Secrets Manager reference's own part.
type Ref struct {
	ID        string // secret name or full ARN
	VersionID string // version-id
	Stage     string // version-stage
	Region    string // region=, or the ARN's
}

// Path returns the secret id.
func (r Ref) Path() string { return r.ID }

// Version returns the version id pinned, "" when none.
func (r Ref) Version() string { return r.VersionID }

// String writes the id and the options back.
func (r Ref) String() string {
	var opts []string
	if r.VersionID != "" {
		opts = append(opts, "version-id="+r.VersionID)
	}
	if r.Stage != "" {
		opts = append(opts, "version-stage="+r.Stage)
	}
	if r.Region != "" && !strings.HasPrefix(r.ID, "arn:") {
		opts = append(opts, "region="+r.Region)
	}
	if len(opts) == 0 {
		return r.ID
	}
	return r.ID + "?" + strings.Join(opts, "&")
}

// locOf returns ref's own part (the zero Ref for another store's).
func locOf(ref inject.Reference) Ref {
	r, _ := ref.Loc.(Ref)
	return r
}

// ParseRef parses what follows "awssm://": a secret name or ARN, and the
// options version-stage, version-id and region. It does no I/O; errors
// never repeat the input.
func ParseRef(path string, opts map[string]string) (Ref, error) {
	r := Ref{ID: path}
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := opts[k]
		switch k {
		case "version-id":
			if !validToken(v, 64) {
				return r, badRef("option version-id must be 1 to 64 characters of letters, digits and -_")
			}
			r.VersionID = v
		case "version-stage":
			if !validToken(v, 256) {
				return r, badRef("option version-stage must be 1 to 256 characters of letters, digits and -_")
			}
			r.Stage = v
		case "region":
			if !validRegion(v) {
				return r, badRef("option region is not a region name (like eu-west-1)")
			}
			r.Region = v
		default:
			return r, badRef("unknown option %q", k)
		}
	}
	if strings.HasPrefix(path, "arn:") {
		f := strings.SplitN(path, ":", 7)
		if len(f) != 7 || f[1] == "" || f[2] != "secretsmanager" || !validRegion(f[3]) ||
			len(f[4]) != 12 || strings.Trim(f[4], "0123456789") != "" || f[5] != "secret" || !validSecretName(f[6]) {
			return r, badRef("ARN must be arn:<partition>:secretsmanager:<region>:<account>:secret:<name>")
		}
		if r.Region != "" && r.Region != f[3] {
			return r, badRef("option region differs from the ARN's region")
		}
		r.Region = f[3]
		return r, nil
	}
	if !validSecretName(path) {
		return r, badRef("secret id must be a name of 1 to 512 characters of letters, digits and /_+=.@-! or a full ARN")
	}
	return r, nil
}

func badRef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{inject.ErrBadReference}, args...)...)
}

func validToken(v string, max int) bool {
	if len(v) == 0 || len(v) > max {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func validRegion(v string) bool {
	if len(v) < 3 || len(v) > 32 || v[0] == '-' || v[len(v)-1] == '-' {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validSecretName: the characters CreateSecret takes (/_+=.@- besides
// letters and digits), and the ! of the secrets AWS services create and
// manage themselves (RDS's and Aurora's master user secrets are named
// rds!db-<uuid> and rds!cluster-<uuid>; Redshift's redshift!…).
func validSecretName(v string) bool {
	if len(v) == 0 || len(v) > 512 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/_+=.@-!", c)) {
			return false
		}
	}
	return true
}
