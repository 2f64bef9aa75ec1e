package rekey

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/n8n/cipher"
	"github.com/n8n-secrets/n8n-secrets/n8n/store"
)

// Signing-secret modes (--signing-secrets).
const (
	SigningKeep       = "keep"
	SigningRegenerate = "regenerate"
)

// Options of Run. From and To are instance keys: they are never printed.
type Options struct {
	From, To string
	// Apply writes; without it Run is a dry run that writes nothing.
	Apply bool
	// RewrapOnly re-wraps deployment_key under To and leaves every value
	// as it is (n8n 2.x, values all under data keys).
	RewrapOnly bool
	// SkipUndecryptable leaves values that decrypt with neither key as they
	// are, instead of stopping.
	SkipUndecryptable bool
	// Signing is SigningKeep (default) or SigningRegenerate.
	Signing string
	// Batch is the number of rows read at a time (DefaultBatch when 0).
	Batch  int
	Logger *slog.Logger
}

// KeyAction is what a rekey does to one deployment_key row.
type KeyAction struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Action string `json:"action"`
}

// Result is a rekey's report: what it did, or in a dry run what it would
// do. It holds counts, ids and descriptions, never a key or a value.
type Result struct {
	Database   string       `json:"database"`
	Layout     string       `json:"layout"`
	Mode       string       `json:"mode"` // "full" or "rewrap-only"
	Applied    bool         `json:"applied"`
	Counts     []Count      `json:"counts"`
	Keys       []KeyAction  `json:"deployment_key,omitempty"`
	Signing    string       `json:"signing_secrets"`
	Notes      []string     `json:"notes,omitempty"`
	Skipped    []string     `json:"skipped,omitempty"`
	Unverified []Unverified `json:"unverified,omitempty"`
	// Holders: dry run only: the other processes or sessions seen using
	// the database (an --apply would refuse).
	Holders []string `json:"holders,omitempty"`
	// Changes is the number of values and rows re-encrypted (or that would be).
	Changes int `json:"changes"`
}

// SigningEffects says what each signing-secret mode does, for the dry run.
var SigningEffects = map[string]string{
	SigningKeep: "keep (default): the session (JWT), HMAC and binary-data signing secrets stay the same, re-wrapped under the new key: users stay logged in and public API keys keep working. " +
		"They were derived from the old key: after a leak of the old key, regenerate them.",
	SigningRegenerate: "regenerate: new signing secrets derived from the new key, as n8n seeds them: every user is logged out, every public API key stops working, signed binary-data URLs expire.",
}

// Run re-encrypts n8n's database from opts.From to opts.To, or with
// !opts.Apply computes and checks exactly the same without writing. Both
// share one path: one transaction (read-only for a dry run, exclusive for
// --apply, refused while another process holds the database), a first pass
// that classifies every value (under the old key, already under the new
// one, or under neither), a decision (anything under neither key stops the
// run before a write, unless SkipUndecryptable), a second pass that
// re-encrypts in memory, checks each result with the new key, and writes
// it when applying, then a full verification with the new key before
// commit. Errors wrap ErrMismatch, ErrRefused, ErrCheckFailed or package
// store's sentinels; the Result is returned with them when it is known.
func Run(ctx context.Context, db *store.DB, opts Options) (*Result, error) {
	if opts.From == opts.To {
		return nil, fmt.Errorf("%w: the old and the new key are the same", ErrRefused)
	}
	if opts.Signing == "" {
		opts.Signing = SigningKeep
	}
	if opts.Signing != SigningKeep && opts.Signing != SigningRegenerate {
		return nil, fmt.Errorf("%w: signing secrets: must be keep or regenerate", ErrRefused)
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	res := &Result{Database: db.Config().Describe(), Mode: "full", Signing: opts.Signing, Applied: false}
	if opts.RewrapOnly {
		res.Mode = "rewrap-only"
	}
	var tx *sql.Tx
	var err error
	if opts.Apply {
		tx, err = db.BeginWrite(ctx)
	} else {
		if h, herr := db.Holders(ctx); herr == nil {
			res.Holders = h
		}
		tx, err = db.BeginRead(ctx)
	}
	if err != nil {
		return res, err
	}
	defer tx.Rollback()

	r := &run{db: db, q: tx, opts: opts, res: res}
	if err := r.plan(ctx); err != nil {
		return res, err
	}
	if err := r.execute(ctx); err != nil {
		return res, err
	}
	if !opts.Apply {
		return res, nil
	}
	// Checked against the new key before commit: every value, every row.
	skip := map[string]bool{}
	for _, s := range res.Skipped {
		skip[s] = true
	}
	check, err := verifyIn(ctx, db, tx, opts.To, nil, skip, opts.RewrapOnly)
	if err != nil {
		return res, err
	}
	if !check.OK() {
		return res, fmt.Errorf("%w: %s; nothing was written", ErrCheckFailed, strings.Join(limit(failedOf(check.Counts), 10), "; "))
	}
	if err := tx.Commit(); err != nil {
		return res, db.Classify("commit", err)
	}
	res.Applied = true
	return res, nil
}

// run is one rekey's state.
type run struct {
	db   *store.DB
	q    store.Querier
	opts Options
	res  *Result

	rows     []dkRow
	has2x    bool
	oldKR    keyring
	newKR    keyring
	state    map[string]string // deployment_key row id → "old", "new", "plain", "none"
	union    map[string]dataKey
	rotate   bool   // a fresh active data key replaces the active one
	newDEK   string // when rotate
	newDEKID string
	counts   counts
	undec    []string
}

// plan reads deployment_key and classifies every value, writing nothing.
func (r *run) plan(ctx context.Context) error {
	var err error
	has, err := r.db.HasTable(ctx, r.q, "credentials_entity")
	if err != nil {
		return err
	}
	if !has {
		return fmt.Errorf("%w: n8n's tables are not in this database (%s): nothing to rekey", ErrRefused, r.res.Database)
	}
	r.rows, r.has2x, err = readDeploymentKeys(ctx, r.db, r.q)
	if err != nil {
		return err
	}
	r.res.Layout = Layout1x
	if r.has2x {
		r.res.Layout = Layout2x
	}
	if r.opts.RewrapOnly && !r.has2x {
		return fmt.Errorf("%w: --rewrap-only needs n8n 2.x's deployment_key table, which this database does not have: run the full rekey", ErrRefused)
	}
	r.oldKR, _ = openKeyring(r.opts.From, r.rows)
	r.newKR, _ = openKeyring(r.opts.To, r.rows)
	r.state = map[string]string{}
	r.union = map[string]dataKey{}
	r.counts = counts{}
	for _, row := range r.rows {
		cnt := r.counts.at(deploymentTable, rowFormat(row))
		cnt.Values++
		_, oerr := row.unwrap(r.opts.From)
		_, nerr := row.unwrap(r.opts.To)
		switch {
		case row.wrapping() == wrapPlain:
			r.state[row.id] = "plain"
			cnt.Done++
		case oerr == nil:
			r.state[row.id] = "old"
			cnt.Rekey++
		case nerr == nil:
			r.state[row.id] = "new"
			cnt.Done++
		default:
			r.state[row.id] = "none"
			cnt.Failed = append(cnt.Failed, row.id+" ("+row.typ+")")
			r.undec = append(r.undec, deploymentTable+" "+row.id)
		}
	}
	for id, dk := range r.oldKR.dataKeys {
		r.union[id] = dk
	}
	for id, dk := range r.newKR.dataKeys {
		if _, ok := r.union[id]; !ok {
			r.union[id] = dk
		}
	}
	for _, row := range r.rows {
		if row.typ == typeDataKey && r.state[row.id] == "old" && !r.opts.RewrapOnly {
			r.rotate = true
		}
	}
	if r.rotate {
		if r.newDEK, err = newDataKey(); err != nil {
			return err
		}
		if r.newDEKID, err = newKeyID(); err != nil {
			return err
		}
	}

	// First pass: classify every value.
	legacyValues := 0
	w := &walker{db: r.db, q: r.q, batch: r.opts.Batch, log: r.opts.Logger}
	for _, loc := range inventory {
		err := w.each(ctx, loc, func(loc location, id string, parts []part, _ string) (string, error) {
			for _, p := range parts {
				v := cipher.ParseValue(p.value)
				if v.Format == cipher.FormatUnknown {
					continue
				}
				cnt := r.counts.at(loc.name, string(v.Format))
				cnt.Values++
				switch r.classify(v, loc.shape) {
				case "old":
					if r.opts.RewrapOnly && v.Format == cipher.FormatCBC {
						legacyValues++
					}
					if r.opts.RewrapOnly {
						cnt.Kept++
					} else {
						cnt.Rekey++
					}
				case "kept":
					cnt.Kept++
				case "new":
					cnt.Done++
				default:
					cnt.Failed = append(cnt.Failed, partID(loc, id, p))
					r.undec = append(r.undec, loc.name+" "+partID(loc, id, p))
				}
			}
			return "", nil
		}, func(id string) {
			cnt := r.counts.at(loc.name, "unparsable")
			cnt.Values++
			cnt.Failed = append(cnt.Failed, id+" (not JSON)")
			r.undec = append(r.undec, loc.name+" "+id+" (not JSON)")
		})
		if err != nil {
			return err
		}
	}
	r.res.Counts = r.counts.list()
	u, err := countExecutions(ctx, r.db, r.q)
	if err != nil {
		return err
	}
	if u != nil {
		r.res.Unverified = append(r.res.Unverified, *u)
	}
	r.notes()

	// Decide, before anything is written.
	if len(r.undec) > 0 && !r.opts.SkipUndecryptable {
		return fmt.Errorf("%w: %d value(s) decrypt with neither the old nor the new key, nothing was written: %s",
			ErrMismatch, len(r.undec), strings.Join(limit(r.undec, 10), "; "))
	}
	r.res.Skipped = r.undec
	if legacyValues > 0 {
		return fmt.Errorf("%w: --rewrap-only leaves values as they are, but %d value(s) are in the legacy format (CBC under the instance key itself, no data key): run the full rekey", ErrRefused, legacyValues)
	}
	return nil
}

// classify tells whether a value decrypts with the old key ("old"), is
// already under the new one ("new"), stays under a data key that is only
// re-wrapped ("kept"), or neither ("none").
func (r *run) classify(v cipher.Value, s shape) string {
	if v.Format == cipher.FormatPrefixed {
		dk, ok := r.union[v.KeyID]
		if !ok {
			return "none"
		}
		if r.opts.RewrapOnly {
			// Values stay as they are: that their data key unwraps is
			// what matters, and it is checked; not decrypting them keeps
			// the exclusive transaction short.
			if r.state[v.KeyID] == "old" {
				return "kept"
			}
			return "new"
		}
		if _, err := decryptWith(dk, v.Body, s); err != nil {
			return "none"
		}
		if r.rotate {
			return "old"
		}
		return "new"
	}
	_, oerr := r.oldKR.decrypt(v, s)
	_, nerr := cipher.DecryptCBC(r.opts.To, v.Body)
	if nerr == nil {
		pt, _ := cipher.DecryptCBC(r.opts.To, v.Body)
		if !s.ok(pt) {
			nerr = cipher.ErrDecrypt
		}
	}
	switch {
	case oerr == nil && nerr == nil:
		return "none" // both keys give a plausible plaintext: do not guess
	case oerr == nil:
		return "old"
	case nerr == nil:
		return "new"
	}
	return "none"
}

func decryptWith(dk dataKey, body string, s shape) ([]byte, error) {
	var pt []byte
	var err error
	if dk.algorithm == algCBC {
		pt, err = cipher.DecryptCBC(dk.key, body)
	} else {
		pt, err = cipher.DecryptGCM(dk.key, body)
	}
	if err == nil && !s.ok(pt) {
		err = cipher.ErrDecrypt
	}
	return pt, err
}

func rowFormat(row dkRow) string {
	switch row.wrapping() {
	case wrapPlain:
		return formatPlain
	case wrapCBC:
		return formatCBC
	}
	return formatWrapped
}

// notes says, before anything is written, what the rekey means beyond the
// values: the signing secrets, and n8n 1.x's derived secrets.
func (r *run) notes() {
	if !r.has2x {
		r.res.Notes = append(r.res.Notes, "n8n 1.x derives its session and public API key (JWT) secret, its HMAC and binary-data signing secrets and its instance id from N8N_ENCRYPTION_KEY itself: "+
			"with the new key every user is logged out and every public API key stops working (unless N8N_USER_MANAGEMENT_JWT_SECRET is set), whatever --signing-secrets says")
		return
	}
	r.res.Notes = append(r.res.Notes, "signing secrets: "+SigningEffects[r.opts.Signing])
	if r.opts.Signing == SigningKeep {
		r.res.Notes = append(r.res.Notes, "the other choice, "+SigningEffects[SigningRegenerate])
	} else {
		r.res.Notes = append(r.res.Notes, "the other choice, "+SigningEffects[SigningKeep])
	}
	if r.rotate {
		r.res.Notes = append(r.res.Notes, "a fresh data key "+r.newDEKID+" becomes the active one and every prefixed value is re-encrypted under it; the old data keys stay, inactive, re-wrapped under the new key (n8n never deletes them)")
	}
	if r.opts.RewrapOnly {
		r.res.Notes = append(r.res.Notes, "--rewrap-only: the data keys stay the same: whoever has the old key and an old backup of deployment_key can still read the data; after a leak, run the full rekey")
	}
	r.res.Notes = append(r.res.Notes, "the stored legacy data key (data_encryption, aes-256-cbc) will hold the new key: n8n 2.x decrypts unprefixed values with it")
}

// execute is the second pass: re-encrypt, check each result with the new
// key, and write when applying; then deployment_key.
func (r *run) execute(ctx context.Context) error {
	w := &walker{db: r.db, q: r.q, batch: r.opts.Batch, log: r.opts.Logger, write: r.opts.Apply}
	newDK := dataKey{algorithm: algGCM, key: r.newDEK, active: true}
	if !r.opts.RewrapOnly {
		for _, loc := range inventory {
			err := w.each(ctx, loc, func(loc location, id string, parts []part, text string) (string, error) {
				var old, repl []part
				for _, p := range parts {
					v := cipher.ParseValue(p.value)
					if v.Format == cipher.FormatUnknown || r.classify(v, loc.shape) != "old" {
						continue
					}
					nv, err := r.reencrypt(v, loc.shape, newDK)
					if err != nil {
						return "", fmt.Errorf("%s %s: %w", loc.name, partID(loc, id, p), err)
					}
					old = append(old, p)
					repl = append(repl, part{field: p.field, value: nv})
				}
				if len(repl) == 0 {
					return "", nil
				}
				r.res.Changes += len(repl)
				return loc.join(text, old, repl), nil
			}, func(string) {})
			if err != nil {
				return err
			}
		}
	}
	return r.deploymentKeys(ctx)
}

// reencrypt decrypts v with the old material and encrypts it under the
// new, in the same format, then checks that the result decrypts to the
// same plaintext.
func (r *run) reencrypt(v cipher.Value, s shape, newDK dataKey) (string, error) {
	var pt []byte
	var err error
	if v.Format == cipher.FormatPrefixed {
		pt, err = decryptWith(r.union[v.KeyID], v.Body, s)
	} else {
		pt, err = r.oldKR.decrypt(v, s)
	}
	if err != nil {
		return "", errors.New("no longer decrypts with the old key")
	}
	var out cipher.Value
	if v.Format == cipher.FormatPrefixed {
		body, err := cipher.EncryptGCM(newDK.key, pt)
		if err != nil {
			return "", err
		}
		out = cipher.Value{Format: cipher.FormatPrefixed, KeyID: r.newDEKID, Body: body}
		back, err := cipher.DecryptGCM(newDK.key, body)
		if err != nil || !bytes.Equal(back, pt) {
			return "", ErrCheckFailed
		}
	} else {
		body, err := cipher.EncryptCBC(r.opts.To, pt)
		if err != nil {
			return "", err
		}
		out = cipher.Value{Format: cipher.FormatCBC, Body: body}
		back, err := cipher.DecryptCBC(r.opts.To, body)
		if err != nil || !bytes.Equal(back, pt) {
			return "", ErrCheckFailed
		}
	}
	return out.Stored(), nil
}

// deploymentKeys re-wraps every row under the old key, and with rotate
// deactivates the active data key and inserts a fresh one.
func (r *run) deploymentKeys(ctx context.Context) error {
	if !r.has2x {
		return nil
	}
	legacy := legacyRow(r.rows)
	for _, row := range r.rows {
		act := KeyAction{ID: row.id, Type: row.typ}
		switch r.state[row.id] {
		case "plain":
			act.Action = "left as it is (not encrypted)"
		case "new":
			act.Action = "already under the new key"
		case "none":
			act.Action = "left as it is: readable with neither key"
		case "old":
			pt, err := row.unwrap(r.opts.From)
			if err != nil {
				return fmt.Errorf("%w: deployment_key %s no longer unwraps", ErrCheckFailed, row.id)
			}
			act.Action = "re-wrapped under the new key"
			switch {
			case legacy != nil && row.id == legacy.id:
				pt = []byte(r.opts.To)
				act.Action = "re-wrapped, now holding the new key"
			case row.typ == typeHMAC || row.typ == typeJWT || row.typ == typeBinaryData:
				if r.opts.Signing == SigningRegenerate {
					pt = signingSecret(row.typ, r.opts.To)
					act.Action = "regenerated from the new key and wrapped under it"
				} else {
					act.Action = "kept, re-wrapped under the new key"
				}
			}
			nv, err := row.rewrap(r.opts.To, pt)
			if err != nil {
				return err
			}
			back, err := (dkRow{typ: row.typ, value: nv, algorithm: row.algorithm}).unwrap(r.opts.To)
			if err != nil || !bytes.Equal(back, pt) {
				return fmt.Errorf("%w: deployment_key %s", ErrCheckFailed, row.id)
			}
			r.res.Changes++
			if r.opts.Apply {
				if err := r.db.Update(ctx, r.q, deploymentTable, []string{"id"}, []any{row.id}, "value", row.value, nv); err != nil {
					return err
				}
			}
			if r.rotate && row.typ == typeDataKey && row.status == statusActive {
				act.Action += ", deactivated"
				if r.opts.Apply {
					if err := r.setStatus(ctx, row.id, statusInactive); err != nil {
						return err
					}
				}
			}
		}
		r.res.Keys = append(r.res.Keys, act)
	}
	if !r.rotate {
		return nil
	}
	wrapped, err := cipher.Wrap(r.opts.To, []byte(r.newDEK))
	if err != nil {
		return err
	}
	r.res.Keys = append(r.res.Keys, KeyAction{ID: r.newDEKID, Type: typeDataKey, Action: "new active data key (aes-256-gcm), wrapped under the new key"})
	r.res.Changes++
	if !r.opts.Apply {
		return nil
	}
	_, err = r.q.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s ("id", "type", "value", "algorithm", "status") VALUES (%s, %s, %s, %s, %s)`,
		r.db.Table(deploymentTable), r.db.P(1), r.db.P(2), r.db.P(3), r.db.P(4), r.db.P(5)),
		r.newDEKID, typeDataKey, wrapped, algGCM, statusActive)
	return r.db.Classify("insert the new data key", err)
}

func (r *run) setStatus(ctx context.Context, id, status string) error {
	_, err := r.q.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET "status" = %s WHERE "id" = %s`, r.db.Table(deploymentTable), r.db.P(1), r.db.P(2)), status, id)
	return r.db.Classify("update deployment_key status", err)
}
