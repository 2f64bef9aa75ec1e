package awssm

import (
	"context"
	"fmt"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// CodeLongLivedKeys is the code of the access review (`check`) for
// credentials that are an IAM user's long-lived access keys rather than a
// role's temporary credentials.
const CodeLongLivedKeys = "AWS_LONG_LIVED_KEYS"

var _ inject.AccessReviewer = (*Provider)(nil)

// ReviewAccess reports credentials that are long-lived access keys (an
// access key id starting with AKIA, or keys without a session token that
// never expire) rather than a role (IRSA or EKS Pod Identity, an ECS task
// role, an EC2 instance profile, AssumeRole): a copy of such keys works
// until someone deletes them. It asks the SDK's credential chain, which
// has already fetched (and cached) the credentials during the run; what
// IAM lets them do is not asked (that would need IAM permissions of its
// own). The error of a failing chain is a fixed text: the SDK's may quote
// a credential process's output.
func (p *Provider) ReviewAccess(ctx context.Context, refs []inject.Reference) ([]inject.AccessFinding, error) {
	if len(refs) == 0 || p.cfg.Credentials == nil {
		return nil, nil
	}
	c, err := p.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("awssm: credentials: %w: the SDK's credential chain gave none", inject.ErrAuth)
	}
	if !strings.HasPrefix(c.AccessKeyID, "AKIA") && (c.SessionToken != "" || c.CanExpire) {
		return nil, nil
	}
	source := c.Source
	if source == "" {
		source = "the SDK's credential chain"
	}
	source, _, _ = strings.Cut(source, ":") // not the file path of a shared config
	return []inject.AccessFinding{{Code: CodeLongLivedKeys,
		Message: fmt.Sprintf("the AWS credentials are long-lived access keys (from %s) rather than a role's temporary credentials", source),
		Hint:    "use a role: IRSA or EKS Pod Identity, an ECS task role, an EC2 instance profile; then no key can leak",
	}}, nil
}
