package audit

import (
	"strings"
)

// parseEnvFile reads a .env file as Docker Compose does: KEY=VALUE lines,
// an optional "export " prefix, # comments, single- or double-quoted
// values, and KEY alone (taken from the host's environment).
func parseEnvFile(file string, data []byte, in string) []*envVar {
	var out []*envVar
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		col := len(line) - len(trimmed) + 1
		if rest, ok := strings.CutPrefix(trimmed, "export "); ok {
			col += len(trimmed) - len(rest)
			trimmed = strings.TrimLeft(rest, " \t")
		}
		name, value, hasValue := strings.Cut(trimmed, "=")
		name = strings.TrimSpace(name)
		if name == "" || strings.ContainsAny(name, " \t") {
			continue
		}
		v := &envVar{name: name, pos: Pos{File: file, Line: i + 1, Col: col}, in: in}
		if !hasValue {
			v.kind, v.source = fromHost, "the host's "+name
		} else {
			v.value = envFileValue(value)
		}
		out = append(out, v)
	}
	return out
}

// envFileValue unquotes a value and drops a trailing comment.
func envFileValue(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
		if end := strings.IndexByte(v[1:], v[0]); end >= 0 {
			return v[1 : end+1]
		}
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v
}
