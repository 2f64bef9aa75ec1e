package examples

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/providers/awsssm"
)

// The ECS example of the Parameter Store store (aws-ssm/): its task
// definitions, the task role's policy and its README.

const awsssmDir = "aws-ssm"

type ecsTask struct {
	Family               string `json:"family"`
	TaskRoleArn          string `json:"taskRoleArn"`
	ContainerDefinitions []struct {
		Name        string   `json:"name"`
		EntryPoint  []string `json:"entryPoint"`
		Command     []string `json:"command"`
		Environment []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"environment"`
		Secrets []any `json:"secrets"`
	} `json:"containerDefinitions"`
}

// parseAWSSSM splits "awsssm://<path>[?<options>][#<selector>]" as the
// common grammar does and parses the store's part with ParseRef.
func parseAWSSSM(s string) (awsssm.Ref, error) {
	rest, ok := strings.CutPrefix(s, awsssm.Scheme+"://")
	if !ok {
		return awsssm.Ref{}, fmt.Errorf("not an awsssm:// reference")
	}
	rest, _, _ = strings.Cut(rest, "#")
	path, query, _ := strings.Cut(rest, "?")
	opts := map[string]string{}
	for kv := range strings.SplitSeq(query, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if k != "optional" {
			opts[k] = v
		}
	}
	return awsssm.ParseRef(path, opts)
}

func TestAWSSSMExample(t *testing.T) {
	known := knownSettings(t)
	entry := dockerfileEntrypoint(t)
	refs := map[string]awsssm.Ref{} // reference → parsed
	keys := map[string]string{}     // task → N8N_ENCRYPTION_KEY
	for _, f := range []string{"task-definition.json", "task-definition-worker.json"} {
		data, err := os.ReadFile(filepath.Join(awsssmDir, f))
		if err != nil {
			t.Fatal(err)
		}
		var task ecsTask
		dec := json.NewDecoder(strings.NewReader(string(data)))
		if err := dec.Decode(&task); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(task.ContainerDefinitions) != 1 || task.TaskRoleArn == "" {
			t.Fatalf("%s: want one container and a task role", f)
		}
		c := task.ContainerDefinitions[0]
		if !slices.Equal(c.EntryPoint, entry) {
			t.Errorf("%s: entryPoint %v, the image's is %v", f, c.EntryPoint, entry)
		}
		if len(c.Secrets) > 0 {
			t.Errorf("%s: ECS secrets would bypass n8n-secrets", f)
		}
		n := 0
		for _, e := range c.Environment {
			if strings.HasPrefix(e.Name, "N8N_SECRETS_") && !known[e.Name] {
				t.Errorf("%s: %s is not a setting of n8n-secrets", f, e.Name)
			}
			if strings.HasPrefix(e.Name, "AWS_") && e.Name != "AWS_REGION" {
				t.Errorf("%s: %s: the task role's credentials come from ECS, not the task definition", f, e.Name)
			}
			if !strings.HasPrefix(e.Value, "awsssm:") {
				continue
			}
			r, err := parseAWSSSM(e.Value)
			if err != nil {
				t.Errorf("%s: %s: %v", f, e.Name, err)
				continue
			}
			n++
			refs[e.Value] = r
			if e.Name == "N8N_ENCRYPTION_KEY" {
				keys[f] = e.Value
			}
		}
		if n < 4 {
			t.Errorf("%s: %d references, want the key, the database's user and password, Redis's password", f, n)
		}
	}
	if len(keys) != 2 || keys["task-definition.json"] != keys["task-definition-worker.json"] {
		t.Errorf("the main and the worker must read the same encryption key: %v", keys)
	}
	var sm, labelled int
	for _, r := range refs {
		if r.IsSecretsManager() {
			sm++
		}
		if r.Label != "" {
			labelled++
		}
	}
	if sm == 0 || labelled == 0 {
		t.Errorf("the example shows %d Secrets Manager references and %d labels, want both", sm, labelled)
	}

	// The README's references parse too.
	readme, err := os.ReadFile(filepath.Join(awsssmDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, m := range regexp.MustCompile(`[A-Z][A-Z0-9_]*=(awsssm://\S+)`).FindAllStringSubmatch(string(readme), -1) {
		found++
		if _, err := parseAWSSSM(m[1]); err != nil {
			t.Errorf("README.md: %s: %v", m[0], err)
		}
	}
	for _, m := range settingRe.FindAllString(string(readme), -1) {
		if !known[m] {
			t.Errorf("README.md: %s is not a setting of n8n-secrets", m)
		}
	}
	if found < 4 {
		t.Errorf("README.md: %d references found: is the scan broken?", found)
	}

	checkTaskRolePolicy(t, refs)
}

// checkTaskRolePolicy: the task role's policy allows exactly what the
// references need (ssm:GetParameters on each parameter, and for a Secrets
// Manager reference its path and secretsmanager:GetSecretValue on the
// secret, kms:Decrypt through the two services), on no Resource "*".
func checkTaskRolePolicy(t *testing.T, refs map[string]awsssm.Ref) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(awsssmDir, "task-role-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var policy struct {
		Statement []struct {
			Effect    string
			Action    any
			Resource  any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal(data, &policy); err != nil {
		t.Fatal(err)
	}
	list := func(v any) []string {
		switch v := v.(type) {
		case string:
			return []string{v}
		case []any:
			var out []string
			for _, x := range v {
				out = append(out, fmt.Sprint(x))
			}
			return out
		}
		return nil
	}
	allowed := map[string][]string{} // action → resources
	for _, st := range policy.Statement {
		if st.Effect != "Allow" {
			continue
		}
		for _, a := range list(st.Action) {
			if !slices.Contains([]string{"ssm:GetParameters", "secretsmanager:GetSecretValue", "kms:Decrypt"}, a) {
				t.Errorf("the policy allows %s, which the store does not need", a)
			}
			for _, r := range list(st.Resource) {
				if r == "*" {
					t.Errorf("%s on Resource \"*\"", a)
				}
				allowed[a] = append(allowed[a], r)
			}
			if a == "kms:Decrypt" && len(st.Condition["StringEquals"]["kms:ViaService"].([]any)) != 2 {
				t.Error("kms:Decrypt must be limited to Parameter Store and Secrets Manager (kms:ViaService)")
			}
		}
	}
	covered := func(action, arn string) bool {
		return slices.ContainsFunc(allowed[action], func(pattern string) bool { return iamMatch(pattern, arn) })
	}
	const region, account = "eu-west-1", "123456789012"
	for s, r := range refs {
		param := "arn:aws:ssm:" + region + ":" + account + ":parameter" + r.Name
		if !covered("ssm:GetParameters", param) {
			t.Errorf("%s: ssm:GetParameters does not cover %s", s, param)
		}
		if r.IsSecretsManager() {
			secret := "arn:aws:secretsmanager:" + region + ":" + account + ":secret:" + strings.TrimPrefix(r.Name, awsssm.ReferencePrefix) + "-AbC123"
			if !covered("secretsmanager:GetSecretValue", secret) {
				t.Errorf("%s: secretsmanager:GetSecretValue does not cover %s", s, secret)
			}
		}
	}
	if len(allowed["kms:Decrypt"]) == 0 {
		t.Error("no kms:Decrypt for the customer managed key")
	}
	// The check itself can fail.
	if covered("ssm:GetParameters", "arn:aws:ssm:"+region+":"+account+":parameter/n8n/staging/key") {
		t.Error("the policy covers parameters outside /n8n/prod/")
	}
}

// iamMatch matches an ARN against an IAM Resource pattern ('*' any run of
// characters, '?' one).
func iamMatch(pattern, arn string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(arn)
}

// dockerfileEntrypoint returns the ENTRYPOINT of the Dockerfile's n8n
// target.
func dockerfileEntrypoint(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	var entry []string
	inN8n := false
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.HasPrefix(line, "FROM ") {
			inN8n = strings.HasSuffix(strings.TrimSpace(line), "AS n8n")
		}
		if rest, ok := strings.CutPrefix(line, "ENTRYPOINT "); ok && inN8n {
			if err := json.Unmarshal([]byte(rest), &entry); err != nil {
				t.Fatalf("Dockerfile: ENTRYPOINT: %v", err)
			}
		}
	}
	if len(entry) == 0 {
		t.Fatal("Dockerfile: no ENTRYPOINT in the n8n target")
	}
	return entry
}
