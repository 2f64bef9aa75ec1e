package awssm

import (
	"github.com/n8n-secrets/n8n-secrets/internal/awscfg"
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
)

// codes is the set of this package's log codes, in the order of the
// README's table of codes.
var codes logcode.Set

// Codes returns the log codes of this package, with their level, exit code
// and meaning, in the order they are declared: `n8n-secrets codes` and the
// README's tables of codes and exit codes are built from the packages' lists.
func Codes() []logcode.Code { return codes.Codes() }

// The log codes of this package.
var (
	// CodeBatchRefused: BatchGetSecretValue is denied (an IAM policy
	// granting only GetSecretValue): every secret is read on its own.
	CodeBatchRefused = codes.New("AWSSM_BATCH_REFUSED", "info", 0, "`BatchGetSecretValue` is denied: each secret is read with `GetSecretValue` (allow `secretsmanager:BatchGetSecretValue` for one call per 20 secrets)")
	// CodeBatchSplit: a batch call failed as a whole for one of its
	// secrets: each is read on its own to tell which (debug).
	CodeBatchSplit = codes.New("AWSSM_BATCH_SPLIT", "debug", 0, "a batch call failed as a whole: each of its secrets is read on its own to tell which")
	// CodeWatchDescribe: a secret that ListSecrets does not list (another
	// account's, shared by a resource policy) is watched with
	// DescribeSecret (debug, once per secret).
	CodeWatchDescribe = codes.New("AWSSM_WATCH_DESCRIBE", "debug", 0, "a secret `ListSecrets` does not list (another account's, shared by a resource policy) is watched with `DescribeSecret` (once per secret)")
	// CodeLongLivedKeys is internal/awscfg's (awsssm reports it too), listed here.
	CodeLongLivedKeys = codes.Share(awscfg.CodeLongLivedKeys)
)
