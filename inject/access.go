package inject

import "context"

// AccessReviewer is implemented by providers that can tell how far their
// own credentials reach beyond what a run needs: least privilege, checked
// live against the store (`check` calls it).
type AccessReviewer interface {
	// ReviewAccess reports the ways the provider's credentials can do more
	// than read refs, the references this run resolved with it: write or
	// delete them, list or read other secrets, administer the store, or
	// credentials that never expire. It is called after resolution and
	// before Close, under the run's deadline, and does no write. Findings
	// and errors never hold a value; an error follows Fetch's contract
	// (ErrPermission when the store refuses to say).
	ReviewAccess(ctx context.Context, refs []Reference) ([]AccessFinding, error)
}

// AccessFinding is one way a provider's credentials are broader than a
// run needs. It is a warning: the run itself is not refused for it.
type AccessFinding struct {
	Code    Code   // stable, declared by the provider in its list of codes
	Path    string // the store path it concerns, if any
	Message string
	Hint    string
}
