package awsssm_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoSchemaRegistry: the store links no schema registry of the AWS
// SDK's service modules. From service/ssm v1.80.0 on, the
// module's schema-based serializers register every shape of the service
// in a package (…/schemas) that Go initialises at every start of a binary
// that links it, references or not (1.4 MB in 7,936 allocations); go.mod
// pins the release before it (docs/stores.md, Size).
func TestNoSchemaRegistry(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/n8n-secrets/n8n-secrets/providers/awsssm").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/aws/aws-sdk-go-v2/service/ssm/") && strings.HasSuffix(p, "/schemas") {
			t.Errorf("awsssm links %s: a schema registry built at every start", p)
		}
	}
}
