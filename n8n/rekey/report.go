package rekey

import (
	"errors"
	"sort"

	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
	"github.com/n8n-secrets/n8n-secrets/n8n/store"
)

// CodeOf returns the log code of an error of this package or of package
// store.
func CodeOf(err error) logcode.Code {
	switch {
	case errors.Is(err, ErrMismatch):
		return CodeKeyDBMismatch
	case errors.Is(err, ErrNoTables):
		return CodeDBNoTables
	case errors.Is(err, store.ErrInterrupted):
		return CodeDBHotJournal
	case errors.Is(err, ErrRefused):
		return CodeRekeyRefused
	case errors.Is(err, ErrCheckFailed):
		return CodeRekeyCheckFailed
	case errors.Is(err, store.ErrHeld):
		return CodeDBInUse
	case errors.Is(err, store.ErrUnavailable):
		return CodeDBUnreachable
	case errors.Is(err, store.ErrAuth):
		return CodeDBAuth
	case errors.Is(err, store.ErrConfig):
		return CodeDBSettings
	}
	return CodeDBError
}

// Errors a caller maps to exit codes. Each is wrapped with the details
// (locations and ids, never values).
var (
	// ErrMismatch: values do not decrypt with the key (verify), or with
	// neither key (rekey): N8N_KEY_DB_MISMATCH.
	ErrMismatch = errors.New("rekey: the key does not match the database")
	// ErrRefused: the requested rekey cannot be done on this database as
	// asked (--rewrap-only on values in the legacy format, the same key
	// twice); nothing was written.
	ErrRefused = errors.New("rekey: refused")
	// ErrCheckFailed: the re-encrypted database did not verify with the new
	// key before commit; the transaction was rolled back.
	ErrCheckFailed = errors.New("rekey: the re-encrypted values did not verify with the new key")
	// ErrNoTables: the database holds none of n8n's tables, so nothing was
	// verified: N8N_DB_NO_TABLES. Not a success: the variables may name
	// another database, table prefix or schema than n8n's.
	ErrNoTables = errors.New("rekey: n8n's tables are not in this database")
)

// Formats as reports name them: those of package cipher, and "plain" for
// a deployment_key row stored unencrypted (instance.id).
const (
	formatCBC      = "cbc"
	formatPrefixed = "prefixed"
	formatWrapped  = "wrapped"
	formatPlain    = "plain"
)

// notEncrypted follows the name of a value that has neither encrypted
// format (not "U2FsdGVkX1…", not "<keyId>:…"): n8n cannot decrypt it with
// any key. Its format in the counts is "unknown".
const notEncrypted = " (does not look encrypted)"

// Count is what one location holds in one format.
type Count struct {
	Location string `json:"location"`
	Format   string `json:"format"`
	Values   int    `json:"values"`
	// OK: verify only: values that decrypt with the key.
	OK int `json:"ok,omitempty"`
	// Rekey: rekey only: values re-encrypted under the new key (or, in a
	// dry run, that would be).
	Rekey int `json:"rekey,omitempty"`
	// Done: rekey only: values already under the new key, left as they are.
	Done int `json:"done,omitempty"`
	// Kept: rekey --rewrap-only: values left under their data key, which is
	// re-wrapped.
	Kept int `json:"kept,omitempty"`
	// Failed names the values that decrypt with no key given: ids (and the
	// field or element), never a value.
	Failed []string `json:"failed,omitempty"`
}

// counts accumulates Counts by location and format.
type counts map[[2]string]*Count

func (c counts) at(loc, format string) *Count {
	k := [2]string{loc, format}
	if c[k] == nil {
		c[k] = &Count{Location: loc, Format: format}
	}
	return c[k]
}

// list returns the counts in a stable order: the inventory's, then format.
func (c counts) list() []Count {
	order := map[string]int{deploymentTable: -1}
	for i, l := range inventory {
		order[l.name] = i
	}
	out := make([]Count, 0, len(c))
	for _, v := range c {
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool {
		if order[out[i].Location] != order[out[j].Location] {
			return order[out[i].Location] < order[out[j].Location]
		}
		return out[i].Format < out[j].Format
	})
	return out
}

func failedOf(cs []Count) []string {
	var out []string
	for _, c := range cs {
		for _, f := range c.Failed {
			out = append(out, c.Location+" "+f)
		}
	}
	return out
}

// Unverified is a place that holds encrypted values this package does
// not decrypt: values inside execution data. It is reported by count: the
// rows, and the values by format.
type Unverified struct {
	Location string `json:"location"`
	Rows     int    `json:"rows"`
	CBC      int    `json:"cbc"`
	Prefixed int    `json:"prefixed"`
	Why      string `json:"why"`
}

// executionLocation names the encrypted runtime values inside executions.
const executionLocation = "execution_data.data runtimeData"

// executionWhat says what the encrypted runtime values of executions are.
const executionWhat = "encrypted execution-context data inside executions' run data (runtimeData.credentials: for manual and test-webhook executions, n8n 2.40 stores an encrypted copy of the n8n-auth session cookie of the user who ran them)"
