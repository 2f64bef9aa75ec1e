//go:build !linux

package store

// sqliteHolders finds nothing outside Linux: the transaction's EXCLUSIVE
// lock is then the only check.
func sqliteHolders(string, bool) []string { return nil }

// sqliteHoldersProbed finds nothing, and no lease probe runs.
func sqliteHoldersProbed(string, bool) ([]string, bool) { return nil, false }
