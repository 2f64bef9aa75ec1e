package rekey

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/n8n/cipher"
	"github.com/n8n-secrets/n8n-secrets/n8n/store"
)

// Layouts of n8n's database, as reports name them.
const (
	Layout1x = "1.x"               // no deployment_key table: every value CBC under the instance key
	Layout2x = "2.x"               // deployment_key: wrapped data keys, a stored legacy key
	LayoutNo = "no n8n tables yet" // n8n has not migrated this database
)

// VerifyReport is what Verify found. It holds counts and ids, never a
// value or a plaintext.
type VerifyReport struct {
	Database   string       `json:"database"`
	Layout     string       `json:"layout"`
	Counts     []Count      `json:"counts"`
	Failed     int          `json:"failed"`
	Unverified []Unverified `json:"unverified,omitempty"`
}

// OK reports whether every value decrypted.
func (r *VerifyReport) OK() bool { return r.Failed == 0 }

// Verify decrypts every encrypted value n8n stores in db (the inventory,
// and every deployment_key row) with instance key key, in one read-only
// transaction, and counts them per location and format. Values that do not
// decrypt are named by id in the report; the error then wraps ErrMismatch.
// Other errors wrap package store's sentinels.
func Verify(ctx context.Context, db *store.DB, key string, log *slog.Logger) (*VerifyReport, error) {
	tx, err := db.BeginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rep, err := verifyIn(ctx, db, tx, key, log, nil, false)
	if err != nil {
		return nil, err
	}
	if rep.Layout == LayoutNo {
		return rep, noTables(db)
	}
	if !rep.OK() {
		return rep, fmt.Errorf("%w: %d value(s) do not decrypt: %s", ErrMismatch, rep.Failed, strings.Join(limit(failedOf(rep.Counts), 10), "; "))
	}
	return rep, nil
}

// verifyIn is Verify inside a transaction; skip names values (as Failed
// lists them) not to count as failures; keysOnly checks deployment_key
// alone (after --rewrap-only, which changes nothing else).
func verifyIn(ctx context.Context, db *store.DB, q store.Querier, key string, log *slog.Logger, skip map[string]bool, keysOnly bool) (*VerifyReport, error) {
	rep := &VerifyReport{Database: db.Config().Describe(), Layout: Layout1x}
	c := counts{}
	fail := func(cnt *Count, id string) {
		if skip[cnt.Location+" "+id] {
			return
		}
		cnt.Failed = append(cnt.Failed, id)
		rep.Failed++
	}
	hasCreds, err := db.HasTable(ctx, q, "credentials_entity")
	if err != nil {
		return nil, err
	}
	if !hasCreds {
		rep.Layout = LayoutNo
		rep.Counts = []Count{}
		return rep, nil
	}
	rows, has2x, err := readDeploymentKeys(ctx, db, q)
	if err != nil {
		return nil, err
	}
	kr, _ := openKeyring(key, rows)
	if has2x {
		rep.Layout = Layout2x
		for _, r := range rows {
			format := formatWrapped
			switch r.wrapping() {
			case wrapPlain:
				format = formatPlain
			case wrapCBC:
				format = formatCBC
			}
			cnt := c.at(deploymentTable, format)
			cnt.Values++
			if _, err := r.unwrap(key); err != nil {
				fail(cnt, r.name())
				continue
			}
			if l := legacyRow(rows); l != nil && l.id == r.id && kr.legacy != key {
				// n8n 2.x decrypts every unprefixed value with this row's
				// key, and writes new ones (without key rotation) with
				// N8N_ENCRYPTION_KEY: they must be the same.
				fail(cnt, r.id+" (legacy data key holds another key than this one)")
				continue
			}
			cnt.OK++
		}
	}
	w := &walker{db: db, q: q, batch: DefaultBatch, log: log}
	for _, loc := range inventory {
		if keysOnly {
			break
		}
		err := w.each(ctx, loc, func(loc location, id string, parts []part, _ string) (string, error) {
			for _, p := range parts {
				v := cipher.ParseValue(p.value)
				cnt := c.at(loc.name, string(v.Format))
				cnt.Values++
				if v.Format == cipher.FormatUnknown {
					// n8n fails on it whatever the key ("Decrypted
					// credentials data is not valid JSON"): counted and
					// named, never skipped.
					fail(cnt, partID(loc, id, p)+notEncrypted)
					continue
				}
				if _, err := kr.decrypt(v, loc.shape); err != nil {
					fail(cnt, partID(loc, id, p))
					continue
				}
				cnt.OK++
			}
			return "", nil
		}, func(id string) {
			cnt := c.at(loc.name, "unparsable")
			cnt.Values++
			fail(cnt, id+" (not JSON)")
		})
		if err != nil {
			return nil, err
		}
	}
	rep.Counts = c.list()
	ev, err := countExecutions(ctx, db, q)
	if err != nil {
		return nil, err
	}
	if ev.Rows > 0 {
		rep.Unverified = append(rep.Unverified, Unverified{Location: executionLocation, Rows: ev.Rows, CBC: ev.CBC, Prefixed: ev.Prefixed,
			Why: executionWhat + ": counted, not decrypted"})
	}
	return rep, nil
}

// noTables is ErrNoTables for db, naming the variables that choose where
// n8n's tables are.
func noTables(db *store.DB) error {
	where := "DB_SQLITE_DATABASE and DB_TABLE_PREFIX"
	if db.Config().Type == store.TypePostgres {
		where = "DB_POSTGRESDB_DATABASE, DB_POSTGRESDB_SCHEMA and DB_TABLE_PREFIX"
	}
	return fmt.Errorf("%w (%s): nothing was verified; check %s against n8n's, or start n8n once on this database", ErrNoTables, db.Config().Describe(), where)
}

func limit(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}

// SampleReport is what Sample checked: how many values of each kind.
type SampleReport struct {
	Layout  string   `json:"layout"`
	Checked []string `json:"checked"` // "data key X", "credential <id>", "mfa secret of user <id>"
	Failed  []string `json:"failed,omitempty"`
	// Unreadable lists data keys (other than the legacy one) that the key
	// does not unwrap while others do: n8n 2.40 starts with a warning for
	// them (KeyManagerService), and only values under them are unreadable.
	Unreadable []string `json:"unreadable,omitempty"`
	Queries    int      `json:"queries"`
}

// Sample checks key against a sample of the database, for the check
// before n8n starts: every data_encryption row (the active data key and the
// legacy key), the most recently updated credential and one user's MFA
// secret. It uses one connection and one query (two on n8n 1.x databases,
// whose first query fails for want of deployment_key). A mismatch wraps
// ErrMismatch; a database without n8n's tables passes with nothing
// checked.
func Sample(ctx context.Context, db *store.DB, key string) (*SampleReport, error) {
	rep := &SampleReport{Layout: Layout2x}
	const tail = `
UNION ALL SELECT 'cred', CAST(id AS TEXT), CAST(data AS TEXT), '', '' FROM (SELECT "id", "data" FROM %[2]s ORDER BY "updatedAt" DESC, "id" LIMIT 1) c
UNION ALL SELECT 'mfa', CAST(id AS TEXT), CAST("mfaSecret" AS TEXT), '', '' FROM (SELECT "id", "mfaSecret" FROM %[3]s WHERE "mfaSecret" IS NOT NULL AND "mfaSecret" <> '' ORDER BY "id" LIMIT 1) m`
	q2 := fmt.Sprintf(`SELECT 'key', CAST("id" AS TEXT), CAST("value" AS TEXT), CAST(coalesce("algorithm", '') AS TEXT), CAST("status" AS TEXT) FROM %[1]s WHERE "type" = 'data_encryption'`+tail,
		db.Table(deploymentTable), db.Table("credentials_entity"), db.Table("user"))
	q1 := fmt.Sprintf(`SELECT 'none', CAST('' AS TEXT), CAST('' AS TEXT), CAST('' AS TEXT), CAST('' AS TEXT) WHERE 1 = 0`+tail, "", db.Table("credentials_entity"), db.Table("user"))
	type sampleRow struct{ kind, id, value, alg, status string }
	run := func(query string) ([]sampleRow, error) {
		rep.Queries++
		rows, err := db.SQL().QueryContext(ctx, query)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []sampleRow
		for rows.Next() {
			var r sampleRow
			var v sql.NullString
			if err := rows.Scan(&r.kind, &r.id, &v, &r.alg, &r.status); err != nil {
				return nil, err
			}
			r.value = v.String
			out = append(out, r)
		}
		return out, rows.Err()
	}
	sample, err := run(q2)
	if err != nil {
		var missing bool
		if missing, err = missingTable(ctx, db); err != nil {
			return nil, err
		}
		switch missing {
		case true:
			has, herr := db.HasTable(ctx, db.SQL(), "credentials_entity")
			if herr != nil {
				return nil, herr
			}
			if !has {
				rep.Layout = LayoutNo
				return rep, nil
			}
			rep.Layout = Layout1x
			if sample, err = run(q1); err != nil {
				return nil, db.Classify("sample", err)
			}
		default:
			return nil, db.Classify("sample", err)
		}
	}
	var dk []dkRow
	for _, s := range sample {
		if s.kind == "key" {
			dk = append(dk, dkRow{id: s.id, typ: typeDataKey, value: s.value, algorithm: s.alg, status: s.status})
		}
	}
	kr, failedRows := openKeyring(key, dk)
	for _, r := range dk {
		rep.Checked = append(rep.Checked, "data key "+r.id)
	}
	legacy := legacyRow(dk)
	for _, r := range failedRows {
		// A stray data key is n8n's warning, not a wrong key: the legacy
		// key, or every data key failing, is.
		if len(failedRows) < len(dk) && (legacy == nil || r.id != legacy.id) {
			rep.Unreadable = append(rep.Unreadable, "data key "+r.id)
			continue
		}
		rep.Failed = append(rep.Failed, "data key "+r.id)
	}
	if l := legacy; l != nil && !slices.ContainsFunc(failedRows, func(r dkRow) bool { return r.id == l.id }) && kr.legacy != key {
		rep.Failed = append(rep.Failed, "data key "+l.id+" (legacy key differs from this one)")
	}
	for _, s := range sample {
		var what string
		sh := shapeText
		switch s.kind {
		case "cred":
			what, sh = "credential "+s.id, shapeJSON
		case "mfa":
			what = "mfa secret of user " + s.id
		default:
			continue
		}
		v := cipher.ParseValue(s.value)
		if v.Format == cipher.FormatUnknown {
			continue
		}
		rep.Checked = append(rep.Checked, what)
		if _, err := kr.decrypt(v, sh); err != nil {
			rep.Failed = append(rep.Failed, what)
		}
	}
	if len(rep.Failed) > 0 {
		return rep, fmt.Errorf("%w: %s do not decrypt", ErrMismatch, strings.Join(rep.Failed, ", "))
	}
	return rep, nil
}

// missingTable tells whether the sample query failed because
// deployment_key does not exist (n8n 1.x), as opposed to a broken
// connection.
func missingTable(ctx context.Context, db *store.DB) (bool, error) {
	ok, err := db.HasTable(ctx, db.SQL(), deploymentTable)
	if err != nil {
		return false, err
	}
	return !ok, nil
}
