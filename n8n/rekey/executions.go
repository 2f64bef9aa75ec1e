package rekey

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
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
// execution contexts in one execution's flatted run data hold. Data it
// cannot parse holds none. It splits the top-level array once, without
// decoding it, and decodes only the few elements it follows: run data is
// large, contexts are small.
func runtimeValues(data []byte) (cbc, prefixed int) {
	starts, ends, ok := splitArray(data)
	if !ok {
		return 0, 0
	}
	elem := func(i int) json.RawMessage { return data[starts[i]:ends[i]] }
	// ref returns the index of the element a flatted reference ("12")
	// points to.
	ref := func(raw json.RawMessage) (int, bool) {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i >= len(starts) {
			return 0, false
		}
		return i, true
	}
	count := func(i int) {
		var s string
		if json.Unmarshal(elem(i), &s) != nil {
			return
		}
		switch cipher.ParseValue(s).Format {
		case cipher.FormatCBC:
			cbc++
		case cipher.FormatPrefixed:
			prefixed++
		}
	}
	// The elements holding a context key: a key is `"name":` outside a
	// string (inside one, its quotes would be escaped).
	holders := map[int]bool{}
	for _, k := range contextKeys {
		pat := []byte(`"` + k + `":`)
		for off := 0; ; {
			j := bytes.Index(data[off:], pat)
			if j < 0 {
				break
			}
			at := off + j
			off = at + len(pat)
			if e := sort.SearchInts(ends, at); e < len(starts) && starts[e] <= at {
				holders[e] = true
			}
		}
	}
	seen := map[int]bool{}
	for h := range holders {
		var obj map[string]json.RawMessage
		if json.Unmarshal(elem(h), &obj) != nil {
			continue
		}
		for _, k := range contextKeys {
			c, ok := ref(obj[k])
			if !ok {
				continue
			}
			var ctxObj map[string]json.RawMessage
			if json.Unmarshal(elem(c), &ctxObj) != nil {
				continue
			}
			for _, f := range runtimeFields {
				i, ok := ref(ctxObj[f])
				if !ok || seen[i] {
					continue
				}
				seen[i] = true
				switch v := elem(i); {
				case len(v) > 0 && v[0] == '"':
					count(i)
				case len(v) > 0 && (v[0] == '{' || v[0] == '['):
					// An object or array of references: each string it
					// points to.
					var inner map[string]json.RawMessage
					var list []json.RawMessage
					if json.Unmarshal(v, &inner) == nil {
						for _, r := range inner {
							list = append(list, r)
						}
					} else if json.Unmarshal(v, &list) != nil {
						continue
					}
					for _, r := range list {
						if t, ok := ref(r); ok && !seen[t] {
							seen[t] = true
							count(t)
						}
					}
				}
			}
		}
	}
	return cbc, prefixed
}

// splitArray finds the elements of a JSON array without decoding them:
// element i is data[starts[i]:ends[i]]. ok is false when data is not an
// array (its elements are not checked beyond their nesting and strings).
func splitArray(data []byte) (starts, ends []int, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, nil, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return nil, nil, true
	}
	depth, inString, start := 0, false, i
	for ; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}':
			depth--
		case ']':
			if depth == 0 {
				starts, ends = append(starts, start), append(ends, trimSpace(data, start, i))
				return starts, ends, true
			}
			depth--
		case ',':
			if depth == 0 {
				starts, ends = append(starts, start), append(ends, trimSpace(data, start, i))
				start = skipSpace(data, i+1)
			}
		}
		if depth < 0 {
			return nil, nil, false
		}
	}
	return nil, nil, false
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// trimSpace returns the end of data[start:end] without trailing white space.
func trimSpace(data []byte, start, end int) int {
	for end > start && (data[end-1] == ' ' || data[end-1] == '\t' || data[end-1] == '\n' || data[end-1] == '\r') {
		end--
	}
	return end
}
