package rekey

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/n8n/store"
)

// DefaultBatch is the number of rows read at a time: memory stays bounded
// by it whatever the table's size.
const DefaultBatch = 500

// walker reads every inventory location in batches, in one transaction.
type walker struct {
	db    *store.DB
	q     store.Querier
	batch int
	log   *slog.Logger
	write bool // apply the changes fn returns
}

// rowFunc gets one row's encrypted parts and returns the column's new text,
// or "" to leave it. id names the row (its key), never a value.
type rowFunc func(loc location, id string, parts []part, text string) (string, error)

// each calls fn for every row of loc that holds encrypted-looking values,
// and writes what it returns when w.write. A settings row that is not JSON
// is reported through bad.
func (w *walker) each(ctx context.Context, loc location, fn rowFunc, bad func(id string)) error {
	ok, err := w.db.HasTable(ctx, w.q, loc.table)
	if err != nil || !ok {
		return err
	}
	var after []any
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%w: %v", store.ErrUnavailable, context.Cause(ctx))
		}
		rows, err := w.db.Batch(ctx, w.q, loc.table, loc.key, []string{loc.column}, after, w.batch)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		if w.log != nil {
			w.log.Debug("batch", "code", CodeBatch, "location", loc.name, "rows", len(rows))
		}
		type update struct {
			key      []any
			old, new string
		}
		var updates []update
		for _, r := range rows {
			id := keyString(r.Key)
			if loc.settingKey != "" && id != loc.settingKey {
				continue
			}
			text := r.Values[0]
			parts, ok := loc.split(text)
			if !ok {
				bad(id)
				continue
			}
			if len(parts) == 0 {
				continue
			}
			nt, err := fn(loc, id, parts, text)
			if err != nil {
				return err
			}
			if nt != "" && nt != text {
				updates = append(updates, update{r.Key, text, nt})
			}
		}
		if w.write && len(updates) > 0 {
			changes := make([]store.Change, len(updates))
			for i, u := range updates {
				changes[i] = store.Change{Key: u.key, Old: u.old, New: u.new}
			}
			if err := w.db.UpdateMany(ctx, w.q, loc.table, loc.key, loc.column, changes); err != nil {
				return err
			}
			if w.log != nil {
				for _, u := range updates {
					w.log.Debug("rekeyed", "code", CodeRekeyed, "location", loc.name, "id", keyString(u.key))
				}
			}
		}
		after = rows[len(rows)-1].Key
	}
}

// keyString writes a row's key for reports: its columns joined with "/".
func keyString(key []any) string {
	s := make([]string, len(key))
	for i, k := range key {
		switch v := k.(type) {
		case []byte:
			s[i] = string(v)
		default:
			s[i] = fmt.Sprint(v)
		}
	}
	return strings.Join(s, "/")
}

// partID names one part of a row: the row's id, and the field or element.
func partID(loc location, id string, p part) string {
	switch loc.layout {
	case commas:
		return id + "[" + p.field + "]"
	case fields:
		return id + " " + p.field
	}
	return id
}
