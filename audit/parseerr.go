package audit

import (
	"errors"
	"fmt"
)

// parseError is a file's parse problem in our own words: the line (0 when
// unknown) and the kind of problem. Parsers' own messages can quote the
// input (a YAML alias, a Dockerfile's first word, an HCL key), and a file's
// input can be a password, so their text never reaches a finding.
type parseError struct {
	line int
	kind string
}

func (e *parseError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("line %d: %s", e.line, e.kind)
	}
	return e.kind
}

// lineErr returns a parse error at line (0: unknown) of the given kind,
// which must be one of this package's fixed phrases.
func lineErr(line int, kind string) error { return &parseError{line: line, kind: kind} }

// parseErrorOf returns the line and kind of a parse error; an error of
// another type (which should not happen) gives a fixed kind, never its
// text.
func parseErrorOf(err error) (line int, kind string) {
	var pe *parseError
	if errors.As(err, &pe) {
		return pe.line, pe.kind
	}
	return 0, "does not parse"
}
