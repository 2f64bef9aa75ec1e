package awscfg

import "github.com/n8n-secrets/n8n-secrets/internal/logcode"

// codes is the set of this package's log codes.
var codes logcode.Set

// Codes returns the log codes of this package, with their level, exit code
// and meaning: `n8n-secrets codes` and the README's tables are built from
// the packages' lists (providers/awssm lists this package's code among its
// own, in the README's order).
func Codes() []logcode.Code { return codes.Codes() }

// CodeLongLivedKeys is the code of the access review finding for
// credentials that are an IAM user's long-lived access keys rather than a
// role's temporary credentials (providers/awssm and awsssm report it).
var CodeLongLivedKeys = codes.New("AWS_LONG_LIVED_KEYS", "check", 0, "the AWS credentials are long-lived access keys, not a role's temporary ones")
