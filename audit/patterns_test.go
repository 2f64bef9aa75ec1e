package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writeTree writes files (relative path → content) under a new temporary
// directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// expectation is "CODE", "CODE/severity", "CODE/severity@file" or
// "CODE/severity@file:line", file relative to the audited directory.
type expectation string

func (e expectation) matches(dir string, f Finding) bool {
	s := string(e)
	code, rest, _ := strings.Cut(s, "/")
	if f.Code != code {
		return false
	}
	if rest == "" {
		return true
	}
	sev, where, hasWhere := strings.Cut(rest, "@")
	if sev != "" && f.Severity.String() != sev {
		return false
	}
	if !hasWhere {
		return true
	}
	file, line, hasLine := strings.Cut(where, ":")
	rel, err := filepath.Rel(dir, f.File)
	if err != nil || filepath.ToSlash(rel) != file {
		return false
	}
	if hasLine {
		n, _ := strconv.Atoi(line)
		return f.Line == n
	}
	return true
}

// patternCase is one pattern of the issue: the files, what must be found,
// and what must not (a code alone: at no severity; CODE/severity: not at
// that severity).
type patternCase struct {
	name  string
	files map[string]string
	want  []expectation
	not   []expectation
}

func runPatterns(t *testing.T, cases []patternCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeTree(t, c.files)
			rep, err := Run(context.Background(), testStores, []string{dir})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				found := false
				for _, f := range rep.Findings {
					if f.Suppressed == nil && w.matches(dir, f) {
						found = true
					}
				}
				if !found {
					t.Errorf("want %s; got %v", w, summaryIn(dir, rep))
				}
			}
			for _, n := range c.not {
				for _, f := range rep.Findings {
					if f.Suppressed == nil && n.matches(dir, f) {
						t.Errorf("unwanted %s: %s", n, f.Message)
					}
				}
			}
			for name, out := range outputs(t, rep) {
				if strings.Contains(out, canary) {
					t.Errorf("%s output holds a planted secret value", name)
				}
			}
		})
	}
}

func summaryIn(dir string, rep *Report) []string {
	var out []string
	for _, f := range rep.Findings {
		if f.File == "" {
			continue
		}
		rel, _ := filepath.Rel(dir, f.File)
		out = append(out, fmt.Sprintf("%s/%s@%s:%d %s", f.Code, f.Severity, filepath.ToSlash(rel), f.Line, f.Message))
	}
	return out
}

// The key and queue-mode checks of a cluster, written once.
const queueEnv = `      EXECUTIONS_MODE: queue
      DB_TYPE: postgresdb
      QUEUE_BULL_REDIS_HOST: redis
`

// TestWhatIsANode: an n8n node is decided from what runs, never from
// variables: task runners, proxies and autoscalers given N8N_* variables
// are not nodes; n8n behind sh -c, wrappers and n8n-secrets is.
func TestWhatIsANode(t *testing.T) {
	runPatterns(t, []patternCase{
		{
			name: "task runner sidecar is no node",
			files: map[string]string{"compose.yaml": `services:
  n8n:
    image: n8nio/n8n:2.40.0
    environment:
      N8N_ENCRYPTION_KEY_FILE: /run/secrets/key
      N8N_RUNNERS_MODE: external
  n8n-runner:
    image: n8nio/runners:2.40.0
    environment:
      N8N_RUNNERS_AUTH_TOKEN_FILE: /run/secrets/runner_token
      N8N_RUNNERS_TASK_BROKER_URI: http://n8n:5679
`},
			not: []expectation{"KEY_MISSING", "EXECUTIONS_MODE_MISMATCH", "IMAGE_UNPINNED"},
		},
		{
			name: "twin: the same container running n8n worker is a node",
			files: map[string]string{"compose.yaml": `services:
  n8n:
    image: n8nio/n8n:2.40.0
    environment:
      N8N_ENCRYPTION_KEY_FILE: /run/secrets/key
  n8n-runner:
    image: n8nio/n8n:2.40.0
    command: worker
    environment:
      N8N_RUNNERS_AUTH_TOKEN_FILE: /run/secrets/runner_token
`},
			want: []expectation{"KEY_MISSING/error@compose.yaml:6", "QUEUE_MODE_REQUIRED/error@compose.yaml:6"},
		},
		{
			name: "a proxy and an autoscaler with N8N_ variables are no nodes",
			files: map[string]string{"compose.yaml": `services:
  caddy:
    image: caddy:2-alpine
    environment:
      - N8N_HOSTNAME=${N8N_HOSTNAME:-":8001"}
  autoscaler:
    image: example/n8n-autoscaler:1.0
    environment:
      N8N_WORKER_SERVICE_NAME: n8n-worker
      N8N_BLOCK_ENV_ACCESS_IN_NODE: "false"
`},
			want: []expectation{"NO_N8N_SERVICE/info"},
			not:  []expectation{"KEY_MISSING", "ENV_ACCESS_ALLOWED", "EXECUTIONS_MODE_MISMATCH"},
		},
		{
			name: "twin: n8n's image with the same variables is a node",
			files: map[string]string{"compose.yaml": `services:
  caddy:
    image: docker.n8n.io/n8nio/n8n:2.40.0
    environment:
      N8N_WORKER_SERVICE_NAME: n8n-worker
      N8N_BLOCK_ENV_ACCESS_IN_NODE: "false"
`},
			want: []expectation{"KEY_MISSING/warning", "ENV_ACCESS_ALLOWED/warning@compose.yaml:6"},
			not:  []expectation{"NO_N8N_SERVICE"},
		},
		{
			name: "a lone main beside a runner is no cluster",
			files: map[string]string{"compose.yaml": `services:
  n8n:
    image: n8nio/n8n:2.40.0
  n8n-runner:
    image: n8nio/runners:2.40.0
`},
			want: []expectation{"KEY_MISSING/warning@compose.yaml:2"},
			not:  []expectation{"KEY_MISSING/error"},
		},
		{
			name: "twin: a main beside a worker is a cluster",
			files: map[string]string{"compose.yaml": `services:
  n8n:
    image: n8nio/n8n:2.40.0
    environment:
` + queueEnv + `  n8n-worker:
    image: n8nio/n8n:2.40.0
    command: worker
    environment:
` + queueEnv},
			want: []expectation{"KEY_MISSING/error@compose.yaml:2", "KEY_MISSING/error@compose.yaml:8"},
		},
		{
			name: "twin: one main with three replicas is a cluster",
			files: map[string]string{"k8s.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: n8n}
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: n8n
          image: n8nio/n8n:2.40.0
`},
			want: []expectation{"KEY_MISSING/error@k8s.yaml:9"},
		},
		{
			name: "a role behind sh -c and Kubernetes args",
			files: map[string]string{"compose.yaml": `services:
  n8n-worker:
    image: n8nio/n8n:2.40.0
    command: /bin/sh -c "sleep 5; n8n worker"
    environment:
      N8N_ENCRYPTION_KEY_FILE: /run/secrets/key
`, "k8s.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: n8n-webhook}
spec:
  template:
    spec:
      containers:
        - name: n8n
          image: node:22-alpine
          command: ["/bin/sh"]
          args: ["-c", "npm i -g n8n@2.40.0 && exec su-exec node n8n webhook"]
          env:
            - name: N8N_ENCRYPTION_KEY_FILE
              value: /run/secrets/key
`},
			want: []expectation{"QUEUE_MODE_REQUIRED/error@compose.yaml:2", "QUEUE_MODE_REQUIRED/error@k8s.yaml:8"},
		},
		{
			name: "twin: a shell that runs no n8n on n8n's image is no node",
			files: map[string]string{"k8s.yaml": `apiVersion: batch/v1
kind: Job
metadata: {name: fix-permissions}
spec:
  template:
    spec:
      containers:
        - name: chown
          image: n8nio/n8n:2.40.0
          command: ["/bin/sh"]
          args: ["-c", "chown -R 1000:1000 /home/node/.n8n"]
`},
			want: []expectation{"NO_N8N_SERVICE/info"},
			not:  []expectation{"KEY_MISSING", "QUEUE_MODE_REQUIRED"},
		},
		{
			name: "an image built FROM n8n's in the files is n8n",
			files: map[string]string{"compose.yaml": `services:
  worker:
    build: .
    command: worker
`, "Dockerfile": "FROM n8nio/n8n:2.40.0\nRUN npm i -g n8n-nodes-example\n"},
			want: []expectation{"KEY_MISSING/error@compose.yaml:2", "QUEUE_MODE_REQUIRED/error"},
		},
		{
			name: "twin: an image built FROM another base is not",
			files: map[string]string{"compose.yaml": `services:
  worker:
    build: .
    command: worker
`, "Dockerfile": "FROM node:22-alpine\nRUN npm i -g example\n"},
			not: []expectation{"KEY_MISSING", "QUEUE_MODE_REQUIRED"},
		},
	})
}

// TestComposeInterpolation: values follow Compose's interpolation from
// .env into services and are judged by the variable they land in; a .env
// is judged only for what a service receives; templates are skipped.
func TestComposeInterpolation(t *testing.T) {
	const worker = `services:
  n8n:
    image: docker.n8n.io/n8nio/n8n:2.40.0
    environment:
      - N8N_ENCRYPTION_KEY=${ENCRYPTION_KEY}
      - DB_POSTGRESDB_PASSWORD=${POSTGRES_PASSWORD}
`
	runPatterns(t, []patternCase{
		{
			name:  "the key in .env that Compose substitutes",
			files: map[string]string{"docker-compose.yml": worker, ".env": "ENCRYPTION_KEY=CANARY-key-in-dotenv\nPOSTGRES_PASSWORD=${OTHER}\n"},
			want:  []expectation{"LITERAL_SECRET/error@.env:1"},
			not:   []expectation{"LITERAL_SECRET@.env:2", "LITERAL_SECRET@docker-compose.yml"},
		},
		{
			name:  "twin: the deployer's environment gives it",
			files: map[string]string{"docker-compose.yml": worker},
			not:   []expectation{"LITERAL_SECRET"},
		},
		{
			name:  "twin: .env holds a reference",
			files: map[string]string{"docker-compose.yml": worker, ".env": "ENCRYPTION_KEY=vault://secret/n8n/core#key\n"},
			want:  []expectation{"REFERENCE_WITHOUT_INJECTOR/error"},
			not:   []expectation{"LITERAL_SECRET"},
		},
		{
			name: "a .env line that only refers to another variable",
			files: map[string]string{"compose.yaml": `services:
  n8n:
    image: n8nio/n8n:2.40.0
    env_file: [n8n.env]
`, "n8n.env": "N8N_ENCRYPTION_KEY=${N8N_KEY}\nDB_POSTGRESDB_PASSWORD=${POSTGRES_PASSWORD}\n"},
			not: []expectation{"LITERAL_SECRET"},
		},
		{
			name: "twin: the variable it refers to is written above",
			files: map[string]string{"compose.yaml": `services:
  n8n:
    image: n8nio/n8n:2.40.0
    env_file: [n8n.env]
`, "n8n.env": "STRONG=CANARY-strong\nN8N_ENCRYPTION_KEY=${STRONG}\n"},
			want: []expectation{"LITERAL_SECRET/error@n8n.env:1"},
			not:  []expectation{"LITERAL_SECRET@n8n.env:2"},
		},
		{
			name: "a .env variable no service receives is not judged",
			files: map[string]string{"compose.yaml": `services:
  n8n:
    image: n8nio/n8n:2.40.0
    environment:
      N8N_HOST: ${N8N_HOST}
`, ".env": "N8N_HOST=n8n.example.com\nN8N_BLOCK_ENV_ACCESS_IN_NODE=false\nUNUSED_PASSWORD=CANARY-unused\n"},
			not: []expectation{"ENV_ACCESS_ALLOWED", "LITERAL_SECRET"},
		},
		{
			name: "twin: a service passes it",
			files: map[string]string{"compose.yaml": `services:
  n8n:
    image: n8nio/n8n:2.40.0
    environment:
      - N8N_BLOCK_ENV_ACCESS_IN_NODE
`, ".env": "N8N_HOST=n8n.example.com\nN8N_BLOCK_ENV_ACCESS_IN_NODE=false\n"},
			want: []expectation{"ENV_ACCESS_ALLOWED/warning@.env:2"},
		},
		{
			name: "templates of .env are skipped",
			files: map[string]string{
				".env.example": "N8N_ENCRYPTION_KEY=CANARY-example\n", ".env.sample": "DB_POSTGRESDB_PASSWORD=CANARY-sample\n",
				".env.template": "QUEUE_BULL_REDIS_PASSWORD=CANARY-template\n", ".env.dist": "N8N_ENCRYPTION_KEY=CANARY-dist\n",
				"n8n.env.example": "N8N_ENCRYPTION_KEY=CANARY-example2\n",
			},
			not: []expectation{"LITERAL_SECRET"},
		},
		{
			name:  "twin: the same line in a .env",
			files: map[string]string{".env": "N8N_ENCRYPTION_KEY=CANARY-dotenv\n"},
			want:  []expectation{"LITERAL_SECRET/error@.env:1"},
		},
		{
			name:  "a default in the file is a warning",
			files: map[string]string{"compose.yaml": "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-CANARY-default}\n"},
			want:  []expectation{"LITERAL_SECRET/warning@compose.yaml:5"},
			not:   []expectation{"LITERAL_SECRET/error"},
		},
	})
}

// TestImageTags: a tag the deployer provides is theirs; floating tags and
// defaults are flagged where their text is written.
func TestImageTags(t *testing.T) {
	svc := func(image string) string {
		return "services:\n  n8n:\n    image: " + image + "\n    environment:\n      N8N_ENCRYPTION_KEY_FILE: /run/secrets/key\n"
	}
	runPatterns(t, []patternCase{
		{name: "${N8N_VERSION} is the deployer's", files: map[string]string{"compose.yaml": svc("n8nio/n8n:${N8N_VERSION}")}, not: []expectation{"IMAGE_UNPINNED"}},
		{name: "twin: .env sets it to stable", files: map[string]string{"compose.yaml": svc("n8nio/n8n:${N8N_VERSION}"), ".env": "N8N_VERSION=stable\n"},
			want: []expectation{"IMAGE_UNPINNED/warning@.env:1"}},
		{name: "twin: .env pins it", files: map[string]string{"compose.yaml": svc("n8nio/n8n:${N8N_VERSION}"), ".env": "N8N_VERSION=2.40.0\n"},
			not: []expectation{"IMAGE_UNPINNED"}},
		{name: "a default of latest", files: map[string]string{"compose.yaml": svc("n8nio/n8n:${N8N_VERSION:-latest}")}, want: []expectation{"IMAGE_UNPINNED/warning@compose.yaml:3"}},
		{name: "next", files: map[string]string{"compose.yaml": svc("n8nio/n8n:next")}, want: []expectation{"IMAGE_UNPINNED/warning@compose.yaml:3"}},
		{name: "beta", files: map[string]string{"compose.yaml": svc("docker.n8n.io/n8nio/n8n:beta")}, want: []expectation{"IMAGE_UNPINNED/warning@compose.yaml:3"}},
		{name: "stable", files: map[string]string{"compose.yaml": svc("n8nio/n8n:stable")}, want: []expectation{"IMAGE_UNPINNED/warning@compose.yaml:3"}},
		{name: "twin: a release", files: map[string]string{"compose.yaml": svc("n8nio/n8n:2.40.0")}, not: []expectation{"IMAGE_UNPINNED"}},
		{name: "a Dockerfile's ARG without default is the builder's", files: map[string]string{"Dockerfile": "ARG N8N_VERSION\nFROM n8nio/n8n:${N8N_VERSION}\n"},
			not: []expectation{"IMAGE_UNPINNED"}},
		{name: "twin: an ARG default of latest", files: map[string]string{"Dockerfile": "ARG N8N_VERSION=latest\nFROM n8nio/n8n:${N8N_VERSION}\n"},
			want: []expectation{"IMAGE_UNPINNED/warning@Dockerfile:1"}},
	})
}

// TestUnknownIsNotUnset: an envFrom or env_file the files do not resolve
// makes a value unknown; one in another file of the same namespace is
// resolved.
func TestUnknownIsNotUnset(t *testing.T) {
	worker := func(envFrom string) string {
		return `apiVersion: apps/v1
kind: Deployment
metadata: {name: n8n-worker, namespace: n8n}
spec:
  template:
    spec:
      containers:
        - name: n8n-worker
          image: n8nio/n8n:2.40.0
          args: [worker]
          envFrom:
            - configMapRef: {name: ` + envFrom + `}
          env:
            - name: N8N_ENCRYPTION_KEY
              valueFrom: {secretKeyRef: {name: n8n, key: key}}
`
	}
	cm := func(mode string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n8n-env, namespace: n8n}\ndata:\n  EXECUTIONS_MODE: " + mode + "\n  DB_TYPE: postgresdb\n  QUEUE_BULL_REDIS_HOST: redis\n"
	}
	runPatterns(t, []patternCase{
		{name: "the ConfigMap is in another file", files: map[string]string{"worker.yaml": worker("n8n-env"), "config/env.yaml": cm("queue")},
			not: []expectation{"QUEUE_MODE_REQUIRED", "QUEUE_MODE_SQLITE", "QUEUE_MODE_NO_REDIS"}},
		{name: "twin: that ConfigMap says regular", files: map[string]string{"worker.yaml": worker("n8n-env"), "config/env.yaml": cm("regular")},
			want: []expectation{"QUEUE_MODE_REQUIRED/error@config/env.yaml:5"}},
		{name: "the ConfigMap is not in the files", files: map[string]string{"worker.yaml": worker("elsewhere")},
			not: []expectation{"QUEUE_MODE_REQUIRED", "QUEUE_MODE_SQLITE", "QUEUE_MODE_NO_REDIS"}},
		{name: "a worker's env_file that is not committed", files: map[string]string{"compose.yaml": `services:
  n8n-worker:
    image: n8nio/n8n:2.40.0
    command: worker
    env_file: .env
`}, want: []expectation{"NOT_CHECKED_ENV_FILE/info"}, not: []expectation{"KEY_MISSING", "QUEUE_MODE_REQUIRED"}},
		{name: "twin: the env_file is there without the key", files: map[string]string{"compose.yaml": `services:
  n8n-worker:
    image: n8nio/n8n:2.40.0
    command: worker
    env_file: .env
`, ".env": "EXECUTIONS_MODE=queue\nDB_TYPE=postgresdb\nQUEUE_BULL_REDIS_HOST=redis\n"}, want: []expectation{"KEY_MISSING/error@compose.yaml:2"}, not: []expectation{"QUEUE_MODE_REQUIRED"}},
	})
}

// TestGroupsAcrossFiles: the nodes of one namespace are one deployment,
// whichever files they are written in.
func TestGroupsAcrossFiles(t *testing.T) {
	deploy := func(name, args, secret string) string {
		return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `, namespace: n8n}
spec:
  template:
    spec:
      containers:
        - name: n8n
          image: n8nio/n8n:2.40.0
          args: [` + args + `]
          env:
            - {name: EXECUTIONS_MODE, value: queue}
            - {name: DB_TYPE, value: postgresdb}
            - {name: QUEUE_BULL_REDIS_HOST, value: redis}
            - name: N8N_ENCRYPTION_KEY
              valueFrom: {secretKeyRef: {name: ` + secret + `, key: key}}
`
	}
	secret := func(name, value string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: n8n}\nstringData:\n  key: " + value + "\n"
	}
	runPatterns(t, []patternCase{
		{name: "two Secrets not in the files", files: map[string]string{"main.yaml": deploy("n8n", "start", "n8n-main"), "worker.yaml": deploy("n8n-worker", "worker", "n8n-worker")},
			want: []expectation{"KEY_SOURCE_MISMATCH/warning@worker.yaml:15"}},
		{name: "two Secrets that hold different keys", files: map[string]string{
			"main.yaml": deploy("n8n", "start", "n8n-main"), "worker.yaml": deploy("n8n-worker", "worker", "n8n-worker"),
			"secrets/main.yaml": secret("n8n-main", "CANARY-one"), "secrets/worker.yaml": secret("n8n-worker", "CANARY-two")},
			want: []expectation{"KEY_SOURCE_MISMATCH/error@worker.yaml:15"}},
		{name: "twin: one Secret", files: map[string]string{"main.yaml": deploy("n8n", "start", "n8n"), "worker.yaml": deploy("n8n-worker", "worker", "n8n")},
			not: []expectation{"KEY_SOURCE_MISMATCH"}},
		{name: "twin: other namespaces are other deployments", files: map[string]string{"main.yaml": deploy("n8n", "start", "n8n-main"),
			"worker.yaml": strings.Replace(deploy("n8n-worker", "worker", "n8n-worker"), "namespace: n8n", "namespace: staging", 1)},
			not: []expectation{"KEY_SOURCE_MISMATCH"}},
	})
}

// TestCommandLinePasswords: a password on a command line, also inside sh
// -c, is a finding; one the deployer or the container's shell provides is
// not.
func TestCommandLinePasswords(t *testing.T) {
	runPatterns(t, []patternCase{
		{name: "redis-server --requirepass", files: map[string]string{"compose.yaml": "services:\n  redis:\n    image: redis:7\n    command: redis-server --requirepass CANARY-pass\n"},
			want: []expectation{"SECRET_IN_COMMAND/error@compose.yaml:4"}},
		{name: "from .env", files: map[string]string{"compose.yaml": "services:\n  redis:\n    image: redis:7\n    command: redis-server --requirepass ${REDIS_PASSWORD}\n", ".env": "REDIS_PASSWORD=CANARY-pass\n"},
			want: []expectation{"SECRET_IN_COMMAND/error@.env:1"}},
		{name: "in a Kubernetes shell script", files: map[string]string{"k8s.yaml": `apiVersion: v1
kind: Pod
metadata: {name: redis}
spec:
  containers:
    - name: redis
      image: redis:7
      command: ["sh", "-c"]
      args: ["redis-server --port 6379 --requirepass CANARY-pass"]
`}, want: []expectation{"SECRET_IN_COMMAND/error@k8s.yaml:9"}},
		{name: "twin: the deployer's", files: map[string]string{"compose.yaml": "services:\n  redis:\n    image: redis:7\n    command: redis-server --requirepass ${REDIS_PASSWORD}\n"},
			not: []expectation{"SECRET_IN_COMMAND"}},
		{name: "twin: the container's shell", files: map[string]string{"compose.yaml": "services:\n  redis:\n    image: redis:7\n    command: [sh, -c, 'redis-server --requirepass \"$$REDIS_PASSWORD\"']\n"},
			not: []expectation{"SECRET_IN_COMMAND"}},
	})
}

// TestSchemeTypos: the audit reports what the injector's start would,
// with the injector's own parser: a misspelled scheme in any variable is
// BAD_REFERENCE, never LITERAL_SECRET.
func TestSchemeTypos(t *testing.T) {
	svc := func(name, value string) string {
		return "services:\n  n8n:\n    image: registry.example.com/n8n-secrets/n8n:2.40.0\n    environment:\n      N8N_ENCRYPTION_KEY_FILE: /run/secrets/key\n      " + name + ": " + value + "\n"
	}
	runPatterns(t, []patternCase{
		{name: "a name that does not look secret", files: map[string]string{"compose.yaml": svc("WEBHOOK_URL", "vualt://secret/n8n/url")},
			want: []expectation{"BAD_REFERENCE/error@compose.yaml:6"}},
		{name: "a secret's name", files: map[string]string{"compose.yaml": svc("DB_POSTGRESDB_PASSWORD", "vualt://secret/n8n/db#password")},
			want: []expectation{"BAD_REFERENCE/error@compose.yaml:6"}, not: []expectation{"LITERAL_SECRET"}},
		{name: "a reference in NAME_FILE", files: map[string]string{"compose.yaml": svc("DB_POSTGRESDB_PASSWORD_FILE", "vault://secret/n8n/db#password")},
			want: []expectation{"BAD_REFERENCE/error@compose.yaml:6"}},
		{name: "twin: spelled right", files: map[string]string{"compose.yaml": svc("DB_POSTGRESDB_PASSWORD", "vault://secret/n8n/db#password")},
			not: []expectation{"BAD_REFERENCE", "LITERAL_SECRET"}},
		{name: "twin: an ordinary URL", files: map[string]string{"compose.yaml": svc("WEBHOOK_URL", "https://n8n.example.com/")},
			not: []expectation{"BAD_REFERENCE"}},
	})
}

// TestHelmTemplates: unrendered templates are skipped, with one info.
func TestHelmTemplates(t *testing.T) {
	tmpl := "{{- if .Values.worker }}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n{{- end }}\n"
	rep := run(t, writeTree(t, map[string]string{
		"charts/n8n/Chart.yaml": "apiVersion: v2\nname: n8n\nversion: 1.0.0\n", "charts/n8n/values.yaml": "image: {tag: stable}\n",
		"charts/n8n/templates/worker.yaml": tmpl, "charts/n8n/templates/main.yaml": tmpl, "charts/n8n/templates/sub/svc.yaml": "kind: Service\n",
		"loose/template.yaml": tmpl,
	}))
	codes := codesIn(rep)
	if len(codes[CodeParseError]) != 0 {
		t.Errorf("templates reported as parse errors: %v", summary(rep))
	}
	if n := len(codes[CodeHelmTemplateNotChecked]); n != 1 || !strings.Contains(codes[CodeHelmTemplateNotChecked][0].Message, "4 files") {
		t.Errorf("want one NOT_CHECKED_HELM_TEMPLATE for 4 files, got %v", codes[CodeHelmTemplateNotChecked])
	}
	// The twin: a YAML file that does not parse and holds no template.
	rep = run(t, writeTree(t, map[string]string{"broken.yaml": "a: [1, 2\n"}))
	if len(codesIn(rep)[CodeParseError]) != 1 {
		t.Errorf("a broken YAML file: want PARSE_ERROR, got %v", summary(rep))
	}
}

// TestN8NSecretVariables: n8n's other secret variables, as its own
// configuration declares them, are secrets whatever their names look like.
func TestN8NSecretVariables(t *testing.T) {
	pod := func(env string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: n8n}\nspec:\n  containers:\n    - name: n8n\n      image: n8nio/n8n:2.40.0\n      env:\n" + env
	}
	runPatterns(t, []patternCase{
		{name: "N8N_LICENSE_ACTIVATION_KEY in a literal value", files: map[string]string{"pod.yaml": pod("        - {name: N8N_ENCRYPTION_KEY_FILE, value: /run/secrets/key}\n        - {name: N8N_LICENSE_ACTIVATION_KEY, value: CANARY-license}\n")},
			want: []expectation{"LITERAL_SECRET/error@pod.yaml:10"}},
		{name: "twin: from a Secret", files: map[string]string{"pod.yaml": pod("        - {name: N8N_ENCRYPTION_KEY_FILE, value: /run/secrets/key}\n        - name: N8N_LICENSE_ACTIVATION_KEY\n          valueFrom: {secretKeyRef: {name: n8n, key: license}}\n")},
			not: []expectation{"LITERAL_SECRET"}},
		{name: "twin: N8N_SSL_KEY is a path", files: map[string]string{"pod.yaml": pod("        - {name: N8N_ENCRYPTION_KEY_FILE, value: /run/secrets/key}\n        - {name: N8N_SSL_KEY, value: /certs/tls.key}\n        - {name: N8N_DIAGNOSTICS_POSTHOG_API_KEY, value: phc_public}\n")},
			not: []expectation{"LITERAL_SECRET"}},
	})
}

// TestComposeProjects: the files Compose reads together (compose.yaml and
// its override, or files sharing a name:) are one deployment; other
// Compose files of a directory are deployments of their own.
func TestComposeProjects(t *testing.T) {
	main := "services:\n  n8n:\n    image: n8nio/n8n:2.40.0\n    environment:\n      N8N_ENCRYPTION_KEY_FILE: /run/secrets/main_key\n" + queueEnv
	worker := func(name string) string {
		head := ""
		if name != "" {
			head = "name: " + name + "\n"
		}
		return head + "services:\n  n8n-worker:\n    image: n8nio/n8n:2.40.0\n    command: worker\n    environment:\n      N8N_ENCRYPTION_KEY_FILE: /run/secrets/worker_key\n" + queueEnv
	}
	runPatterns(t, []patternCase{
		{name: "compose.yaml and its override", files: map[string]string{"compose.yaml": main, "compose.override.yaml": worker("")},
			want: []expectation{"KEY_SOURCE_MISMATCH/warning@compose.override.yaml:6"}},
		{name: "two files that share a project name", files: map[string]string{"main.yaml": "name: n8n\n" + main, "worker.yaml": worker("n8n")},
			want: []expectation{"KEY_SOURCE_MISMATCH/warning@worker.yaml:7"}},
		{name: "compose.yaml with a name and its override without", files: map[string]string{"compose.yaml": "name: n8n\n" + main, "compose.override.yaml": worker("")},
			want: []expectation{"KEY_SOURCE_MISMATCH/warning@compose.override.yaml:6"}},
		{name: "twin: two unrelated files of a directory", files: map[string]string{"main.yaml": main, "worker.yaml": worker("")},
			not: []expectation{"KEY_SOURCE_MISMATCH"}},
	})
}

// TestParseDotenv reads a .env as Compose does.
func TestParseDotenv(t *testing.T) {
	data := "# comment\nexport A=1\nB='${A} kept' # single quotes: as written\nC=\"x\\ty ${A}\" \nD=${A}-${MISSING:-d}\nE=plain # a comment\nF\n9BAD=x\nA=2\nG=${UNSET}\n  H = spaced\n"
	entries := parseDotenv(".env", []byte(data), nil)
	got := map[string]envEntry{}
	for _, e := range entries {
		got[e.name] = e
	}
	want := map[string]struct {
		value, host string
		line        int
	}{
		"A": {"2", "", 9}, "B": {"${A} kept", "", 3}, "C": {"x\ty 1", "", 4}, "D": {"1-d", "", 5},
		"E": {"plain", "", 6}, "F": {"", "${F}", 7}, "G": {"", "${UNSET}", 10}, "H": {"spaced", "", 11},
	}
	if len(got) != len(want) {
		t.Errorf("entries %v", entries)
	}
	for name, w := range want {
		e, ok := got[name]
		if !ok || e.value != w.value || e.host != w.host || e.pos.Line != w.line {
			t.Errorf("%s = %+v, want %+v", name, e, w)
		}
	}
}

// TestKubernetesDependentVariables: a value that only refers to another
// variable of the container ($(NAME)) takes that variable's source.
func TestKubernetesDependentVariables(t *testing.T) {
	pod := func(first string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: n8n}\nspec:\n  containers:\n    - name: n8n\n      image: n8nio/n8n:2.40.0\n      env:\n        - {name: N8N_ENCRYPTION_KEY_FILE, value: /run/secrets/key}\n" + first +
			"        - {name: DB_POSTGRESDB_PASSWORD, value: $(PGV)}\n"
	}
	runPatterns(t, []patternCase{
		{name: "$(NAME) of a Secret's value", files: map[string]string{"pod.yaml": pod("        - name: PGV\n          valueFrom: {secretKeyRef: {name: pg, key: password}}\n")},
			not: []expectation{"LITERAL_SECRET"}},
		{name: "twin: $(NAME) of a literal", files: map[string]string{"pod.yaml": pod("        - {name: PGV, value: CANARY-pg}\n")},
			want: []expectation{"LITERAL_SECRET/error@pod.yaml:10"}, not: []expectation{"LITERAL_SECRET@pod.yaml:11"}},
	})
}
