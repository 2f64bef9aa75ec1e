package main

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/start"
)

// accessRow is one line of check's least-privilege section: never a value.
type accessRow struct {
	Scheme   string `json:"scheme"`
	Severity string `json:"severity"` // warning, or info when the review could not run
	Code     string `json:"code"`
	Path     string `json:"path,omitempty"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
}

// accessReview is the outcome of check's least-privilege review.
type accessReview struct {
	Schemes []string    // the providers reviewed
	Rows    []accessRow // what they found
}

// review is check's hook between resolution and the providers'
// Close: every provider that can (inject.AccessReviewer) is asked how far
// its credentials reach beyond the references it resolved in this run.
// It runs under the run's deadline.
func (a *accessReview) review(ctx context.Context, providers map[string]inject.Provider, o *start.Outcome) {
	schemes := make([]string, 0, len(providers))
	for s := range providers {
		schemes = append(schemes, s)
	}
	sort.Strings(schemes)
	for _, scheme := range schemes {
		ar, ok := providers[scheme].(inject.AccessReviewer)
		if !ok {
			continue
		}
		var refs []inject.Reference
		for _, r := range o.Results {
			if r.Ref.Scheme == scheme && r.Err == nil && !r.Removed {
				refs = append(refs, r.Ref)
			}
		}
		if len(refs) == 0 {
			continue
		}
		a.Schemes = append(a.Schemes, scheme)
		found, err := ar.ReviewAccess(ctx, refs)
		if err != nil {
			a.Rows = append(a.Rows, accessRow{Scheme: scheme, Severity: "info", Code: codeAccessReviewFailed.Name(),
				Message: fmt.Sprintf("could not review what the credentials may do: %v (%s)", err, inject.CodeOf(err)),
				Hint:    "the least-privilege review needs sys/capabilities-self and auth/token/lookup-self (Vault's default policy)"})
			continue
		}
		for _, f := range found {
			a.Rows = append(a.Rows, accessRow{Scheme: scheme, Severity: "warning", Code: f.Code.Name(), Path: f.Path, Message: f.Message, Hint: f.Hint})
		}
	}
}

// print writes check's least-privilege section, when a provider was
// reviewed.
func (a accessReview) print(w io.Writer) {
	if len(a.Schemes) == 0 {
		return
	}
	fmt.Fprintln(w, "\nleast privilege:")
	if len(a.Rows) == 0 {
		fmt.Fprintln(w, "  the credentials reach no further than the secrets read")
	}
	for _, r := range a.Rows {
		fmt.Fprintf(w, "  %-7s %s (%s): %s\n", r.Severity, r.Code, r.Scheme, r.Message)
		if r.Hint != "" {
			fmt.Fprintf(w, "          hint: %s\n", r.Hint)
		}
	}
}
