package awssm

import (
	"context"
	"fmt"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/awscfg"
)

var _ inject.AccessReviewer = (*Provider)(nil)

// ReviewAccess reports credentials that are long-lived access keys (an
// access key id starting with AKIA, or keys without a session token that
// never expire) rather than a role (IRSA or EKS Pod Identity, an ECS task
// role, an EC2 instance profile, AssumeRole): a copy of such keys works
// until someone deletes them. It asks the SDK's credential chain, which
// has already fetched (and cached) the credentials during the run
// (awscfg.LongLivedKeys); what IAM lets them do is not asked (that would
// need IAM permissions of its own). The error of a failing chain is a
// fixed text: the SDK's may quote a credential process's output.
func (p *Provider) ReviewAccess(ctx context.Context, refs []inject.Reference) ([]inject.AccessFinding, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	f, err := awscfg.LongLivedKeys(ctx, p.cfg.Credentials)
	if err != nil {
		return nil, fmt.Errorf("awssm: %w", err)
	}
	if f == nil {
		return nil, nil
	}
	return []inject.AccessFinding{*f}, nil
}
