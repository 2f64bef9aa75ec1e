package store

import (
	"context"
	"io"
	"math"
	"os"
	"regexp"
	"strings"
	"syscall"
	"unicode/utf16"

	"github.com/n8n-secrets/n8n-secrets/n8n/n8nenv"
)

// postgresPassword returns the password node-postgres sends for c: n8n's
// DB_POSTGRESDB_PASSWORD, else PGPASSWORD, else, when both are empty and
// PGPASSWORD is unset, the first matching line of the pgpass file (client.js
// asks the pgpass module when the password is null). The file is read
// under ctx; like pgpass, a file that cannot be read, is not a regular
// file, or may be read by the group or others gives no password (and no
// error: n8n then connects without one).
func (c Config) postgresPassword(ctx context.Context) (string, error) {
	if pw := c.pw(); pw != "" || c.passFile == "" {
		return pw, nil
	}
	type result struct{ b []byte }
	ch := make(chan result, 1)
	go func() {
		f, err := os.OpenFile(c.passFile, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			ch <- result{}
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o077 != 0 {
			ch <- result{}
			return
		}
		b, _ := io.ReadAll(io.LimitReader(f, maxFileSize))
		ch <- result{b}
	}()
	select {
	case r := <-ch:
		return pgpassFind(r.b, c.Host, c.Port, c.Database, c.User, c.passDeescape), nil
	case <-ctx.Done():
		return "", ErrUnavailable
	}
}

// maxFileSize bounds what is read of a pgpass file or a CA bundle.
const maxFileSize = 1 << 20

// pgpassFind returns the password of the first line of a pgpass file that
// matches, as the pgpass module (1.0.5, lib/helper.js) that node-postgres
// uses matches it, so that n8n-secrets sends the password n8n would. Its
// parser is not libpq's, and a general pgpass library would read some
// files differently: lines are split at \r?\n; a line shorter than 11
// characters, or starting with white space then #, is skipped; fields end
// at a colon not preceded by a backslash, the fifth takes the rest of the
// line; \: and \\ are unescaped unless PGPASS_NO_DEESCAPE is set; every
// field must be non-empty and the port * or a positive integer; host,
// database and user match exactly or *, the port as a number.
func pgpassFind(data []byte, host string, port int, database, user string, deescape bool) string {
	for _, line := range lineSplit.Split(string(data), -1) {
		f := pgpassLine(line, deescape)
		if f == nil || !pgpassValid(f) {
			continue
		}
		portOK := f[1] == "*" || n8nenv.NumberJS(f[1]) == float64(port)
		if (f[0] == "*" || f[0] == host) && portOK && (f[2] == "*" || f[2] == database) && (f[3] == "*" || f[3] == user) {
			return f[4]
		}
	}
	return ""
}

var lineSplit = regexp.MustCompile(`\r?\n`)

var commentLine = regexp.MustCompile(`^[\t\v\f \x{00a0}\x{feff}\p{Zs}\n\r\x{2028}\x{2029}]+#`)

// pgpassLine splits one line into its five fields, or returns nil.
// Indexes are UTF-16 code units, as in JavaScript.
func pgpassLine(line string, deescape bool) []string {
	u := utf16.Encode([]rune(line))
	if len(u) < 11 || commentLine.MatchString(line) {
		return nil
	}
	var fields []string
	add := func(i0, i1 int) {
		s := string(utf16.Decode(u[i0:i1]))
		if deescape {
			s = strings.NewReplacer(`\:`, `:`, `\\`, `\`).Replace(s)
		}
		fields = append(fields, s)
	}
	start := 0
	for i := 0; i < len(u)-1; i++ {
		if len(fields) == 4 {
			add(start, len(u))
			break
		}
		if u[i+1] == ':' && u[i] != '\\' {
			add(start, i+1)
			start = i + 2
		}
	}
	if len(fields) != 5 {
		return nil
	}
	return fields
}

// pgpassValid is the module's isValidEntry.
func pgpassValid(f []string) bool {
	for i, v := range f {
		if v == "" {
			return false
		}
		if i == 1 && v != "*" {
			n := n8nenv.NumberJS(v)
			if math.IsNaN(n) || math.IsInf(n, 0) || n <= 0 || n >= 9007199254740992 || math.Floor(n) != n {
				return false
			}
		}
	}
	return true
}
