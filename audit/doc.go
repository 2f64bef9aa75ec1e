// Package audit checks deployment files of n8n against the practices
// n8n-secrets exists for: the encryption key and every password kept out
// of the files (references, NAME_FILE or orchestrator secrets instead),
// one key source for every node of a deployment, a consistent queue mode,
// the injector actually run where references are used, TLS to the secret
// store, pinned images and least-privilege Vault policies.
//
// It reads Dockerfiles, Docker Compose and Swarm stack files, Kubernetes
// manifests (multi-document; Pods, Deployments, StatefulSets, DaemonSets,
// ReplicaSets, Jobs, CronJobs, ConfigMaps, Secrets, envFrom), .env files
// and Vault policies in HCL. It parses files and nothing else: it fetches
// nothing, runs nothing and writes nothing.
//
// A run returns a [Report]: a list of [Finding] values (a stable code from
// [Rules], a severity, the file, line and column, a message and a hint).
// Findings never hold a secret value: a literal secret is named by its
// variable. The table, JSON and SARIF 2.1.0 outputs are printers over the
// same list ([Report.WriteTable], [Report.WriteJSON], [Report.WriteSARIF]).
//
// What files cannot show (whether secrets are rotated, whether alerts
// exist, what the store's credentials may really do) is reported as
// findings of severity info whose code starts with NOT_CHECKED_, never
// passed over in silence.
//
// A finding can be accepted in the file itself with a comment on its line
// or on the line above:
//
//	# n8n-secrets:ignore STORE_PLAIN_HTTP the compose network stays on this host
//
// It is then reported as suppressed, with that justification, and does not
// count towards the exit status.
package audit
