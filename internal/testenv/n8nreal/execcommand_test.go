package n8nreal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// envProbe is a workflow whose Execute Command node runs `env`.
const envProbe = `{"id":"envprobe00000001","name":"env probe","active":false,"settings":{},"nodes":[
 {"parameters":{},"id":"a1","name":"Start","type":"n8n-nodes-base.manualTrigger","typeVersion":1,"position":[0,0]},
 {"parameters":{"command":"env"},"id":"a2","name":"Exec","type":"n8n-nodes-base.executeCommand","typeVersion":1,"position":[200,0]}],
 "connections":{"Start":{"main":[[{"node":"Exec","type":"main","index":0}]]}}}`

// TestExecuteCommandNode records what the project's docs say about n8n's
// Execute Command node, from the real n8n: N8N_BLOCK_ENV_ACCESS_IN_NODE=true
// does not stop it from reading the process's environment (it guards
// expressions and the Code node, not child processes), and n8n 2.x leaves
// the node out unless NODES_EXCLUDE is changed (1.x loads it).
func TestExecuteCommandNode(t *testing.T) {
	const canary = "exec-command-canary-7f3c9a1e"
	for name, get := range map[string]func(testing.TB) *Install{"1.x": V1, "2.x": V2} {
		t.Run(name, func(t *testing.T) {
			in := get(t)
			node := NewNode(t, in, "N8N_ENCRYPTION_KEY=exec-command-test-key-0123456789", "N8N_BLOCK_ENV_ACCESS_IN_NODE=true",
				"PROBE_CANARY="+canary)
			wf := filepath.Join(t.TempDir(), "workflow.json")
			if err := os.WriteFile(wf, []byte(envProbe), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := node.Run("import:workflow", "--input="+wf); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			out, err := node.Run("execute", "--id=envprobe00000001", "--rawOutput")
			if in.Major() >= 2 {
				// Excluded by default: n8n does not know the node.
				if err == nil || !strings.Contains(out, "Unrecognized node type: n8n-nodes-base.executeCommand") {
					t.Fatalf("n8n %s ran the Execute Command node with the default NODES_EXCLUDE (err %v)", in.Version, err)
				}
				node.Env = append(node.Env, "NODES_EXCLUDE=[]")
				out, err = node.Run("execute", "--id=envprobe00000001", "--rawOutput")
			}
			if err != nil {
				t.Fatalf("n8n %s execute: %v", in.Version, err)
			}
			if !strings.Contains(out, "PROBE_CANARY="+canary) || !strings.Contains(out, "N8N_ENCRYPTION_KEY=") {
				t.Errorf("n8n %s: the Execute Command node's env did not show the process's variables: has n8n changed? (then update the docs)", in.Version)
			}
		})
	}
}
