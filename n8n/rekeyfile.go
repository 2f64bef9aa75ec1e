package n8n

import "fmt"

// What a settings file holds, compared with a rekey's two keys
// (SettingsAfterRekey.Holds).
const (
	SettingsNoFile   = "no file"      // no settings file at the path
	SettingsNoKey    = "no key"       // a file without an encryptionKey string
	SettingsOldKey   = "the old key"  // the key the database is rekeyed from
	SettingsNewKey   = "the new key"  // the key it is rekeyed to
	SettingsOtherKey = "another key"  // neither
	SettingsInvalid  = "not readable" // unreadable, or not n8n's JSON
)

// SettingsAfterRekey is what a rekey found in n8n's settings file: n8n
// writes the key it runs with there, and refuses to start when the file
// holds another one ("Mismatching encryption keys"), as the guard does. A
// file that holds the old key must change with the database.
type SettingsAfterRekey struct {
	Path  string
	Holds string // one of the Settings* constants
	// Plan rewrites the file with the new key (under the rules of
	// N8N_SECRETS_N8N_SETTINGS=sync): set when asked for and the file
	// holds the old key and may be rewritten. The caller applies it after
	// the commit, and closes it.
	Plan *SyncPlan
	// Refused says why a rewrite that was asked for cannot be done (a
	// symbolic link, another owner, not a regular file, unreadable).
	Refused error
}

// InspectForRekey reads the settings file at path (SettingsPath) and
// compares its key with oldKey and newKey. With rewrite, a file holding
// oldKey gets a Plan to hold newKey instead, decided now, under sync's
// rules: a regular file, not a link, in a folder that is not a link,
// owned by this user (or, for root, by the folder's owner); the plan's
// Apply refuses if the file changes in between. Nothing is written here,
// and neither key appears in what it returns.
func InspectForRekey(path, oldKey, newKey string, rewrite bool) SettingsAfterRekey {
	out := SettingsAfterRekey{Path: path}
	st := readSettings(path)
	defer st.close()
	switch {
	case !st.exists:
		out.Holds = SettingsNoFile
		return out
	case st.err != nil || st.doc == nil:
		out.Holds = SettingsInvalid
		if rewrite {
			out.Refused = fmt.Errorf("%s cannot be read as n8n's settings file: %w", path, st.err)
		}
		return out
	}
	key, ok := st.doc.key()
	switch {
	case !ok || key == "":
		out.Holds = SettingsNoKey
	case key == oldKey:
		out.Holds = SettingsOldKey
	case key == newKey:
		out.Holds = SettingsNewKey
	default:
		out.Holds = SettingsOtherKey
	}
	if rewrite && out.Holds == SettingsOldKey {
		out.Plan, out.Refused = planSync(st, newKey, Fingerprint(oldKey), "holds a key with fingerprint "+Fingerprint(oldKey))
	}
	return out
}

// SettingsHoldsKey reports whether n8n's settings file at path holds an
// encryption key (n8n runs with it when N8N_ENCRYPTION_KEY is not set).
func SettingsHoldsKey(path string) bool {
	st := readSettings(path)
	defer st.close()
	if !st.exists || st.err != nil || st.doc == nil {
		return false
	}
	key, ok := st.doc.key()
	return ok && key != ""
}
