package awssm

import "github.com/n8n-secrets/n8n-secrets/internal/logcode"

// Codes lists the log codes of this package, with their level, exit code
// and meaning: `n8n-secrets codes` and the README's tables of codes and exit
// codes are built from the packages' lists.
var Codes = []logcode.Code{
	{Name: CodeBatchRefused, Level: "info", Meaning: "`BatchGetSecretValue` is denied: each secret is read with `GetSecretValue` (allow `secretsmanager:BatchGetSecretValue` for one call per 20 secrets)"},
	{Name: CodeBatchSplit, Level: "debug", Meaning: "a batch call failed as a whole: each of its secrets is read on its own to tell which"},
	{Name: CodeWatchDescribe, Level: "debug", Meaning: "a secret `ListSecrets` does not list (another account's, shared by a resource policy) is watched with `DescribeSecret` (once per secret)"},
	{Name: CodeLongLivedKeys, Level: "check", Meaning: "the AWS credentials are long-lived access keys, not a role's temporary ones"},
}
