package awssm

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// kept are the AWS_* variables the SDK's config package reads that select
// or tune rather than carry credentials: they stay in the child. Each new
// variable of an SDK upgrade must be put here or in CredentialVars.
var kept = map[string]string{
	"AWS_REGION": "region", "AWS_DEFAULT_REGION": "region", "AWS_PROFILE": "selects a profile", "AWS_DEFAULT_PROFILE": "selects a profile",
	"AWS_CONFIG_FILE": "a path; the file stays readable", "AWS_SHARED_CREDENTIALS_FILE": "a path; the file stays readable",
	"AWS_CA_BUNDLE": "a CA path", "AWS_ACCOUNT_ID": "an account number, not a credential", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "endpoint setting",
	"AWS_ENABLE_ENDPOINT_DISCOVERY": "endpoint setting", "AWS_S3_USE_ARN_REGION": "S3 setting",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IMDS setting", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "IMDS setting",
	"AWS_EC2_METADATA_DISABLED": "IMDS setting", "AWS_EC2_METADATA_V1_DISABLED": "IMDS setting",
	"AWS_S3_DISABLE_MULTIREGION_ACCESS_POINTS": "S3 setting", "AWS_USE_DUALSTACK_ENDPOINT": "endpoint setting",
	"AWS_USE_FIPS_ENDPOINT": "endpoint setting", "AWS_DEFAULTS_MODE": "SDK setting", "AWS_MAX_ATTEMPTS": "SDK setting",
	"AWS_RETRY_MODE": "SDK setting", "AWS_SDK_UA_APP_ID": "user agent", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "endpoint setting",
	"AWS_ENDPOINT_URL": "endpoint setting", "AWS_DISABLE_REQUEST_COMPRESSION": "SDK setting",
	"AWS_REQUEST_MIN_COMPRESSION_SIZE_BYTES": "SDK setting", "AWS_DISABLE_CLOCK_SKEW_CORRECTION": "SDK setting",
	"AWS_S3_DISABLE_EXPRESS_SESSION_AUTH": "S3 setting", "AWS_REQUEST_CHECKSUM_CALCULATION": "SDK setting",
	"AWS_RESPONSE_CHECKSUM_VALIDATION": "SDK setting", "AWS_AUTH_SCHEME_PREFERENCE": "SDK setting",
	"AWS_RESTRICT_FILE_PERMISSIONS": "SDK setting", "AWS_EXECUTION_ENV": "names the platform",
	"AWS_LOGIN_CACHE_DIRECTORY": "a path, like AWS_SHARED_CREDENTIALS_FILE",
}

// TestCredentialVarsCoverSDK reads the AWS_* names in the source of the
// SDK's config package, the version go.mod selects, and checks that each
// is classified: removed from the child (CredentialVars) or kept. A
// credential the SDK reads under another name (AWS_ACCESS_KEY,
// AWS_SECRET_KEY) must reach neither the child nor go unnoticed.
func TestCredentialVarsCoverSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-sdk-go-v2/config").Output()
	if err != nil {
		t.Fatalf("locating the SDK's config package: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	read := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil && strings.HasPrefix(v, "AWS_") && v == strings.ToUpper(v) && !strings.ContainsAny(v, " %") {
					read[v] = true
				}
			}
			return true
		})
	}
	for _, must := range []string{"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN"} {
		if !read[must] {
			t.Errorf("the SDK source no longer mentions %s: the scan is broken or the SDK changed", must)
		}
	}
	for v := range read {
		if !slices.Contains(CredentialVars, v) && kept[v] == "" {
			t.Errorf("the SDK reads %s, which is neither in CredentialVars nor kept with a reason", v)
		}
		if slices.Contains(CredentialVars, v) && kept[v] != "" {
			t.Errorf("%s is both removed and kept", v)
		}
	}
	if !slices.Contains(CredentialVars, "AWS_SECURITY_TOKEN") {
		t.Error("AWS_SECURITY_TOKEN, the session token's older name that other AWS tools read, must be removed")
	}
}
