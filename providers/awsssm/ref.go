package awsssm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Scheme is the URI scheme of AWS Systems Manager Parameter Store
// references.
const Scheme = "awsssm"

// Syntax is the reference grammar, for help and the README.
const Syntax = "awsssm://<parameter-name>[?version=N|label=L][#selector]"

// ReferencePrefix is the reserved path under which Parameter Store reads
// AWS Secrets Manager secrets: /aws/reference/secretsmanager/<secret-id>.
const ReferencePrefix = "/aws/reference/secretsmanager/"

// Ref is a parsed awsssm:// reference: one parameter, at its latest
// version, a pinned version or the version a label is on; or, under
// ReferencePrefix, one Secrets Manager secret read through Parameter Store.
// It is comparable. The selector and optional=true are the common
// grammar's, not part of Ref.
type Ref struct {
	// Name is the parameter's name ("/n8n/prod/db", "n8n-key"), the full
	// ARN of a parameter (arn:aws:ssm:<region>:<account>:parameter/<name>,
	// how a parameter shared by another account is read), or
	// ReferencePrefix followed by a Secrets Manager secret's name.
	Name string
	// VersionID is version=: a parameter version (a positive integer), or
	// the VersionId of a Secrets Manager secret's version.
	VersionID string
	// Label is label=: a parameter label, or a Secrets Manager staging
	// label (AWSCURRENT, AWSPREVIOUS, ...).
	Label string
	// Region is region=, or the ARN's region.
	Region string
}

// Path returns the parameter's name (or ARN), what logs show as the path.
func (r Ref) Path() string { return r.Name }

// Version returns the pinned version or label for logs, "" when the
// reference follows the latest version.
func (r Ref) Version() string {
	if r.VersionID != "" {
		return r.VersionID
	}
	return r.Label
}

// IsSecretsManager reports whether r reads a Secrets Manager secret
// through Parameter Store.
func (r Ref) IsSecretsManager() bool { return strings.HasPrefix(r.Name, ReferencePrefix) }

// IsARN reports whether r names its parameter by ARN.
func (r Ref) IsARN() bool { return strings.HasPrefix(r.Name, "arn:") }

// String writes the reference back without its scheme: the name, then
// "?version=V" or "?label=L" and "region=R" (not for an ARN, which holds
// its region). ParseRef of the part before '?' and of the options after it
// gives an equal Ref.
func (r Ref) String() string {
	var opts []string
	if r.VersionID != "" {
		opts = append(opts, "version="+r.VersionID)
	}
	if r.Label != "" {
		opts = append(opts, "label="+r.Label)
	}
	if r.Region != "" && !r.IsARN() {
		opts = append(opts, "region="+r.Region)
	}
	if len(opts) == 0 {
		return r.Name
	}
	return r.Name + "?" + strings.Join(opts, "&")
}

// wireName is the name GetParameters is asked for: the name or ARN, and
// ":<version or label>" when pinned.
func (r Ref) wireName() string {
	if v := r.Version(); v != "" {
		return r.Name + ":" + v
	}
	return r.Name
}

// describe names what r reads in a message: the name and the pinned
// version or label.
func (r Ref) describe() string {
	switch {
	case r.VersionID != "":
		return r.Name + " version " + r.VersionID
	case r.Label != "":
		return r.Name + " label " + r.Label
	}
	return r.Name
}

// Options are the reference options ParseRef takes, for docs and help.
var Options = []struct{ Name, Meaning string }{
	{"version", "a parameter version (1, 2, …); under " + ReferencePrefix + " a Secrets Manager VersionId. Default: the latest version (AWSCURRENT)"},
	{"label", "a parameter label (the version it is on); under " + ReferencePrefix + " a Secrets Manager staging label such as AWSPREVIOUS. Not with version="},
	{"region", "the AWS region of the parameter (default: the ARN's, else AWS_REGION, AWS_DEFAULT_REGION or the profile's)"},
}

// ParseRef parses what follows "awsssm://" up to '?' (path) and the
// options other than optional=true (opts, already split; duplicates refused
// by the common grammar). It does no I/O. Errors wrap inject.ErrBadReference
// and never repeat the input.
//
// A path with a '/' that does not start with one is taken as a hierarchy:
// awsssm://n8n/prod/db reads /n8n/prod/db, as awsssm:///n8n/prod/db does
// (Parameter Store has no name like n8n/prod/db: a hierarchy is "fully
// qualified", with its leading '/').
func ParseRef(path string, opts map[string]string) (Ref, error) {
	var r Ref
	for k := range opts {
		if k != "version" && k != "label" && k != "region" {
			return r, badRef("unknown option (awsssm takes: version, label, region)")
		}
	}
	if opts["version"] != "" && opts["label"] != "" {
		return r, badRef("options version and label exclude each other: a version is pinned by its number or by a label")
	}
	if region, ok := opts["region"]; ok {
		if !validRegion(region) {
			return r, badRef("option region is not a region name (like eu-west-1)")
		}
		r.Region = region
	}
	if path == "" {
		return r, badRef("empty path: awsssm references are awsssm://<parameter-name>, such as awsssm:///n8n/prod/db")
	}
	if strings.HasPrefix(path, "arn:") {
		region, name, err := parseARN(path)
		if err != nil {
			return r, err
		}
		if r.Region != "" && r.Region != region {
			return r, badRef("option region differs from the ARN's region")
		}
		if strings.HasPrefix(name, ReferencePrefix) {
			return r, badRef("a Secrets Manager reference is read by its name, " + ReferencePrefix + "<secret-id>, not by ARN")
		}
		r.Name, r.Region = path, region
	} else {
		if !strings.HasPrefix(path, "/") && strings.Contains(path, "/") {
			path = "/" + path
		}
		if err := checkName(path); err != nil {
			return r, err
		}
		r.Name = path
	}
	if r.IsSecretsManager() {
		return r, r.secretsManagerOptions(opts)
	}
	if v, ok := opts["version"]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n <= 0 || strconv.FormatInt(n, 10) != v {
			return r, badRef("option version must be a positive integer (a parameter version)")
		}
		r.VersionID = v
	}
	if l, ok := opts["label"]; ok {
		if !validLabel(l) {
			return r, badRef("option label must be 1 to 100 letters, digits and ._- not starting with a digit, aws or ssm (Parameter Store's label rules)")
		}
		r.Label = l
	}
	return r, nil
}

// secretsManagerOptions reads version= (a VersionId) and label= (a staging
// label) of a reference to a Secrets Manager secret.
func (r *Ref) secretsManagerOptions(opts map[string]string) error {
	if v, ok := opts["version"]; ok {
		if len(v) < 32 || len(v) > 64 || !allOf(v, func(c rune) bool { return isAlnum(c) || c == '-' }) {
			return badRef("option version of a Secrets Manager reference must be a secret's VersionId (32 to 64 letters, digits and hyphens)")
		}
		r.VersionID = v
	}
	if l, ok := opts["label"]; ok {
		if len(l) > 256 || l == "" || !allOf(l, func(c rune) bool { return isAlnum(c) || c == '.' || c == '-' || c == '_' }) {
			return badRef("option label of a Secrets Manager reference must be a staging label: 1 to 256 letters, digits and ._- (such as AWSPREVIOUS)")
		}
		r.Label = l
	}
	return nil
}

// checkName applies Parameter Store's rules for names: letters, digits and
// ._- in segments separated by '/', a hierarchy starting with '/', at most
// 15 levels, 1011 characters with the ARN's prefix (the limit AWS sets on
// names it creates). Under ReferencePrefix, the secret's name follows
// Secrets Manager's rules instead.
func checkName(name string) error {
	if secret, ok := strings.CutPrefix(name, ReferencePrefix); ok {
		// '!' is in the names AWS gives the secrets it manages (RDS's
		// rds!db-…), though users cannot create such names.
		if secret == "" || len(secret) > 512 || !allOf(secret, func(c rune) bool { return isAlnum(c) || strings.ContainsRune("/_+=.@!-", c) }) {
			return badRef("the secret after " + ReferencePrefix + " must be a Secrets Manager secret name: 1 to 512 letters, digits and /_+=.@!- (no ARN, no ':')")
		}
		return nil
	}
	if len(name) > 1011 {
		return badRef("the parameter name is longer than 1011 characters")
	}
	if strings.Contains(name, ":") {
		return badRef("the parameter name must not hold ':' (a version goes in ?version=, a label in ?label=)")
	}
	bare := strings.TrimPrefix(name, "/")
	if bare == "" || strings.HasSuffix(bare, "/") || strings.Contains(bare, "//") {
		return badRef("the parameter name must not be '/', end with '/' or hold '//' (like /n8n/prod/db)")
	}
	if !allOf(bare, func(c rune) bool { return isAlnum(c) || strings.ContainsRune("/._-", c) }) {
		return badRef("the parameter name must be letters, digits and ._- separated by '/' (like /n8n/prod/db)")
	}
	if strings.Count(name, "/") > 15 {
		return badRef("the parameter name has more than 15 levels")
	}
	return nil
}

// parseARN validates arn:<partition>:ssm:<region>:<account>:parameter/<name>
// and returns the region and the name (with its leading '/' for a
// hierarchy).
func parseARN(arn string) (region, name string, err error) {
	const want = "ARN must be arn:<partition>:ssm:<region>:<account>:parameter/<name>"
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[1] == "" || !allOf(f[1], func(c rune) bool { return c >= 'a' && c <= 'z' || c == '-' }) ||
		f[2] != "ssm" || !validRegion(f[3]) || len(f[4]) != 12 || strings.Trim(f[4], "0123456789") != "" {
		return "", "", badRef(want)
	}
	rest, ok := strings.CutPrefix(f[5], "parameter/")
	if !ok || rest == "" {
		return "", "", badRef(want)
	}
	if strings.Contains(rest, "/") {
		rest = "/" + rest
	}
	if err := checkName(rest); err != nil {
		return "", "", err
	}
	return f[3], rest, nil
}

// validLabel applies Parameter Store's label rules: 1 to 100 letters,
// digits, '.', '-' and '_', not starting with a digit, "aws" or "ssm"
// (case-insensitive).
func validLabel(l string) bool {
	lower := strings.ToLower(l)
	if l == "" || len(l) > 100 || (l[0] >= '0' && l[0] <= '9') || strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm") {
		return false
	}
	return allOf(l, func(c rune) bool { return isAlnum(c) || c == '.' || c == '-' || c == '_' })
}

func validRegion(v string) bool {
	if len(v) < 3 || len(v) > 32 || v[0] == '-' || v[len(v)-1] == '-' {
		return false
	}
	return allOf(v, func(c rune) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' })
}

func allOf(s string, ok func(rune) bool) bool {
	for _, c := range s {
		if !ok(c) {
			return false
		}
	}
	return true
}

func isAlnum(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func badRef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{inject.ErrBadReference}, args...)...)
}
