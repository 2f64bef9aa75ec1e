package examples

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/n8n-secrets/n8n-secrets/providers"
	"github.com/n8n-secrets/n8n-secrets/providers/azkv"
)

// TestAzureExample parses examples/azure/workload-identity.yaml: every
// azkv:// reference parses as the start parses it, the ServiceAccount
// carries the workload identity annotation, and every n8n pod runs as it
// with the label that lets AKS's webhook inject the token.
func TestAzureExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("azure", "workload-identity.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type container struct {
		Env []struct{ Name, Value string }
	}
	type doc struct {
		Kind     string
		Metadata struct {
			Name        string
			Annotations map[string]string
		}
		Data map[string]string
		Spec struct {
			Template struct {
				Metadata struct{ Labels map[string]string }
				Spec     struct {
					ServiceAccountName string `yaml:"serviceAccountName"`
					Containers         []container
				}
			}
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	refs, deployments := 0, 0
	sa := ""
	for {
		var d doc
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		values := map[string]string{}
		for k, v := range d.Data {
			values[k] = v
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				values[e.Name] = e.Value
			}
		}
		for name, v := range values {
			if !strings.HasPrefix(v, azkv.Scheme+"://") {
				continue
			}
			if _, err := providers.Stores.Parse(v); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			refs++
		}
		switch d.Kind {
		case "ServiceAccount":
			if d.Metadata.Annotations["azure.workload.identity/client-id"] == "" {
				t.Error("the ServiceAccount has no azure.workload.identity/client-id annotation")
			}
			sa = d.Metadata.Name
		case "Deployment":
			deployments++
			if d.Spec.Template.Metadata.Labels["azure.workload.identity/use"] != "true" {
				t.Errorf("%s: pods lack the label azure.workload.identity/use: \"true\"", d.Metadata.Name)
			}
			if d.Spec.Template.Spec.ServiceAccountName != sa || sa == "" {
				t.Errorf("%s: pods do not run as the annotated ServiceAccount", d.Metadata.Name)
			}
		}
	}
	if refs < 3 || deployments < 2 {
		t.Fatalf("found %d azkv references and %d Deployments", refs, deployments)
	}
}
