package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// MaxFileSize is the largest file the audit reads; larger ones are
// reported as not parsable.
const MaxFileSize = 4 << 20

// File is one file the audit read, with what it took it for.
type File struct {
	Path string `json:"path"`
	// Kind is compose (Compose or Swarm stack), kubernetes, dockerfile,
	// env, vault-policy, or skipped (a YAML or HCL file of another kind).
	Kind string `json:"kind"`
}

// Report is the outcome of a run: the files read and the findings, sorted
// by file, line, column and code, with the run-wide notes last.
type Report struct {
	Files    []File    `json:"files"`
	Findings []Finding `json:"findings"`
}

// Count returns how many findings of at least severity min are not
// suppressed.
func (r *Report) Count(min Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Suppressed == nil && f.Severity >= min {
			n++
		}
	}
	return n
}

// Run audits the files at paths. A directory is walked; under it, hidden
// directories, node_modules, vendor and testdata are skipped, and only
// files recognised by name are read (Dockerfile, Dockerfile.*, *.dockerfile,
// Containerfile, *.yaml, *.yml, .env, *.env, .env.*, *.hcl). A file named
// explicitly must be of one of those kinds. Only regular files are read
// (never a FIFO or a device), none larger than MaxFileSize, and nothing is
// written. Errors are for paths that cannot be read at all and for ctx
// ending; a file that does not parse is a finding.
func Run(ctx context.Context, paths []string) (*Report, error) {
	a := &auditor{ctx: ctx, contents: map[string][]byte{}, dockerfiles: map[string]*dockerfile{}}
	var files []string
	for _, p := range paths {
		found, err := a.discover(p)
		if err != nil {
			return nil, err
		}
		files = append(files, found...)
	}
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f] {
			continue
		}
		seen[f] = true
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		a.auditFile(f)
	}
	a.checkServices()
	a.checkPolicies()
	a.notes()
	a.suppress()
	return &Report{Files: a.files, Findings: a.sorted()}, nil
}

// auditor holds one run's state.
type auditor struct {
	ctx         context.Context
	files       []File
	findings    []Finding
	services    []*service
	policies    []*vaultPolicy
	contents    map[string][]byte      // files read, for suppressions
	dockerfiles map[string]*dockerfile // parsed, by path
}

// kindOf returns what a file is taken for by its name, or "".
func kindOf(name string) string {
	base := filepath.Base(name)
	lower := strings.ToLower(base)
	switch {
	case strings.HasSuffix(lower, ".dockerignore"):
		return ""
	case lower == "dockerfile" || strings.HasPrefix(lower, "dockerfile.") || strings.HasSuffix(lower, ".dockerfile") || lower == "containerfile":
		return "dockerfile"
	case strings.HasSuffix(lower, ".yaml") || strings.HasSuffix(lower, ".yml"):
		return "yaml"
	case lower == ".env" || strings.HasSuffix(lower, ".env") || strings.HasPrefix(lower, ".env."):
		return "env"
	case strings.HasSuffix(lower, ".hcl"):
		return "hcl"
	}
	return ""
}

// skipDir reports whether a directory met while walking is left out.
func skipDir(name string) bool {
	return strings.HasPrefix(name, ".") || name == "node_modules" || name == "vendor" || name == "testdata"
}

// discover lists the files to audit under p.
func (a *auditor) discover(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("audit: %s: %w", p, pathErr(err))
	}
	if !st.IsDir() {
		if kindOf(p) == "" {
			return nil, fmt.Errorf("audit: %s: not a Dockerfile, YAML, .env or .hcl file", p)
		}
		return []string{filepath.Clean(p)}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("audit: %s: %w", q, pathErr(err))
		}
		if err := a.ctx.Err(); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		if d.IsDir() {
			if q != p && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && kindOf(q) != "" {
			out = append(out, q)
		}
		return nil
	})
	return out, err
}

// pathErr keeps the reason of a path error without repeating the path.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readFile reads a regular file of at most MaxFileSize bytes. It opens
// without blocking, so that a FIFO cannot hang the run, and refuses
// anything but a regular file.
func (a *auditor) readFile(p string) ([]byte, error) {
	if b, ok := a.contents[p]; ok {
		return b, nil
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, pathErr(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, pathErr(err)
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxFileSize)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, pathErr(err)
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxFileSize)
	}
	a.contents[p] = b
	return b, nil
}

// dockerfileAt parses the Dockerfile at p once; nil when it cannot be
// read or parsed.
func (a *auditor) dockerfileAt(p string) *dockerfile {
	p = filepath.Clean(p)
	if df, ok := a.dockerfiles[p]; ok {
		return df
	}
	a.dockerfiles[p] = nil
	data, err := a.readFile(p)
	if err != nil {
		return nil
	}
	df, err := parseDockerfile(p, data)
	if err != nil {
		return nil
	}
	a.dockerfiles[p] = df
	return df
}

// add records a finding. An empty hint takes the rule's first sentence.
func (a *auditor) add(code string, sev Severity, pos Pos, subject, msg, hint string) {
	if hint == "" {
		h := rule(code).Help
		if i := strings.Index(h, ". "); i >= 0 {
			h = h[:i+1]
		}
		hint = h
	}
	a.findings = append(a.findings, Finding{Code: code, Severity: sev, File: pos.File, Line: pos.Line, Column: pos.Col,
		Subject: subject, Message: msg, Hint: hint})
}

// yamlLineRe finds the line in a YAML error.
var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// auditFile reads one file and collects its services, policies and
// file-level findings.
func (a *auditor) auditFile(p string) {
	data, err := a.readFile(p)
	if err != nil {
		a.files = append(a.files, File{Path: p, Kind: "unreadable"})
		a.add(CodeParseError, Error, Pos{File: p}, "", "cannot read the file: "+err.Error(), "")
		return
	}
	switch kindOf(p) {
	case "dockerfile":
		a.files = append(a.files, File{Path: p, Kind: "dockerfile"})
		df, err := parseDockerfile(p, data)
		if err != nil {
			a.add(CodeParseError, Error, Pos{File: p, Line: lineOf(err.Error())}, "", "Dockerfile: "+err.Error(), "")
			return
		}
		a.dockerfiles[filepath.Clean(p)] = df
		a.auditDockerfile(df)
	case "env":
		a.files = append(a.files, File{Path: p, Kind: "env"})
		s := &service{subject: "file " + filepath.Base(p), group: p, pos: Pos{File: p}, standalone: true, env: parseEnvFile(p, data, "")}
		a.services = append(a.services, s)
	case "hcl":
		pol, isPolicy, err := parseVaultPolicy(p, data)
		switch {
		case err != nil:
			a.files = append(a.files, File{Path: p, Kind: "vault-policy"})
			a.add(CodeParseError, Error, Pos{File: p, Line: lineOf(err.Error())}, "", "Vault policy: "+err.Error(), "")
		case !isPolicy:
			a.files = append(a.files, File{Path: p, Kind: "skipped"})
		default:
			a.files = append(a.files, File{Path: p, Kind: "vault-policy"})
			a.policies = append(a.policies, pol)
		}
	case "yaml":
		docs, err := yamlDocs(data)
		if err != nil {
			a.files = append(a.files, File{Path: p, Kind: "yaml"})
			a.add(CodeParseError, Error, Pos{File: p, Line: lineOf(err.Error())}, "", "YAML: "+strings.TrimPrefix(err.Error(), "yaml: "), "")
			return
		}
		for _, d := range docs {
			if isComposeFile(d) {
				a.files = append(a.files, File{Path: p, Kind: "compose"})
				a.services = append(a.services, a.composeServices(p, d)...)
				return
			}
		}
		objs := kubeObjects(p, docs)
		if len(objs) == 0 {
			a.files = append(a.files, File{Path: p, Kind: "skipped"})
			return
		}
		a.files = append(a.files, File{Path: p, Kind: "kubernetes"})
		a.services = append(a.services, a.kubeServices(p, objs)...)
		a.auditKubeObjects(p, objs)
	}
}

func lineOf(msg string) int {
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// suppressRe matches "n8n-secrets:ignore CODE[,CODE…] justification".
var suppressRe = regexp.MustCompile(`n8n-secrets:ignore[ \t]+([A-Z0-9_]+(?:[ \t]*,[ \t]*[A-Z0-9_]+)*)[ \t]*(.*)$`)

// suppress marks the findings that an ignore comment on their line, or on
// the line above, accepts.
func (a *auditor) suppress() {
	lines := map[string][]string{}
	for i := range a.findings {
		f := &a.findings[i]
		if f.File == "" || f.Line == 0 {
			continue
		}
		ls, ok := lines[f.File]
		if !ok {
			ls = strings.Split(string(a.contents[f.File]), "\n")
			lines[f.File] = ls
		}
		for _, ln := range []int{f.Line, f.Line - 1} {
			if ln < 1 || ln > len(ls) {
				continue
			}
			m := suppressRe.FindStringSubmatch(strings.TrimRight(ls[ln-1], "\r"))
			if m == nil {
				continue
			}
			for _, c := range strings.Split(m[1], ",") {
				if strings.TrimSpace(c) == f.Code {
					f.Suppressed = &Suppression{Justification: strings.TrimSpace(m[2]), Line: ln}
				}
			}
			if f.Suppressed != nil {
				break
			}
		}
	}
}

// sorted returns the findings, duplicates (same code and place) merged,
// sorted by file, line, column and code; run-wide notes last.
func (a *auditor) sorted() []Finding {
	type key struct {
		code, file string
		line, col  int
		msg        string
	}
	index := map[key]int{}
	var out []Finding
	for _, f := range a.findings {
		k := key{f.Code, f.File, f.Line, f.Column, f.Message}
		if i, ok := index[k]; ok {
			switch {
			case f.Subject == "" || strings.Contains(", "+out[i].Subject+", ", ", "+f.Subject+", "):
			case out[i].Subject == "":
				out[i].Subject = f.Subject
			default:
				out[i].Subject += ", " + f.Subject
			}
			if f.Severity > out[i].Severity {
				out[i].Severity = f.Severity
			}
			continue
		}
		index[k] = len(out)
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		x, y := out[i], out[j]
		if (x.File == "") != (y.File == "") {
			return y.File == ""
		}
		if x.File != y.File {
			return x.File < y.File
		}
		if x.Line != y.Line {
			return x.Line < y.Line
		}
		if x.Column != y.Column {
			return x.Column < y.Column
		}
		return x.Code < y.Code
	})
	if out == nil {
		out = []Finding{}
	}
	return out
}
