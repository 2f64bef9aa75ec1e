package audit

import (
	"fmt"
	"strings"
)

// Severity ranks a finding.
type Severity int

// The severities, from least to most pressing.
const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "info"
}

// ParseSeverity reads "error", "warning" or "info".
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "error":
		return Error, nil
	case "warning":
		return Warning, nil
	case "info":
		return Info, nil
	}
	return Info, fmt.Errorf("audit: severity must be error, warning or info")
}

// MarshalText writes the severity's name, for JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Finding is one problem found in one place. It never holds a secret value.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	// File is the path as given to [Run] (or found under a directory given
	// to it); empty for what concerns the run as a whole.
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`   // 1-based; 0 when unknown
	Column int    `json:"column,omitempty"` // 1-based; 0 when unknown
	// Subject names the service, container or object concerned, if any.
	Subject string `json:"subject,omitempty"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
	// Suppressed holds the justification of an in-file
	// "n8n-secrets:ignore" comment; a suppressed finding does not count.
	Suppressed *Suppression `json:"suppressed,omitempty"`
}

// Suppression is an in-file comment that accepts a finding.
type Suppression struct {
	Justification string `json:"justification"`
	Line          int    `json:"line"`
}

// Location returns "file:line:column" as far as known.
func (f Finding) Location() string {
	if f.File == "" {
		return ""
	}
	s := f.File
	if f.Line > 0 {
		s += fmt.Sprintf(":%d", f.Line)
		if f.Column > 0 {
			s += fmt.Sprintf(":%d", f.Column)
		}
	}
	return s
}

// Rule describes one finding code: what it means and what to do.
type Rule struct {
	Code     string
	Severity Severity // the usual severity; a finding may differ (see its doc)
	Title    string   // one line
	Help     string   // why it matters and how to fix it
	// Security marks the rules about leaking or weakening secrets (tagged
	// "security" in SARIF); SecuritySeverity ranks them for GitHub code
	// scanning (0.1–10: 9 and up critical, 7 high, 4 medium).
	Security         bool
	SecuritySeverity float64
}

// The codes of the findings. They are stable: pipelines and suppressions
// match them.
const (
	// CodeLiteralSecret: a secret variable holds a literal value in a file.
	CodeLiteralSecret = "LITERAL_SECRET"
	// CodeSecretInCommand: a password written on a command line.
	CodeSecretInCommand = "SECRET_IN_COMMAND"
	// CodeSecretBuildArg: a Dockerfile ARG named like a secret.
	CodeSecretBuildArg = "SECRET_BUILD_ARG"
	// CodeSecretFileInImage: a Dockerfile COPY or ADD of a file that looks like a secret.
	CodeSecretFileInImage = "SECRET_FILE_IN_IMAGE"
	// CodeSecretInManifest: a Kubernetes Secret manifest that holds values.
	CodeSecretInManifest = "SECRET_IN_MANIFEST"
	// CodeBadReference: a value the injector's start refuses as a reference.
	CodeBadReference = "BAD_REFERENCE"
	// CodeSettingInvalid: an N8N_SECRETS_* variable the injector's start refuses.
	CodeSettingInvalid = "SETTING_INVALID"
	// CodeForeignReference: a value that is another tool's reference (op://, ref+vault://, …).
	CodeForeignReference = "FOREIGN_REFERENCE"
	// CodeKeyIsPath: N8N_ENCRYPTION_KEY holds a path instead of a key.
	CodeKeyIsPath = "KEY_IS_PATH"
	// CodeKeyMissing: an n8n process without an encryption key.
	CodeKeyMissing = "KEY_MISSING"
	// CodeKeySourceMismatch: n8n processes of one deployment take their key from different sources.
	CodeKeySourceMismatch = "KEY_SOURCE_MISMATCH"
	// CodeExecutionsModeMismatch: EXECUTIONS_MODE differs between the n8n processes of one deployment.
	CodeExecutionsModeMismatch = "EXECUTIONS_MODE_MISMATCH"
	// CodeQueueModeRequired: a worker or webhook process outside queue mode.
	CodeQueueModeRequired = "QUEUE_MODE_REQUIRED"
	// CodeQueueModeSQLite: queue mode on SQLite.
	CodeQueueModeSQLite = "QUEUE_MODE_SQLITE"
	// CodeQueueModeNoRedis: queue mode without a Redis host.
	CodeQueueModeNoRedis = "QUEUE_MODE_NO_REDIS"
	// CodeReferenceWithoutInjector: references in a container whose entrypoint does not run n8n-secrets.
	CodeReferenceWithoutInjector = "REFERENCE_WITHOUT_INJECTOR"
	// CodeStorePlainHTTP: a secret store reached over plain http:// off loopback.
	CodeStorePlainHTTP = "STORE_PLAIN_HTTP"
	// CodeTLSVerifyDisabled: VAULT_SKIP_VERIFY turns certificate checks off.
	CodeTLSVerifyDisabled = "TLS_VERIFY_DISABLED"
	// CodeEnvAccessAllowed: N8N_BLOCK_ENV_ACCESS_IN_NODE=false lets workflow code read the environment.
	CodeEnvAccessAllowed = "ENV_ACCESS_ALLOWED"
	// CodeImageUnpinned: an n8n image without a version (no tag, or a floating one).
	CodeImageUnpinned = "IMAGE_UNPINNED"
	// CodeVaultPolicyTooWide: a Vault policy grants more than read on n8n's paths.
	CodeVaultPolicyTooWide = "VAULT_POLICY_TOO_WIDE"
	// CodeVaultPolicyWildcard: a Vault policy rule on every path, or with a "*" capability.
	CodeVaultPolicyWildcard = "VAULT_POLICY_WILDCARD"
	// CodeParseError: a file that cannot be parsed.
	CodeParseError = "PARSE_ERROR"
	// CodeNoN8NService: no n8n service, container or image in the files.
	CodeNoN8NService = "NO_N8N_SERVICE"
	// CodeImageNotChecked: an image whose entrypoint the files do not show.
	CodeImageNotChecked = "NOT_CHECKED_IMAGE"
	// CodeHelmTemplateNotChecked: unrendered Helm templates were skipped.
	CodeHelmTemplateNotChecked = "NOT_CHECKED_HELM_TEMPLATE"
	// CodeEnvFileNotChecked: an env_file the audit could not read.
	CodeEnvFileNotChecked = "NOT_CHECKED_ENV_FILE"
	// CodeRotationNotChecked: whether secrets are rotated cannot be seen in files.
	CodeRotationNotChecked = "NOT_CHECKED_ROTATION"
	// CodeAlertsNotChecked: whether alerts exist cannot be seen in files.
	CodeAlertsNotChecked = "NOT_CHECKED_ALERTS"
	// CodeLiveAccessNotChecked: what the store credentials may really do cannot be seen in files.
	CodeLiveAccessNotChecked = "NOT_CHECKED_LIVE_ACCESS"
	// CodeKeyValueNotChecked: that every source holds the same key cannot be seen in files.
	CodeKeyValueNotChecked = "NOT_CHECKED_KEY_VALUE"
)

// Rules lists every finding code, in the order the documentation shows them.
var Rules = []Rule{
	{CodeLiteralSecret, Error, "a secret in plain text in a deployment file",
		"The encryption key, passwords, tokens and API keys (the variables n8n's own configuration declares secret, and any variable named like a secret) belong in the secret store, referenced as vault://, awssm:// or file:, in a NAME_FILE, or in an orchestrator secret (a Kubernetes Secret through secretKeyRef, a Docker secret). A value in a file ends up in version control, image layers and `docker inspect`. A value that Compose brings from `.env` through ${NAME} is reported at its line in `.env`, under the variable it lands in; a default (${NAME:-value}) is a warning, as it is used only when NAME is unset. A URL whose password is written out (postgres://n8n:password@db/n8n) is one too, in any variable, also when the rest of the value uses ${…} references: put the reference in the password's place. A value built from references, or another tool's reference, is none. The finding names the variable, never the value.", true, 9.0},
	{CodeSecretInCommand, Error, "a password on a command line",
		"A password given as an argument (redis-server --requirepass, redis-cli -a, --password=…) is in the file, in `docker inspect` and in `ps` on the host. Pass it in a file or a variable the program reads (redis: a config file with requirepass, mounted from a secret), or at least as a variable the deployer provides (${REDIS_PASSWORD}).", true, 8.5},
	{CodeSecretBuildArg, Warning, "a build argument named like a secret",
		"Build arguments are kept in the image's history (`docker history`). Use a build secret (`RUN --mount=type=secret`) or pass the secret at run time.", true, 6.5},
	{CodeSecretFileInImage, Warning, "a file that looks like a secret copied into an image",
		"Everything copied into an image stays in its layers. Mount secrets at run time (/run/secrets) instead.", true, 6.5},
	{CodeSecretInManifest, Warning, "a Kubernetes Secret manifest with values",
		"A Secret's data in a manifest is only base64: in version control it is plain text. Create the Secret from files (`kubectl create secret generic --from-file`), or use an external secrets operator, sealed secrets or n8n-secrets references: a Secret whose secret values are all references (vault://…, ${…}, another tool's) holds no secret and is not reported, and the containers that get them are judged for what the start makes of them.", true, 6.0},
	{CodeBadReference, Error, "a value the injector refuses as a reference",
		"n8n-secrets refuses to start on a malformed reference, a malformed ${…} inside a value (unclosed, a scheme typo, a bad reference in it), a value one typo away from a reference (vualt://…) or a malformed N8N_SECRETS_ENV_FROM item: the audit reports what the start would, with the injector's own parser, by line and never by text. See the reference grammar in `n8n-secrets --help`; a value meant literally goes in N8N_SECRETS_SKIP. In a Compose file, ${vault://…} is refused by Compose itself (\"Invalid template\"): write $${…}, which Compose passes on as ${…}.", false, 0},
	{CodeSettingInvalid, Error, "an n8n-secrets setting the start refuses",
		"n8n-secrets refuses to start (exit 64) on an N8N_SECRETS_* variable one or two typos from a setting's (N8N_SECRETS_EXPECT_KEY_FINGERPRNT: ignored, a fingerprint pin or N8N_SECRETS_VERIFY_KEY=on would silently be off) and on a value its setting does not take (N8N_SECRETS_TIMEOUT=30 without a unit, a mode it does not know). The finding names the variable and the problem, never the value. `n8n-secrets help` lists every setting.", false, 0},
	{CodeForeignReference, Warning, "a value that is another tool's reference",
		"n8n-secrets resolves its own references only: a whole value that is another tool's (1Password's op://…, vals' ref+vault://…, berglas' sm://…, an AWS Secrets Manager ARN without awssm://, …) is passed on to n8n as it is, and the start warns (FOREIGN_REFERENCE), with the same hint as here. Unless that tool resolves it before n8n starts, n8n takes the reference's text as the value. Write it as a reference n8n-secrets reads (for an ARN, awssm://arn:…); a value meant literally goes in N8N_SECRETS_SKIP.", true, 5.0},
	{CodeKeyIsPath, Error, "N8N_ENCRYPTION_KEY holds a path",
		"n8n takes the path itself as the key, a key anyone can guess. Use N8N_ENCRYPTION_KEY_FILE=/run/secrets/… or N8N_ENCRYPTION_KEY=file:name.", true, 8.0},
	{CodeKeyMissing, Error, "an n8n process without an encryption key",
		"Every main, worker and webhook process needs the same N8N_ENCRYPTION_KEY: a worker refuses to start without it and a webhook process silently makes its own. A lone main generates one into its settings file, and a one-shot n8n command uses that file's (warnings then). A key set under a misspelt name (N8N_ENCRYPTON_KEY, one or two typos from N8N_ENCRYPTION_KEY or N8N_ENCRYPTION_KEY_FILE) is ignored by n8n and refused at start: an error on every process.", false, 0},
	{CodeKeySourceMismatch, Warning, "n8n processes of one deployment take their key from different sources",
		"Every process of one n8n instance must have the same key. Take it from one source (one reference, one secret) on every service; compare the fingerprints the nodes log (n8n_key_fingerprint). An error when the files show two different keys; a warning when they cannot be compared or hold the same key today.", false, 0},
	{CodeExecutionsModeMismatch, Error, "EXECUTIONS_MODE differs between n8n processes",
		"Set the same EXECUTIONS_MODE (queue for main, workers and webhook processors) on every n8n service of the deployment.", false, 0},
	{CodeQueueModeRequired, Error, "a worker or webhook process outside queue mode",
		"`n8n worker` and `n8n webhook` only work in queue mode: set EXECUTIONS_MODE=queue on every n8n service.", false, 0},
	{CodeQueueModeSQLite, Error, "queue mode on SQLite",
		"Workers and the main share the database: queue mode needs PostgreSQL (DB_TYPE=postgresdb).", false, 0},
	{CodeQueueModeNoRedis, Warning, "queue mode without a Redis host",
		"Queue mode needs Redis: set QUEUE_BULL_REDIS_HOST (n8n's default, localhost, is the container itself).", false, 0},
	{CodeReferenceWithoutInjector, Error, "references in a container that does not run n8n-secrets",
		"A reference reaches n8n as a literal string unless n8n-secrets runs first: n8n would take `vault://…` itself as its encryption key or password. Use the image of docker/Dockerfile, or an entrypoint such as [\"tini\", \"--\", \"/usr/local/bin/n8n-secrets\", \"--\", \"/docker-entrypoint.sh\"]; a Kubernetes `command:` replaces the image's entrypoint.", true, 7.0},
	{CodeStorePlainHTTP, Error, "a secret store reached over plain http:// off loopback",
		"Tokens and secrets would cross the network in clear text. Use https:// with VAULT_CACERT. On a network that never leaves the host, N8N_SECRETS_ALLOW_HTTP=true on the service accepts it (the finding is then a warning).", true, 7.5},
	{CodeTLSVerifyDisabled, Error, "certificate verification turned off",
		"VAULT_SKIP_VERIFY lets anyone on the path impersonate Vault and take the token. Give VAULT_CACERT the CA of Vault's certificate instead.", true, 8.0},
	{CodeEnvAccessAllowed, Warning, "workflow code may read the environment",
		"With N8N_BLOCK_ENV_ACCESS_IN_NODE=false, expressions and Code nodes can read every injected secret. Remove it (n8n-secrets sets it to true) or set it to true. The Execute Command node is not covered by it: exclude it with NODES_EXCLUDE.", true, 5.5},
	{CodeImageUnpinned, Warning, "an n8n image without a version",
		"`latest`, `stable`, `next`, `beta` and `nightly` move under you, and every node must run the same n8n version. Pin a release (n8nio/n8n:2.40.0) or a digest. A tag the deployer provides (${N8N_VERSION} that no .env in the files sets) is theirs and not judged.", false, 0},
	{CodeVaultPolicyTooWide, Warning, "a Vault policy grants more than read on n8n's paths",
		"n8n's nodes only read their secrets: grant [\"read\"] on them and nothing else. Write, delete and list let a stolen token change or enumerate secrets; sudo (an error) lets it administer Vault.", true, 5.0},
	{CodeVaultPolicyWildcard, Error, "a Vault policy rule on every path, or with a \"*\" capability",
		"A rule on \"*\" applies to all of Vault, a rule on a whole mount to every secret in it (a warning then). Name n8n's paths (secret/data/n8n/*).", true, 8.0},
	{CodeParseError, Error, "a file that cannot be parsed",
		"Fix the syntax: the audit cannot judge what it cannot read, and neither can the tool that deploys it. The finding names the line and the kind of problem, never the text. YAML whose aliases expand beyond what Kubernetes' own decoder accepts is refused too.", false, 0},
	{CodeNoN8NService, Info, "no n8n service in the files",
		"Nothing was recognised as n8n: a container is n8n when its command runs n8n (also through `sh -c`, wrappers and n8n-secrets) or its image is n8n's (n8nio/n8n, docker.n8n.io/n8nio/n8n, an image named n8n, or one built FROM them in the files). Variables alone never make one. Check the paths given.", false, 0},
	{CodeImageNotChecked, Info, "an image whose entrypoint the files do not show",
		"Whether this image runs n8n-secrets before n8n cannot be seen from the files. Audit the Dockerfile that builds it, or run `n8n-secrets check` in the container.", false, 0},
	{CodeHelmTemplateNotChecked, Info, "unrendered Helm templates were skipped",
		"A chart's templates are not manifests until rendered with its values. Audit the output of `helm template` (with the values you deploy) instead.", false, 0},
	{CodeEnvFileNotChecked, Info, "an env file the audit did not read",
		"A Compose env_file that is not in the files (a .gitignored .env) or lies outside the audited tree, or an n8n-secrets --env-file (N8N_SECRETS_ENV_FILE) that the files do not put in the container (a relative path, nothing mounted or copied there from the audited tree) is not read: its variables count as unknown, never as unset. The audit reads nothing outside the paths it is given (an env_file may name /etc/shadow).", false, 0},
	{CodeRotationNotChecked, Info, "secret rotation is not visible in files",
		"Whether secrets are rotated on a schedule cannot be judged from deployment files: see examples/rotate.", false, 0},
	{CodeAlertsNotChecked, Info, "alerts are not visible in files",
		"Whether an alert fires when a node fails to fetch its secrets cannot be judged from deployment files: see examples/monitoring for rules on the injector's codes.", false, 0},
	{CodeLiveAccessNotChecked, Info, "the store credentials' real access is not visible in files",
		"What a token or role may really do is known to the store only: run `n8n-secrets check` in a running container, which asks Vault (sys/capabilities-self) and warns about access beyond reading the secrets used.", false, 0},
	{CodeKeyValueNotChecked, Info, "that every key source holds the same key is not visible in files",
		"The files show where each node takes its key from, not the value: compare the key fingerprints the nodes log (examples/rotate/verify.sh), or pin it with N8N_SECRETS_EXPECT_KEY_FINGERPRINT.", false, 0},
}

// rule returns the rule of code; it panics on an unknown code, which is a
// bug in this package.
func rule(code string) Rule {
	for _, r := range Rules {
		if r.Code == code {
			return r
		}
	}
	panic("audit: unknown code " + code)
}
