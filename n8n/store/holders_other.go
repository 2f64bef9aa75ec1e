//go:build !linux

package store

// sqliteHolders finds nothing outside Linux: the transaction's EXCLUSIVE
// lock is then the only check.
func sqliteHolders(string, bool) []string { return nil }
