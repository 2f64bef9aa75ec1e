package audit

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// The audit reports what the injector's start would report (issue 22:
// "the audit understands it too"): ${…} inside values, N8N_SECRETS_ENV_FROM,
// other tools' references, --env-file, references held in Kubernetes
// Secrets. Each pattern has its fixed twin.

// injected is a Compose service that runs n8n-secrets before n8n.
func injected(name, extra, env string) string {
	return "  " + name + ":\n    image: n8nio/n8n:2.40.0\n    entrypoint: [\"tini\", \"--\", \"/usr/local/bin/n8n-secrets\", \"--\", \"/docker-entrypoint.sh\"]\n" + extra +
		"    environment:\n      N8N_ENCRYPTION_KEY: vault://secret/n8n/core#encryption_key\n" + env
}

// podWith is a Pod running n8n behind n8n-secrets with the env entries given.
func podWith(env string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata: {name: n8n}\nspec:\n  containers:\n    - name: n8n\n      image: n8nio/n8n:2.40.0\n" +
		"      command: [\"tini\", \"--\", \"/usr/local/bin/n8n-secrets\", \"--\", \"/docker-entrypoint.sh\"]\n      env:\n" +
		"        - {name: N8N_ENCRYPTION_KEY, value: \"vault://secret/n8n/core#encryption_key\"}\n" + env
}

// TestTemplatesInValues: a value built from ${…} references is no literal
// secret; a malformed one is BAD_REFERENCE as the start reports it (with
// its line, never its text); $${ is a literal ${ as the injector reads it;
// a URL's password written out beside a reference is a literal secret.
func TestTemplatesInValues(t *testing.T) {
	compose := func(env string) map[string]string {
		return map[string]string{"compose.yaml": "services:\n" + injected("n8n", "", env)}
	}
	runPatterns(t, []patternCase{
		{name: "a password built from a ${…} reference", files: compose("      DB_POSTGRESDB_PASSWORD: $${vault://secret/n8n/db#password}\n"),
			not: []expectation{"LITERAL_SECRET", "BAD_REFERENCE"}},
		{name: "twin: the password written out", files: compose("      DB_POSTGRESDB_PASSWORD: CANARY-written-out\n"),
			want: []expectation{"LITERAL_SECRET/error@compose.yaml:7"}},
		{name: "a connection URL built from a reference", files: compose("      DB_POSTGRESDB_CONNECTION_URL: postgres://n8n:$${vault://secret/n8n/db#password}@db:5432/n8n\n"),
			not: []expectation{"LITERAL_SECRET", "BAD_REFERENCE"}},
		{name: "a scheme typo inside ${…}", files: compose("      DB_POSTGRESDB_CONNECTION_URL: postgres://n8n:$${vualt://secret/CANARY-path#password}@db/n8n\n"),
			want: []expectation{"BAD_REFERENCE/error@compose.yaml:7"}},
		{name: "an unclosed ${", files: compose("      DB_POSTGRESDB_PASSWORD: $${vault://secret/n8n/CANARY-db#password\n"),
			want: []expectation{"BAD_REFERENCE/error@compose.yaml:7"}, not: []expectation{"LITERAL_SECRET"}},
		{name: "a bad reference inside ${…}", files: compose("      DB_POSTGRESDB_PASSWORD: $${vault://secret/n8n/db?verison=2#CANARY}\n"),
			want: []expectation{"BAD_REFERENCE/error@compose.yaml:7"}, not: []expectation{"LITERAL_SECRET"}},
		{name: "twin: the same references well formed", files: compose("      DB_POSTGRESDB_PASSWORD: $${vault://secret/n8n/db?version=2#password}\n"),
			not: []expectation{"BAD_REFERENCE", "LITERAL_SECRET"}},
		{name: "a literal password beside a reference", files: compose("      DB_POSTGRESDB_CONNECTION_URL: postgres://n8n:CANARY-pw@db:5432/$${vault://secret/n8n/db#name}\n"),
			want: []expectation{"LITERAL_SECRET/error@compose.yaml:7"}},
		{name: "twin: the password is the reference", files: compose("      DB_POSTGRESDB_CONNECTION_URL: postgres://n8n:$${vault://secret/n8n/db#password}@db:5432/$${vault://secret/n8n/db#name}\n"),
			not: []expectation{"LITERAL_SECRET"}},
		{name: "a URL's password written out, no reference", files: compose("      DB_POSTGRESDB_CONNECTION_URL: postgres://n8n:CANARY-pw@db:5432/n8n\n"),
			want: []expectation{"LITERAL_SECRET/error@compose.yaml:7"}},
		{name: "twin: a URL without a password", files: compose("      WEBHOOK_URL: https://admin@n8n.example.com/\n      N8N_EDITOR_BASE_URL: https://n8n.example.com/a:b@c\n"),
			not: []expectation{"LITERAL_SECRET"}},
		{name: "${vault://…} unescaped, which Compose refuses", files: compose("      DB_POSTGRESDB_PASSWORD: ${vault://secret/n8n/CANARY#password}\n"),
			want: []expectation{"BAD_REFERENCE/error@compose.yaml:7"}, not: []expectation{"LITERAL_SECRET"}},
		{name: "twin: escaped as $${…}", files: compose("      DB_POSTGRESDB_PASSWORD: $${vault://secret/n8n/db#password}\n"),
			not: []expectation{"BAD_REFERENCE"}},
		{name: "a reference-built value on n8n's own entrypoint", files: map[string]string{"compose.yaml": "services:\n  n8n:\n    image: n8nio/n8n:2.40.0\n    environment:\n      N8N_ENCRYPTION_KEY_FILE: /run/secrets/key\n      DB_POSTGRESDB_PASSWORD: $${vault://secret/n8n/db#password}\n"},
			want: []expectation{"REFERENCE_WITHOUT_INJECTOR/error"}},
		{name: "twin: behind n8n-secrets", files: compose("      DB_POSTGRESDB_PASSWORD: $${vault://secret/n8n/db#password}\n"),
			not: []expectation{"REFERENCE_WITHOUT_INJECTOR"}},
		{name: "a URL assembled with $(NAME), its password written here", files: map[string]string{"pod.yaml": podWith("        - {name: PG_USER, value: n8n}\n        - {name: DB_URL, value: \"postgres://$(PG_USER):CANARY-pw@db/n8n\"}\n")},
			want: []expectation{"LITERAL_SECRET/error@pod.yaml:12"}},
		{name: "twin: its password from a Secret through $(NAME)", files: map[string]string{"pod.yaml": podWith("        - {name: PG_USER, value: n8n}\n        - name: PG_PASSWORD\n          valueFrom: {secretKeyRef: {name: pg, key: password}}\n        - {name: DB_URL, value: \"postgres://$(PG_USER):$(PG_PASSWORD)@db/n8n\"}\n")},
			not: []expectation{"LITERAL_SECRET"}},
		{name: "a Compose URL with ${USER} from .env, its password written here", files: map[string]string{"compose.yaml": "services:\n" + injected("n8n", "", "      DB_URL: postgres://${PG_USER}:CANARY-pw@db/n8n\n"), ".env": "PG_USER=n8n\n"},
			want: []expectation{"LITERAL_SECRET/error@compose.yaml:7"}},
		{name: "twin: its password from .env, written there", files: map[string]string{"compose.yaml": "services:\n" + injected("n8n", "", "      DB_URL: postgres://n8n:${PG_PASSWORD}@db/n8n\n      POSTGRES_PASSWORD: ${PG_PASSWORD}\n"), ".env": "PG_PASSWORD=CANARY-pw\n"},
			want: []expectation{"LITERAL_SECRET/error@.env:1"}, not: []expectation{"LITERAL_SECRET@compose.yaml"}},
		// Kubernetes passes values as they are written: the injector's own
		// $${ is a literal ${, and what follows it is no reference.
		{name: "$${ is a literal ${", files: map[string]string{"pod.yaml": podWith("        - {name: N8N_CUSTOM_TEXT, value: \"x$${vualt://literal}\"}\n")},
			not: []expectation{"BAD_REFERENCE"}},
		{name: "twin: ${ with the same typo", files: map[string]string{"pod.yaml": podWith("        - {name: N8N_CUSTOM_TEXT, value: \"x${vualt://literal}\"}\n")},
			want: []expectation{"BAD_REFERENCE/error@pod.yaml:11"}},
	})
}

// TestTemplateKeySources: two nodes whose key is built from ${…}
// references are compared as references (the files cannot tell what they
// hold), not as two different literal keys.
func TestTemplateKeySources(t *testing.T) {
	node := func(name, cmd, key string) string {
		return "  " + name + ":\n    image: n8nio/n8n:2.40.0\n    entrypoint: [\"tini\", \"--\", \"/usr/local/bin/n8n-secrets\", \"--\", \"/docker-entrypoint.sh\"]\n    command: " + cmd +
			"\n    environment:\n      N8N_ENCRYPTION_KEY: " + key + "\n" + queueEnv
	}
	runPatterns(t, []patternCase{
		{name: "two different ${…} references", files: map[string]string{"compose.yaml": "services:\n" + node("n8n", "start", "$${file:key_a}") + node("worker", "worker", "$${file:key_b}")},
			want: []expectation{"KEY_SOURCE_MISMATCH/warning"}, not: []expectation{"KEY_SOURCE_MISMATCH/error"}},
		{name: "twin: the same ${…} reference", files: map[string]string{"compose.yaml": "services:\n" + node("n8n", "start", "$${file:key_a}") + node("worker", "worker", "$${file:key_a}")},
			not: []expectation{"KEY_SOURCE_MISMATCH"}},
	})
}

// TestForeignReferences: another tool's reference as a whole value is a
// FOREIGN_REFERENCE warning with the start's own hint, never a literal
// secret.
func TestForeignReferences(t *testing.T) {
	for _, c := range []struct{ name, value string }{
		{"1Password", "op://CANARY-vault/n8n/encryption-key"},
		{"vals", "ref+vault://secret/n8n#/CANARY"},
		{"berglas", "sm://CANARY-project/n8n-key"},
		{"berglas scheme", "berglas://CANARY-bucket/n8n-key"},
		{"an ARN without awssm://", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:CANARY-n8n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"compose.yaml": "services:\n" + injected("n8n", "", "      QUEUE_BULL_REDIS_PASSWORD: "+c.value+"\n")}
			runPatterns(t, []patternCase{{name: "as a value", files: files,
				want: []expectation{"FOREIGN_REFERENCE/warning@compose.yaml:7"}, not: []expectation{"LITERAL_SECRET"}}})
			rep := run(t, writeTree(t, files))
			want := inject.Scan([]string{"V=" + c.value}, inject.ScanOptions{Stores: testStores}).Foreign
			for _, f := range codesIn(rep)[CodeForeignReference] {
				if len(want) != 1 || !strings.HasPrefix(f.Hint, want[0].Hint) || !strings.Contains(f.Message, want[0].Tool) {
					t.Errorf("FOREIGN_REFERENCE %q / %q: not the start's tool and hint %+v", f.Message, f.Hint, want)
				}
			}
		})
	}
	runPatterns(t, []patternCase{
		{name: "twin: the ARN as a reference", files: map[string]string{"compose.yaml": "services:\n" + injected("n8n", "", "      QUEUE_BULL_REDIS_PASSWORD: awssm://arn:aws:secretsmanager:eu-west-1:123456789012:secret:n8n\n")},
			not: []expectation{"FOREIGN_REFERENCE", "LITERAL_SECRET"}},
		{name: "in N8N_SECRETS_SKIP: the start does not look at it", files: map[string]string{"compose.yaml": "services:\n" + injected("n8n", "", "      N8N_SECRETS_SKIP: QUEUE_BULL_REDIS_PASSWORD\n      QUEUE_BULL_REDIS_PASSWORD: op://vault/n8n/redis\n")},
			not: []expectation{"FOREIGN_REFERENCE", "LITERAL_SECRET"}},
		{name: "in a Kubernetes Secret", files: map[string]string{"k8s.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: n8n}\nstringData:\n  QUEUE_BULL_REDIS_PASSWORD: op://CANARY-vault/n8n/redis\n---\n" +
			podWith("        - name: QUEUE_BULL_REDIS_PASSWORD\n          valueFrom: {secretKeyRef: {name: n8n, key: QUEUE_BULL_REDIS_PASSWORD}}\n")},
			want: []expectation{"FOREIGN_REFERENCE/warning@k8s.yaml:5"}, not: []expectation{"SECRET_IN_MANIFEST", "LITERAL_SECRET"}},
	})
}

// TestEnvFrom: N8N_SECRETS_ENV_FROM (or --env-from) items are checked as
// the start checks them, and the variables they may give are unknown, not
// unset.
func TestEnvFrom(t *testing.T) {
	worker := func(extra, env string) map[string]string {
		return map[string]string{"compose.yaml": "services:\n  n8n-worker:\n    image: n8nio/n8n:2.40.0\n" + extra + "    command: worker\n    environment:\n" + env}
	}
	entry := "    entrypoint: [\"tini\", \"--\", \"/usr/local/bin/n8n-secrets\", \"--\", \"/docker-entrypoint.sh\"]\n"
	runPatterns(t, []patternCase{
		{name: "a worker whose key and mode come through N8N_SECRETS_ENV_FROM", files: worker(entry, "      N8N_SECRETS_ENV_FROM: vault://secret/n8n/env\n"),
			not: []expectation{"KEY_MISSING", "QUEUE_MODE_REQUIRED", "BAD_REFERENCE"}},
		{name: "twin: without it", files: worker(entry, "      N8N_HOST: n8n.example.com\n"),
			want: []expectation{"KEY_MISSING/error", "QUEUE_MODE_REQUIRED/error"}},
		{name: "--env-from on the command line", files: worker("    entrypoint: [\"tini\", \"--\", \"/usr/local/bin/n8n-secrets\", \"--env-from=vault://secret/n8n/env\", \"--\", \"/docker-entrypoint.sh\"]\n", "      N8N_HOST: n8n.example.com\n"),
			not: []expectation{"KEY_MISSING", "QUEUE_MODE_REQUIRED"}},
		{name: "an item with a scheme typo", files: worker(entry, "      N8N_SECRETS_ENV_FROM: vault://secret/n8n/env,vualt://secret/CANARY\n"),
			want: []expectation{"BAD_REFERENCE/error@compose.yaml:7"}},
		{name: "an item with an unknown option, on the command line", files: worker("    entrypoint: [\"n8n-secrets\", \"--env-from\", \"vault://secret/n8n/env?verison=2\", \"--\", \"/docker-entrypoint.sh\"]\n", ""),
			want: []expectation{"BAD_REFERENCE/error@compose.yaml:4"}},
		{name: "twin: the items well formed", files: worker(entry, "      N8N_SECRETS_ENV_FROM: vault://secret/n8n/env, awssm://prod/n8n/env?version-stage=AWSCURRENT\n"),
			not: []expectation{"BAD_REFERENCE"}},
		{name: "on n8n's own entrypoint nothing reads it", files: worker("", "      N8N_SECRETS_ENV_FROM: vault://secret/n8n/env\n"),
			want: []expectation{"REFERENCE_WITHOUT_INJECTOR/error", "KEY_MISSING/error"}},
	})
	// The message is the start's own: the setting, the item, the problem.
	rep := run(t, writeTree(t, worker(entry, "      N8N_SECRETS_ENV_FROM: vault://secret/n8n/env,vualt://secret/n8n\n")))
	found := codesIn(rep)[CodeBadReference]
	if len(found) != 1 || !strings.HasPrefix(found[0].Message, "N8N_SECRETS_ENV_FROM: item 2: bad reference: ") {
		t.Errorf("want one BAD_REFERENCE naming the setting and item 2, got %v", summary(rep))
	}
}

// TestInjectorEnvFile: an n8n-secrets command line that names an
// --env-file (or N8N_SECRETS_ENV_FILE): a file of the audited tree that
// the container sees there (bind mount, Compose secret or config, a
// Dockerfile's COPY, a ConfigMap or Secret volume) counts for the
// service; one the files do not show makes its variables unknown, with an
// info.
func TestInjectorEnvFile(t *testing.T) {
	worker := func(entry, extra string) string {
		return "services:\n  n8n-worker:\n    image: n8nio/n8n:2.40.0\n    command: worker\n    entrypoint: " + entry + "\n" + extra
	}
	entry := `["tini", "--", "/usr/local/bin/n8n-secrets", "--env-file", "/etc/n8n/n8n.env", "--", "/docker-entrypoint.sh"]`
	mounted := "    volumes:\n      - ./n8n.env:/etc/n8n/n8n.env:ro\n"
	confMounted := "    volumes:\n      - type: bind\n        source: ./worker.conf\n        target: /etc/n8n/n8n.env\n"
	good := "N8N_ENCRYPTION_KEY=vault://secret/n8n/core#encryption_key\nEXECUTIONS_MODE=queue\nDB_TYPE=postgresdb\nQUEUE_BULL_REDIS_HOST=redis\n"
	runPatterns(t, []patternCase{
		{name: "the env file is mounted from the tree", files: map[string]string{"compose.yaml": worker(entry, mounted), "n8n.env": good},
			not: []expectation{"KEY_MISSING", "QUEUE_MODE_REQUIRED", "NOT_CHECKED_ENV_FILE"}},
		{name: "twin: the same file without the key", files: map[string]string{"compose.yaml": worker(entry, mounted), "n8n.env": "EXECUTIONS_MODE=queue\nDB_TYPE=postgresdb\nQUEUE_BULL_REDIS_HOST=redis\n"},
			want: []expectation{"KEY_MISSING/error"}, not: []expectation{"QUEUE_MODE_REQUIRED"}},
		// A file the walk does not take for an env file: only the mount
		// brings it to the audit.
		{name: "a literal secret in it", files: map[string]string{"compose.yaml": worker(entry, confMounted), "worker.conf": good + "DB_POSTGRESDB_PASSWORD=CANARY-in-env-file\n"},
			want: []expectation{"LITERAL_SECRET/error@worker.conf:5"}},
		{name: "a scheme typo in it", files: map[string]string{"compose.yaml": worker(entry, confMounted), "worker.conf": good + "DB_POSTGRESDB_PASSWORD=vualt://secret/CANARY\n"},
			want: []expectation{"BAD_REFERENCE/error@worker.conf:5"}, not: []expectation{"LITERAL_SECRET"}},
		{name: "${vault://…} in it, which n8n-secrets' --env-file keeps", files: map[string]string{"compose.yaml": worker(entry, mounted), "n8n.env": good + "DB_POSTGRESDB_PASSWORD=${vault://secret/n8n/db#password}\n"},
			not: []expectation{"BAD_REFERENCE", "LITERAL_SECRET"}},
		{name: "a file n8n-secrets refuses", files: map[string]string{"compose.yaml": worker(entry, mounted), "n8n.env": good + "DB_POSTGRESDB_PASSWORD=\"CANARY-unclosed\n"},
			want: []expectation{"PARSE_ERROR/error@n8n.env:5"}},
		{name: "the file is not mounted", files: map[string]string{"compose.yaml": worker(entry, ""), "n8n.env": good},
			want: []expectation{"NOT_CHECKED_ENV_FILE/info@compose.yaml:5"}, not: []expectation{"KEY_MISSING", "QUEUE_MODE_REQUIRED"}},
		{name: "a relative path", files: map[string]string{"compose.yaml": worker(`["n8n-secrets", "--env-file=n8n.env", "--", "/docker-entrypoint.sh"]`, mounted), "n8n.env": good},
			want: []expectation{"NOT_CHECKED_ENV_FILE/info@compose.yaml:5"}, not: []expectation{"KEY_MISSING"}},
		{name: "N8N_SECRETS_ENV_FILE and a Compose secret", files: map[string]string{"compose.yaml": worker(`["n8n-secrets", "--", "/docker-entrypoint.sh"]`,
			"    environment:\n      N8N_SECRETS_ENV_FILE: /run/secrets/n8n_env\n    secrets: [n8n_env]\nsecrets:\n  n8n_env:\n    file: ./n8n.env\n"), "n8n.env": good + "N8N_SMTP_PASS=vualt://x\n"},
			want: []expectation{"BAD_REFERENCE/error@n8n.env:5"}, not: []expectation{"KEY_MISSING"}},
		{name: "copied into the image", files: map[string]string{
			"compose.yaml": "services:\n  n8n-worker:\n    build: .\n    command: worker\n",
			"Dockerfile":   "FROM n8nio/n8n:2.40.0\nCOPY n8n-secrets n8n.env /opt/n8n/\nENTRYPOINT [\"tini\", \"--\", \"/opt/n8n/n8n-secrets\", \"--env-file\", \"/opt/n8n/n8n.env\", \"--\", \"/docker-entrypoint.sh\"]\n",
			"n8n.env":      good + "N8N_SMTP_PASS=CANARY-copied\n"},
			want: []expectation{"LITERAL_SECRET/error@n8n.env:5"}, not: []expectation{"KEY_MISSING", "QUEUE_MODE_REQUIRED"}},
		{name: "the environment wins over the file", files: map[string]string{"compose.yaml": worker(entry, mounted+"    environment:\n      EXECUTIONS_MODE: regular\n"), "n8n.env": good},
			want: []expectation{"QUEUE_MODE_REQUIRED/error@compose.yaml:9"}},
	})
	// Outside the audited tree: not read, named as such.
	dir := writeTree(t, map[string]string{"deploy/compose.yaml": worker(entry, "    volumes:\n      - ../outside/n8n.env:/etc/n8n/n8n.env:ro\n"), "outside/n8n.env": "DB_POSTGRESDB_PASSWORD=CANARY-outside\n"})
	rep := run(t, filepath.Join(dir, "deploy"))
	codes := codesIn(rep)
	if n := codes[CodeEnvFileNotChecked]; len(n) != 1 || !strings.Contains(n[0].Message, "outside the audited tree") || len(codes[CodeKeyMissing]) != 0 || len(codes[CodeLiteralSecret]) != 0 {
		t.Errorf("an env file outside the tree: want one NOT_CHECKED_ENV_FILE, no KEY_MISSING or LITERAL_SECRET, got %v", summary(rep))
	}
	for name, out := range outputs(t, rep) {
		if strings.Contains(out, "/etc/n8n/n8n.env") || strings.Contains(out, canary) {
			t.Errorf("%s output repeats the --env-file argument or a value", name)
		}
	}
}

// TestInjectorEnvFileInKubernetes: an env file mounted from a ConfigMap
// of the files: its lines are reported where they are written in the
// manifest.
func TestInjectorEnvFileInKubernetes(t *testing.T) {
	manifest := func(key, subPath string) string {
		return `apiVersion: v1
kind: ConfigMap
metadata: {name: n8n-env, namespace: n8n}
data:
  n8n.env: |
    N8N_ENCRYPTION_KEY=vault://secret/n8n/core#encryption_key
    EXECUTIONS_MODE=queue
    DB_TYPE=postgresdb
    QUEUE_BULL_REDIS_HOST=redis
    DB_POSTGRESDB_PASSWORD=` + key + `
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: n8n-worker, namespace: n8n}
spec:
  template:
    spec:
      volumes:
        - name: env
          configMap: {name: n8n-env}
      containers:
        - name: n8n
          image: n8nio/n8n:2.40.0
          command: ["tini", "--", "/opt/n8n-secrets/n8n-secrets", "--env-file", "/etc/n8n-secrets/n8n.env", "--", "/docker-entrypoint.sh"]
          args: [worker]
          volumeMounts:
            - {name: env, mountPath: /etc/n8n-secrets` + subPath + `}
`
	}
	runPatterns(t, []patternCase{
		{name: "a scheme typo in the ConfigMap's env file", files: map[string]string{"k8s.yaml": manifest("vualt://secret/CANARY", "")},
			want: []expectation{"BAD_REFERENCE/error@k8s.yaml:10"}, not: []expectation{"KEY_MISSING", "QUEUE_MODE_REQUIRED", "NOT_CHECKED_ENV_FILE"}},
		{name: "mounted by subPath", files: map[string]string{"k8s.yaml": strings.Replace(manifest("vualt://secret/CANARY", "/n8n.env, subPath: n8n.env"), "/etc/n8n-secrets/n8n.env\",", "/etc/n8n-secrets/n8n.env\",", 1)},
			want: []expectation{"BAD_REFERENCE/error@k8s.yaml:10"}, not: []expectation{"KEY_MISSING"}},
		{name: "twin: the reference spelled right", files: map[string]string{"k8s.yaml": manifest("vault://secret/n8n/db#password", "")},
			not: []expectation{"BAD_REFERENCE", "KEY_MISSING", "QUEUE_MODE_REQUIRED"}},
		{name: "the ConfigMap is not in the files", files: map[string]string{"k8s.yaml": manifest("x", "")[strings.Index(manifest("x", ""), "---\n")+4:]},
			want: []expectation{"NOT_CHECKED_ENV_FILE/info"}, not: []expectation{"KEY_MISSING", "QUEUE_MODE_REQUIRED"}},
	})
	// The column is the line's in the manifest.
	rep := run(t, writeTree(t, map[string]string{"k8s.yaml": manifest("vualt://x", "")}))
	if f := codesIn(rep)[CodeBadReference]; len(f) != 1 || f[0].Column != 5 {
		t.Errorf("want one BAD_REFERENCE at column 5 of line 10, got %v", f)
	}
}

// TestSecretsHoldingReferences: a Kubernetes Secret whose secret values
// are all references holds no secret (the rendered n8n-hosting chart's
// n8n Secret, community-charts' n8n-references, as Helm renders them with
// examples/helm); the containers that get them are judged for what the
// start makes of them.
func TestSecretsHoldingReferences(t *testing.T) {
	// As `helm template` renders examples/helm/n8n-hosting/values.yaml.
	hosting := `apiVersion: v1
kind: Secret
metadata:
  name: n8n
  namespace: n8n
type: Opaque
stringData:
  DB_POSTGRESDB_PASSWORD: "vault://secret/n8n/db#password"
  N8N_ENCRYPTION_KEY: "vault://secret/n8n/core#encryption_key"
  N8N_HOST: "n8n.example.com"
  N8N_PORT: "5678"
  N8N_PROTOCOL: "https"
  QUEUE_BULL_REDIS_PASSWORD: "vault://secret/n8n/redis#password"
`
	// As community-charts renders examples/helm/community-charts/values.yaml.
	community := `apiVersion: v1
kind: Secret
metadata:
  name: n8n-references
stringData:
  N8N_ENCRYPTION_KEY: file:encryption_key
  postgres-password: file:db_password
  redis-password: file:redis_password
type: Opaque
`
	deploy := func(command string) string {
		return `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: n8n, namespace: n8n}
spec:
  template:
    spec:
      containers:
        - name: n8n
          image: n8nio/n8n:2.40.0` + command + `
          envFrom:
            - secretRef: {name: n8n}
`
	}
	withCommand := "\n          command: [\"tini\", \"--\", \"/opt/n8n-secrets/n8n-secrets\", \"--\", \"/docker-entrypoint.sh\"]"
	runPatterns(t, []patternCase{
		{name: "n8n-hosting's rendered Secret of references", files: map[string]string{"rendered.yaml": hosting}, not: []expectation{"SECRET_IN_MANIFEST"}},
		{name: "community-charts' n8n-references", files: map[string]string{"rendered.yaml": community}, not: []expectation{"SECRET_IN_MANIFEST"}},
		{name: "twin: one password written out", files: map[string]string{"rendered.yaml": strings.Replace(hosting, `"vault://secret/n8n/redis#password"`, "CANARY-redis", 1)},
			want: []expectation{"SECRET_IN_MANIFEST/warning@rendered.yaml:7"}},
		{name: "twin: base64 data of a password", files: map[string]string{"rendered.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: n8n}\ndata:\n  redis-password: Q0FOQVJZLXJlZGlz\n"},
			want: []expectation{"SECRET_IN_MANIFEST/warning@rendered.yaml:4"}},
		{name: "base64 data of a reference", files: map[string]string{"rendered.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: n8n}\ndata:\n  redis-password: dmF1bHQ6Ly9zZWNyZXQvbjhuL3JlZGlzI3Bhc3N3b3Jk\n"},
			not: []expectation{"SECRET_IN_MANIFEST"}},
		{name: "the references reach n8n behind n8n-secrets", files: map[string]string{"rendered.yaml": hosting + deploy(withCommand)},
			not: []expectation{"SECRET_IN_MANIFEST", "REFERENCE_WITHOUT_INJECTOR", "BAD_REFERENCE", "KEY_MISSING"}},
		{name: "twin: they reach n8n's own entrypoint", files: map[string]string{"rendered.yaml": hosting + deploy("")},
			want: []expectation{"REFERENCE_WITHOUT_INJECTOR/error"}},
		{name: "a scheme typo in the Secret", files: map[string]string{"rendered.yaml": strings.Replace(hosting, `"vault://secret/n8n/redis#password"`, `"vualt://secret/CANARY"`, 1) + deploy(withCommand)},
			want: []expectation{"BAD_REFERENCE/error@rendered.yaml:13"}, not: []expectation{"SECRET_IN_MANIFEST", "LITERAL_SECRET"}},
	})
}

// TestSchemesFollowInject: the audit takes a value for a reference, a
// malformed one or a literal exactly as inject's scanner does, for the
// stores' schemes that inject does not know yet (azkv://, gcpsm://,
// awsssm://) as for those it knows: nothing about schemes is written in
// the audit, which follows inject when the stores declare their schemes.
func TestSchemesFollowInject(t *testing.T) {
	for _, value := range []string{"vault://secret/n8n/core#k", "awssm://prod/n8n#k", "file:n8n_key", "azkv://n8n-vault/key",
		"gcpsm://projects/p/secrets/key", "awsssm:///n8n/key", "VAULT://secret/n8n/core#k", "x${azkv://n8n-vault/key}", "x${gcpsm://p/key}"} {
		dir := writeTree(t, map[string]string{"compose.yaml": "services:\n  n8n:\n    image: n8nio/n8n:2.40.0\n    environment:\n      N8N_ENCRYPTION_KEY: '" + strings.ReplaceAll(value, "$", "$$") + "'\n"})
		codes := codesIn(run(t, dir))
		sc := inject.Scan([]string{"N8N_ENCRYPTION_KEY=" + value}, inject.ScanOptions{Stores: testStores})
		bad, resolved := len(sc.Errs) > 0, len(sc.Requests) > 0
		if got := len(codes[CodeBadReference]) > 0; got != bad {
			t.Errorf("%s: BAD_REFERENCE %v; inject.Scan refuses it: %v", value, got, bad)
		}
		meant := testStores.IsReference(value) || testStores.IsTemplate(value)
		if got := len(codes[CodeReferenceWithoutInjector]) > 0; got != (resolved || meant) {
			t.Errorf("%s: the audit takes it for a reference: %v; inject.Scan resolves it: %v, reads it as one: %v", value, got, resolved, meant)
		}
		if got := len(codes[CodeLiteralSecret]) > 0; got != (!bad && !resolved) {
			t.Errorf("%s: LITERAL_SECRET %v; inject.Scan: refused %v, resolved %v", value, got, bad, resolved)
		}
	}
}

// TestValuesNoStartReads: a ConfigMap no container takes as its
// environment, or a Dockerfile's ARG, is never read by the start: a
// reference-shaped value there (Kafka Connect's ${vault:…}) is no
// BAD_REFERENCE; the container that gets it is judged.
func TestValuesNoStartReads(t *testing.T) {
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: connect}\ndata:\n  connection.password: \"${vault:secret/kafka/CANARY:password}\"\n  N8N_CUSTOM: \"vualt://secret/CANARY\"\n"
	runPatterns(t, []patternCase{
		{name: "a ConfigMap of another program's configuration", files: map[string]string{"k8s.yaml": cm},
			not: []expectation{"BAD_REFERENCE", "LITERAL_SECRET"}},
		{name: "twin: a container takes it as its environment", files: map[string]string{"k8s.yaml": cm + "---\n" +
			strings.Replace(podWith(""), "      env:\n", "      envFrom:\n        - configMapRef: {name: connect}\n      env:\n", 1)},
			want: []expectation{"BAD_REFERENCE/error@k8s.yaml:5", "BAD_REFERENCE/error@k8s.yaml:6"}},
		{name: "but a URL's password written beside a reference there is", files: map[string]string{"k8s.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: db}\ndata:\n  DB_URL: \"postgres://n8n:CANARY-pw@db/${vault://secret/n8n/db#name}\"\n"},
			want: []expectation{"LITERAL_SECRET/error@k8s.yaml:5"}},
		{name: "a Dockerfile ARG", files: map[string]string{"Dockerfile": "FROM node:22\nARG SOURCE=vualt://not/ours\n"},
			not: []expectation{"BAD_REFERENCE"}},
		{name: "twin: an ENV of the image", files: map[string]string{"Dockerfile": "FROM node:22\nENV SOURCE=vualt://not/ours\n"},
			want: []expectation{"BAD_REFERENCE/error@Dockerfile:2"}},
	})
}

// TestCommandLineReferences: another tool's reference on a command line
// is no password written out (SECRET_IN_COMMAND is for literals).
func TestCommandLineReferences(t *testing.T) {
	redis := func(pass string) map[string]string {
		return map[string]string{"compose.yaml": "services:\n  redis:\n    image: redis:7\n    command: redis-server --requirepass " + pass + "\n"}
	}
	runPatterns(t, []patternCase{
		{name: "op:// after --requirepass", files: redis("op://CANARY-vault/redis/password"), not: []expectation{"SECRET_IN_COMMAND"}},
		{name: "twin: a password", files: redis("CANARY-redis-pass"), want: []expectation{"SECRET_IN_COMMAND/error@compose.yaml:4"}},
	})
}
