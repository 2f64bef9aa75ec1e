// Package rekey verifies and changes the key n8n's database is encrypted
// with. It knows where n8n keeps encrypted values (docs/n8n-encrypted-data.md,
// inventory.go), n8n 2.x's deployment_key table (keys.go), and works through
// package store's small interface over database/sql, in one transaction.
//
//   - Verify decrypts every value with one key and counts them per location
//     and format, naming the ids of what does not decrypt.
//   - Sample decrypts the few values that tell a wrong key at start: the data
//     keys, the newest credential, an MFA secret; one connection, one query.
//   - Run re-encrypts from one key to another. A dry run and --apply share
//     one path: classify every value first (decide before writing), then
//     re-encrypt in memory and check each result with the new key, writing
//     only when applying, then verify everything with the new key before
//     commit.
//
// Nothing here returns or logs a key, a value or a plaintext: reports hold
// counts, locations, row ids and deployment_key ids; errors wrap the
// package's sentinels (ErrMismatch, ErrRefused, ErrCheckFailed) or
// store's. Values inside execution data are counted, never decrypted
// (Unverified).
package rekey
