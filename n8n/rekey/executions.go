package rekey

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/n8n-secrets/n8n-secrets/n8n/cipher"
	"github.com/n8n-secrets/n8n-secrets/n8n/store"
)

// executionBatch is how many execution_data rows are read at a time: run
// data can be large, and one batch is held in memory.
const executionBatch = 50

// contextKeys are the keys under which run data holds an execution's
// context: runtimeData (executionData.runtimeData), and the copies a
// sub-execution or an error workflow gets of its parent's
// (parentExecution.executionContext, n8n-core's execution-context.js and
// n8n's execute-error-workflow.js).
var contextKeys = []string{"runtimeData", "executionContext"}

// runtimeFields are the fields of an execution's runtime data
// (executionData.runtimeData, n8n's IExecutionContext) that n8n encrypts
// (n8n-core's execution-context.service): credentials, the identity of the
// execution's context (for manual and test-webhook executions of n8n 2.40,
// an encrypted copy of the user's n8n-auth session cookie,
// buildManualExecutionCredentials), and secureArtifacts.
var runtimeFields = []string{"credentials", "secureArtifacts"}

// ExecutionValues counts the encrypted values inside execution data, which
// verify and rekey do not decrypt: by format, and the rows that hold them.
type ExecutionValues struct {
	Rows     int `json:"rows"`
	CBC      int `json:"cbc"`
	Prefixed int `json:"prefixed"`
}

// countExecutions counts the execution_data rows whose run data holds an
// encrypted runtime value (runtimeFields), by what is really there: the
// run data is flatted JSON (an array whose first element is the root and
// whose strings are references to other elements), and only an encrypted
// string under the credentials or secureArtifacts of an execution context
// (contextKeys) counts. n8n
// 1.123 writes runtimeData with nothing encrypted into every execution:
// those are not counted. SQL narrows the rows first; each is parsed on its
// own, executionBatch rows at a time.
func countExecutions(ctx context.Context, db *store.DB, q store.Querier) (ExecutionValues, error) {
	var ev ExecutionValues
	ok, err := db.HasTable(ctx, q, "execution_data")
	if err != nil || !ok {
		return ev, err
	}
	query := fmt.Sprintf(`SELECT "executionId", "data" FROM %s WHERE "executionId" > %s
AND ("data" LIKE '%%"runtimeData"%%' OR "data" LIKE '%%"executionContext"%%') AND ("data" LIKE '%%"credentials"%%' OR "data" LIKE '%%"secureArtifacts"%%')
ORDER BY "executionId" LIMIT %d`,
		db.Table("execution_data"), db.P(1), executionBatch)
	after := int64(math.MinInt32) // below every id; "executionId" is a 4-byte integer on PostgreSQL
	for {
		if err := ctx.Err(); err != nil {
			return ev, fmt.Errorf("%w: %v", store.ErrUnavailable, context.Cause(ctx))
		}
		rows, err := q.QueryContext(ctx, query, after)
		if err != nil {
			return ev, db.Classify("read execution_data", err)
		}
		n := 0
		for rows.Next() {
			var id int64
			var data string
			if err := rows.Scan(&id, &data); err != nil {
				rows.Close()
				return ev, db.Classify("read execution_data", err)
			}
			n++
			after = id
			cbc, prefixed := runtimeValues([]byte(data))
			if cbc+prefixed > 0 {
				ev.Rows++
				ev.CBC += cbc
				ev.Prefixed += prefixed
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return ev, db.Classify("read execution_data", err)
		}
		if n < executionBatch {
			return ev, nil
		}
	}
}

// runtimeValues returns how many encrypted values of each format the
// runtime data in one execution's flatted run data holds. Data it cannot
// parse holds none.
func runtimeValues(data []byte) (cbc, prefixed int) {
	var elems []json.RawMessage
	if json.Unmarshal(data, &elems) != nil {
		return 0, 0
	}
	// ref returns the element a flatted reference ("12") points to.
	ref := func(raw json.RawMessage) (json.RawMessage, bool) {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i >= len(elems) {
			return nil, false
		}
		return elems[i], true
	}
	count := func(raw json.RawMessage) {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return
		}
		switch cipher.ParseValue(s).Format {
		case cipher.FormatCBC:
			cbc++
		case cipher.FormatPrefixed:
			prefixed++
		}
	}
	seen := map[int]bool{}
	var contexts []map[string]json.RawMessage
	for _, e := range elems {
		if len(e) == 0 || e[0] != '{' || !bytes.Contains(e, []byte(`"runtimeData"`)) && !bytes.Contains(e, []byte(`"executionContext"`)) {
			continue
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(e, &obj) != nil {
			continue
		}
		for _, k := range contextKeys {
			rd, ok := ref(obj[k])
			if !ok {
				continue
			}
			var ctxObj map[string]json.RawMessage
			if json.Unmarshal(rd, &ctxObj) == nil {
				contexts = append(contexts, ctxObj)
			}
		}
	}
	for _, ctxObj := range contexts {
		for _, f := range runtimeFields {
			var s string
			if json.Unmarshal(ctxObj[f], &s) != nil {
				continue
			}
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(elems) || seen[i] {
				continue
			}
			seen[i] = true
			v := elems[i]
			if len(v) > 0 && v[0] == '"' {
				count(v)
				continue
			}
			// An object or array of references (secureArtifacts): each
			// string it points to.
			var inner map[string]json.RawMessage
			var list []json.RawMessage
			switch {
			case json.Unmarshal(v, &inner) == nil:
				for _, r := range inner {
					if t, ok := ref(r); ok {
						count(t)
					}
				}
			case json.Unmarshal(v, &list) == nil:
				for _, r := range list {
					if t, ok := ref(r); ok {
						count(t)
					}
				}
			}
		}
	}
	return cbc, prefixed
}
