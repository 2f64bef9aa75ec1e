package rekey

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sort"
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
	// ID is the row's id; empty for a data key a dry run would insert,
	// whose id is drawn at --apply.
	ID string `json:"id,omitempty"`
	// IDPrefix: dry run only: how the id of a data key --apply inserts
	// starts (kept from the key it replaces, for the MFA secrets).
	IDPrefix string `json:"id_prefix,omitempty"`
	Type     string `json:"type"`
	Action   string `json:"action"`
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

	rows   []dkRow
	has2x  bool
	oldKR  keyring
	newKR  keyring
	state  map[string]string // deployment_key row id → "old", "new", "plain", "none"
	union  map[string]dataKey
	rotate bool // a fresh active data key replaces the active one
	// regen: signing rows whose secret --signing-secrets regenerate
	// replaces (any that is not already the one derived from the new key).
	regen map[string]bool
	// fresh are the data keys a rotation inserts: fresh[0] the new active
	// one, then one inactive key per other MFA prefix (see mfaPrefixLen).
	fresh []freshKey
	// mfaPrefixes are the prefixes of the MFA secrets a rotation
	// re-encrypts; mfaLost names the users whose prefix cannot be kept.
	mfaPrefixes map[string]bool
	mfaLost     []string
	counts      counts
	undec       []string
}

// freshKey is a data key a rotation inserts.
type freshKey struct {
	id, key string
	prefix  string // the id's first characters that must stay (mfaPrefixLen), or ""
	active  bool
}

// mfaPrefixLen is how many characters of the stored MFA secret n8n's
// session hash includes: AuthService.createJWTHash hashes email, password
// hash and mfaSecret.substring(0, 3) (n8n 1.123 and 2.40,
// packages/cli/src/auth/auth.service.ts). On n8n 2.x a prefixed secret
// starts with its data key's id: a rotation that moved it under a key of
// another id would log its user out, whatever --signing-secrets says.
const mfaPrefixLen = 3

// mfaLocation is the inventory's name of user.mfaSecret.
const mfaLocation = "user.mfaSecret"

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
			r.undecryptable(cnt, row.name())
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
	r.planSigning()
	r.mfaPrefixes = map[string]bool{}

	// First pass: classify every value. legacy names the first legacy
	// values (and every secrets_provider_connection one, for the hint).
	var legacy []string
	legacyN := 0
	w := &walker{db: r.db, q: r.q, batch: r.opts.Batch, log: r.opts.Logger}
	for _, loc := range inventory {
		err := w.each(ctx, loc, func(loc location, id string, parts []part, _ string) (string, error) {
			for _, p := range parts {
				v := cipher.ParseValue(p.value)
				cnt := r.counts.at(loc.name, string(v.Format))
				cnt.Values++
				if v.Format == cipher.FormatUnknown {
					// Neither key reads it, and n8n fails on it: it
					// stops the run like a value under neither key.
					r.undecryptable(cnt, partID(loc, id, p)+notEncrypted)
					continue
				}
				switch r.classify(v, loc.shape) {
				case "old":
					if r.opts.RewrapOnly && v.Format == cipher.FormatCBC {
						legacyN++
						if len(legacy) < 10 || loc.table == "secrets_provider_connection" {
							legacy = append(legacy, loc.name+" "+partID(loc, id, p))
						}
					}
					if loc.name == mfaLocation && v.Format == cipher.FormatPrefixed && !r.opts.RewrapOnly {
						if len(v.KeyID) >= mfaPrefixLen {
							r.mfaPrefixes[v.KeyID[:mfaPrefixLen]] = true
						} else {
							r.mfaLost = append(r.mfaLost, id)
						}
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
					r.undecryptable(cnt, partID(loc, id, p))
				}
			}
			return "", nil
		}, func(id string) {
			cnt := r.counts.at(loc.name, "unparsable")
			cnt.Values++
			r.undecryptable(cnt, id+" (not JSON)")
		})
		if err != nil {
			return err
		}
	}
	r.res.Counts = r.counts.list()
	if r.rotate {
		if err := r.makeFreshKeys(); err != nil {
			return err
		}
	}
	ev, err := countExecutions(ctx, r.db, r.q)
	if err != nil {
		return err
	}
	if ev.Rows > 0 {
		r.res.Unverified = append(r.res.Unverified, Unverified{Location: executionLocation, Rows: ev.Rows, CBC: ev.CBC, Prefixed: ev.Prefixed,
			Why: r.executionEffects(ev)})
	}
	r.notes()

	// Decide, before anything is written.
	if len(r.undec) > 0 && !r.opts.SkipUndecryptable {
		return fmt.Errorf("%w: %d value(s) decrypt with neither the old nor the new key, nothing was written: %s",
			ErrMismatch, len(r.undec), strings.Join(limit(r.undec, 10), "; "))
	}
	r.res.Skipped = r.undec
	if legacyN > 0 {
		named := limit(legacy, 10)
		if legacyN > len(legacy) {
			named = append(legacy[:min(len(legacy), 10):min(len(legacy), 10)], fmt.Sprintf("and %d more", legacyN-min(len(legacy), 10)))
		}
		return fmt.Errorf("%w: --rewrap-only leaves values as they are, but %d value(s) are in the legacy format (CBC under the instance key itself, no data key): %s; %s",
			ErrRefused, legacyN, strings.Join(named, "; "), legacyHint(legacy))
	}
	return nil
}

// executionEffects says exactly what a rekey means for the encrypted
// runtime values of executions, which it leaves as they are.
func (r *run) executionEffects(ev ExecutionValues) string {
	why := executionWhat + ": not rekeyed"
	if ev.CBC > 0 {
		why += fmt.Sprintf("; %d in the legacy format (cbc) stay under the old key, which n8n no longer has: it cannot read them after the rekey (an execution resumed or retried with them loses its context)", ev.CBC)
	}
	if ev.Prefixed > 0 {
		why += fmt.Sprintf("; %d under a data key stay readable: their data keys stay, wrapped under the new key", ev.Prefixed)
	}
	switch {
	case !r.has2x:
		why += "; n8n 1.x logs every user out with the new key, so the session cookies they hold are void"
	case r.opts.Signing == SigningKeep:
		why += "; with --signing-secrets keep the session cookies they hold stay valid sessions until they expire, also for whoever decrypts them from a backup with the old key: after a leak, use regenerate"
	default:
		why += "; with --signing-secrets regenerate the session cookies they hold are no longer valid"
	}
	return why
}

// legacyHint says what to do about legacy values that stop --rewrap-only.
func legacyHint(legacy []string) string {
	hint := "run the full rekey (it keeps their format: the next --rewrap-only refuses them again until n8n rewrites them under a data key)"
	for _, l := range legacy {
		if strings.HasPrefix(l, "secrets_provider_connection.") {
			// n8n 2.x's migration from the external-secrets settings of
			// 1.x writes this row with the legacy cipher.
			return hint + "; the secrets_provider_connection row(s) were written by n8n's own migration of 1.x's external-secrets settings (MigrateExternalSecretsToEntityStorage, in the legacy format): with N8N_ENV_FEAT_ENCRYPTION_KEY_ROTATION=true, save the connection's settings once in n8n (Settings, External secrets) and n8n re-encrypts them under its active data key"
		}
	}
	return hint + "; n8n 2.x writes a value under a data key when it saves it with N8N_ENV_FEAT_ENCRYPTION_KEY_ROTATION=true"
}

// planSigning decides which signing rows --signing-secrets regenerate
// replaces: every one not already holding the secret derived from the new
// key, whatever it is stored as (wrapped under the old or the new key, or
// in plaintext as early 2.x stored it). A row that holds it already is
// done: a second run changes nothing.
func (r *run) planSigning() {
	r.regen = map[string]bool{}
	if r.opts.Signing != SigningRegenerate {
		return
	}
	for _, row := range r.rows {
		if !isSigning(row.typ) {
			continue
		}
		var pt []byte
		var err error
		switch r.state[row.id] {
		case "old":
			r.regen[row.id] = true
			continue
		case "new":
			pt, err = row.unwrap(r.opts.To)
		case "plain":
			pt = []byte(row.value)
		default:
			continue // readable with neither key: reported, left
		}
		if err != nil || !bytes.Equal(pt, signingSecret(row.typ, r.opts.To)) {
			r.regen[row.id] = true
			cnt := r.counts.at(deploymentTable, rowFormat(row))
			cnt.Done--
			cnt.Rekey++
		}
	}
}

func isSigning(typ string) bool { return typ == typeHMAC || typ == typeJWT || typ == typeBinaryData }

// makeFreshKeys makes the data keys a rotation inserts: the new active one,
// whose id starts like the active data key's, and one inactive key for
// each other prefix of the MFA secrets it re-encrypts, so that every MFA
// secret keeps its first mfaPrefixLen characters (see mfaPrefixLen).
func (r *run) makeFreshKeys() error {
	taken := map[string]bool{}
	activePrefix := ""
	for _, row := range r.rows {
		taken[row.id] = true
		if row.typ == typeDataKey && row.status == statusActive && len(row.id) >= mfaPrefixLen {
			activePrefix = row.id[:mfaPrefixLen]
		}
	}
	prefixes := []string{activePrefix}
	var others []string
	for p := range r.mfaPrefixes {
		if p != activePrefix {
			others = append(others, p)
		}
	}
	sort.Strings(others)
	prefixes = append(prefixes, others...)
	for i, p := range prefixes {
		fk := freshKey{prefix: p, active: i == 0}
		var err error
		if fk.key, err = newDataKey(); err != nil {
			return err
		}
		for fk.id == "" || taken[fk.id] {
			if fk.id, err = newKeyID(p); err != nil {
				return err
			}
		}
		taken[fk.id] = true
		r.fresh = append(r.fresh, fk)
	}
	return nil
}

// target returns the fresh data key a prefixed value at loc moves to: the
// new active one, or for an MFA secret the one that keeps its prefix.
func (r *run) target(loc location, v cipher.Value) freshKey {
	if loc.name == mfaLocation && len(v.KeyID) >= mfaPrefixLen {
		for _, fk := range r.fresh {
			if fk.prefix == v.KeyID[:mfaPrefixLen] {
				return fk
			}
		}
	}
	return r.fresh[0]
}

// undecryptable records a value that neither key reads, under the name
// the check before commit gives it (location, then id): the skip list of
// --skip-undecryptable must name it exactly so.
func (r *run) undecryptable(cnt *Count, id string) {
	cnt.Failed = append(cnt.Failed, id)
	r.undec = append(r.undec, cnt.Location+" "+id)
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
// values: the signing secrets, sessions, and n8n 1.x's derived secrets.
func (r *run) notes() {
	if !r.has2x {
		r.res.Notes = append(r.res.Notes, "n8n 1.x derives its session and public API key (JWT) secret, its HMAC and binary-data signing secrets and its instance id from N8N_ENCRYPTION_KEY itself: "+
			"with the new key every user is logged out and every public API key stops working (unless N8N_USER_MANAGEMENT_JWT_SECRET is set), whatever --signing-secrets says")
		return
	}
	switch {
	case r.opts.Signing == SigningRegenerate && len(r.regen) == 0:
		r.res.Notes = append(r.res.Notes, "signing secrets: regenerate: every signing secret already holds the one derived from the new key (an earlier regenerate): nothing to regenerate, sessions and public API keys stay as they are")
	default:
		r.res.Notes = append(r.res.Notes, "signing secrets: "+SigningEffects[r.opts.Signing])
	}
	if r.opts.Signing == SigningKeep {
		r.res.Notes = append(r.res.Notes, "the other choice, "+SigningEffects[SigningRegenerate])
	} else {
		r.res.Notes = append(r.res.Notes, "the other choice, "+SigningEffects[SigningKeep])
	}
	if r.rotate {
		fk := r.fresh[0]
		what := "a fresh data key"
		if r.opts.Apply {
			what += " " + fk.id
		} else if fk.prefix != "" {
			what += " (its id is chosen at --apply and starts with " + fk.prefix + ")"
		}
		r.res.Notes = append(r.res.Notes, what+" becomes the active one and every prefixed value is re-encrypted under it; the old data keys stay, inactive, re-wrapped under the new key (n8n never deletes them)")
		if len(r.mfaPrefixes) > 0 {
			r.res.Notes = append(r.res.Notes, fmt.Sprintf("MFA secrets: n8n's session hash includes the first %d characters of the stored MFA secret, which on n8n 2.x start with its data key's id: each one is re-encrypted under a fresh data key whose id starts the same way (%d prefix(es)), so that MFA users stay logged in as --signing-secrets says",
				mfaPrefixLen, len(r.mfaPrefixes)))
		}
		if len(r.mfaLost) > 0 {
			r.res.Notes = append(r.res.Notes, fmt.Sprintf("MFA secrets under a data key whose id is shorter than %d characters cannot keep their prefix: these users are logged out: user(s) %s",
				mfaPrefixLen, strings.Join(limit(r.mfaLost, 20), ", ")))
		}
	}
	if !r.rotate && !r.opts.RewrapOnly && r.activeDataKeyUnderNew() {
		// Nothing was under the old key: after a --rewrap-only to this
		// key, the active data key is still the one the old key unwrapped,
		// and a full rekey with the same keys cannot tell.
		r.res.Notes = append(r.res.Notes, "no data key is under the old key, so this run replaces no data key: if an earlier run was --rewrap-only (or the data keys were wrapped under the new key otherwise), "+
			"the active data key is still the one the old key unwrapped, and the old key with an old backup of deployment_key reads every value; after a leak, rekey again from this key to a further new one (a full rekey, without --rewrap-only)")
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
	if !r.opts.RewrapOnly {
		for _, loc := range inventory {
			err := w.each(ctx, loc, func(loc location, id string, parts []part, text string) (string, error) {
				var old, repl []part
				for _, p := range parts {
					v := cipher.ParseValue(p.value)
					if v.Format == cipher.FormatUnknown || r.classify(v, loc.shape) != "old" {
						continue
					}
					nv, err := r.reencrypt(loc, v)
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

// reencrypt decrypts v (at loc) with the old material and encrypts it under
// the new, in the same format, then checks that the result decrypts to the
// same plaintext.
func (r *run) reencrypt(loc location, v cipher.Value) (string, error) {
	var pt []byte
	var err error
	if v.Format == cipher.FormatPrefixed {
		pt, err = decryptWith(r.union[v.KeyID], v.Body, loc.shape)
	} else {
		pt, err = r.oldKR.decrypt(v, loc.shape)
	}
	if err != nil {
		return "", errors.New("no longer decrypts with the old key")
	}
	var out cipher.Value
	if v.Format == cipher.FormatPrefixed {
		fk := r.target(loc, v)
		body, err := cipher.EncryptGCM(fk.key, pt)
		if err != nil {
			return "", err
		}
		out = cipher.Value{Format: cipher.FormatPrefixed, KeyID: fk.id, Body: body}
		back, err := cipher.DecryptGCM(fk.key, body)
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

// deploymentKeys re-wraps every row under the old key, regenerates the
// signing secrets planSigning chose, and with rotate deactivates the active
// data key and inserts the fresh ones.
func (r *run) deploymentKeys(ctx context.Context) error {
	if !r.has2x {
		return nil
	}
	legacy := legacyRow(r.rows)
	for _, row := range r.rows {
		act := KeyAction{ID: row.id, Type: row.typ}
		var pt []byte
		write := false
		switch r.state[row.id] {
		case "plain":
			act.Action = "left as it is (not encrypted)"
		case "new":
			act.Action = "already under the new key"
		case "none":
			act.Action = "left as it is: readable with neither key"
		case "old":
			var err error
			if pt, err = row.unwrap(r.opts.From); err != nil {
				return fmt.Errorf("%w: deployment_key %s no longer unwraps", ErrCheckFailed, row.id)
			}
			write = true
			act.Action = "re-wrapped under the new key"
			switch {
			case legacy != nil && row.id == legacy.id:
				pt = []byte(r.opts.To)
				act.Action = "re-wrapped, now holding the new key"
			case isSigning(row.typ):
				act.Action = "kept, re-wrapped under the new key"
			}
		}
		if isSigning(row.typ) && r.opts.Signing == SigningRegenerate {
			switch {
			case r.regen[row.id]:
				pt, write = signingSecret(row.typ, r.opts.To), true
				act.Action = "regenerated from the new key and wrapped under it"
				if row.wrapping() == wrapPlain {
					act.Action = "regenerated from the new key, stored in plaintext as before (n8n wraps it at its next start)"
				}
			case r.state[row.id] == "new" || r.state[row.id] == "plain":
				act.Action = "already regenerated from the new key"
			}
		}
		if write {
			nv, err := row.rewrap(r.opts.To, pt)
			if err != nil {
				return err
			}
			back, err := (dkRow{typ: row.typ, value: nv, algorithm: row.algorithm, algNull: row.algNull}).unwrap(r.opts.To)
			if err != nil || !bytes.Equal(back, pt) {
				return fmt.Errorf("%w: deployment_key %s", ErrCheckFailed, row.id)
			}
			r.res.Changes++
			if r.opts.Apply {
				if err := r.db.Update(ctx, r.q, deploymentTable, []string{"id"}, []any{row.id}, "value", row.value, nv); err != nil {
					return err
				}
			}
		}
		if r.rotate && row.typ == typeDataKey && row.status == statusActive {
			// Also a data key no key reads (skipped): only one row may be
			// active, and the fresh one takes its place.
			act.Action += ", deactivated"
			if r.opts.Apply {
				if err := r.setStatus(ctx, row.id, statusInactive); err != nil {
					return err
				}
			}
		}
		r.res.Keys = append(r.res.Keys, act)
	}
	if !r.rotate {
		return nil
	}
	for _, fk := range r.fresh {
		wrapped, err := cipher.Wrap(r.opts.To, []byte(fk.key))
		if err != nil {
			return err
		}
		act := KeyAction{ID: fk.id, Type: typeDataKey, Action: "new active data key (aes-256-gcm), wrapped under the new key"}
		status := statusActive
		if !fk.active {
			status = statusInactive
			act.Action = "new inactive data key (aes-256-gcm), wrapped under the new key, for the MFA secrets whose prefix is " + fk.prefix
		}
		if !r.opts.Apply {
			// A dry run's ids are not the ones --apply will draw: it shows
			// only what stays, the prefix.
			act.ID, act.IDPrefix = "", fk.prefix
			if fk.prefix != "" {
				act.Action += "; its id is chosen at --apply and starts with " + fk.prefix
			} else {
				act.Action += "; its id is chosen at --apply"
			}
		}
		r.res.Keys = append(r.res.Keys, act)
		r.res.Changes++
		if !r.opts.Apply {
			continue
		}
		_, err = r.q.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s ("id", "type", "value", "algorithm", "status") VALUES (%s, %s, %s, %s, %s)`,
			r.db.Table(deploymentTable), r.db.P(1), r.db.P(2), r.db.P(3), r.db.P(4), r.db.P(5)),
			fk.id, typeDataKey, wrapped, algGCM, status)
		if err := r.db.Classify("insert a new data key", err); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) setStatus(ctx context.Context, id, status string) error {
	_, err := r.q.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET "status" = %s WHERE "id" = %s`, r.db.Table(deploymentTable), r.db.P(1), r.db.P(2)), status, id)
	return r.db.Classify("update deployment_key status", err)
}

// activeDataKeyUnderNew reports whether the database has an active data
// key (n8n 2.x's data_encryption, aes-256-gcm) already under the new key.
func (r *run) activeDataKeyUnderNew() bool {
	for _, row := range r.rows {
		if row.typ == typeDataKey && row.status == statusActive && r.state[row.id] == "new" {
			return true
		}
	}
	return false
}
