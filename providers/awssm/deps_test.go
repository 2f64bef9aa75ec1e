package awssm_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoSchemaRegistry: the store links no schema registry of the AWS
// SDK's service modules. From service/secretsmanager v1.50.0 on, the
// module's schema-based serializers register every shape of the service
// in a package (…/schemas) that Go initialises at every start of a binary
// that links it, references or not (132 KB in 731 allocations); go.mod
// pins the release before it (docs/stores.md, Size).
func TestNoSchemaRegistry(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/n8n-secrets/n8n-secrets/providers/awssm").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/aws/aws-sdk-go-v2/service/secretsmanager/") && strings.HasSuffix(p, "/schemas") {
			t.Errorf("awssm links %s: a schema registry built at every start", p)
		}
	}
}
