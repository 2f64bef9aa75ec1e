package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v3"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// MaxFileSize is the largest file the audit reads; larger ones are
// reported as not parsable.
const MaxFileSize = 4 << 20

// The kinds of files a report names (File.Kind), as FileKinds describes
// them.
const (
	KindCompose      = "compose"
	KindKubernetes   = "kubernetes"
	KindDockerfile   = "dockerfile"
	KindEnv          = "env"
	KindVaultPolicy  = "vault-policy"
	KindEnvTemplate  = "env-template"
	KindHelmTemplate = "helm-template"
	KindOther        = "other"
	KindInvalid      = "invalid"
	KindUnreadable   = "unreadable"
)

// FileKinds lists every kind of file a report names, with what it means,
// in the order the documentation shows them.
var FileKinds = []struct {
	Kind    string
	Meaning string
}{
	{KindCompose, "a Docker Compose file or Swarm stack (a YAML file with a top-level `services:`)"},
	{KindKubernetes, "Kubernetes manifests (YAML documents with `apiVersion` and `kind`)"},
	{KindDockerfile, "a Dockerfile"},
	{KindEnv, "a dotenv file (`.env`, `*.env`, `.env.*`): judged where its variables reach a service (a Compose project's `.env`, an `env_file`), or on its own when no Compose file of the run uses it"},
	{KindVaultPolicy, "a Vault ACL policy (an `.hcl` file with `path` blocks)"},
	{KindEnvTemplate, "a template of a dotenv file (`.env.example`, `.env.sample`, `.env.template`, `.env.dist`, and `*.env.example` …): skipped, its placeholders are meant to be replaced"},
	{KindHelmTemplate, "an unrendered Helm template (under a chart's `templates/`, or YAML with `{{ … }}` that does not parse): skipped, audit the output of `helm template`"},
	{KindOther, "YAML or HCL of another kind (Helm values, a Vault server configuration, CI files): read, nothing to judge"},
	{KindInvalid, "a file that does not parse (a PARSE_ERROR names its line and the kind of problem)"},
	{KindUnreadable, "a file that cannot be read (not a regular file, larger than 4 MiB, no permission)"},
}

// File is one file the audit read, with what it took it for.
type File struct {
	Path string `json:"path"`
	// Kind is one of FileKinds: compose, kubernetes, dockerfile, env,
	// vault-policy, env-template, helm-template, other, invalid, unreadable.
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
// written. Files that the audited ones refer to (a Compose file's .env,
// env_file and build Dockerfile) are read only inside the audited tree:
// the directories given, and the directory of each file given. Errors are
// for paths that cannot be read at all and for ctx ending; a file that
// does not parse is a finding. stores are the stores the start knows (the
// program's list): their schemes are references, parsed as the start does.
func Run(ctx context.Context, stores inject.Stores, paths []string) (*Report, error) {
	a := newAuditor(ctx, stores)
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
		a.load(f)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	a.build()
	return a.finish(), nil
}

// auditor holds one run's state.
type auditor struct {
	ctx      context.Context
	stores   inject.Stores // the stores whose references the start resolves
	roots    []string      // the audited tree: absolute, symbolic links resolved
	files    []File
	findings []Finding
	services []*service
	policies []*vaultPolicy
	contents map[string][]byte // files read, for suppressions

	dockerfiles map[string]*dockerfile // parsed, by path
	dotenvs     map[string][]envEntry  // parsed, by path (without outer lookup)
	// What load found, built into services once every file is read.
	composeDocs  []composeDoc
	kubeObjs     []kubeObject
	ownDocker    []*dockerfile // Dockerfiles audited as files of the run
	envFilesSeen []string      // env files of the run, in order
	usedEnv      map[string]bool
	helmCharts   map[string]bool // chart directories whose templates were skipped
	envNotes     map[string]string
	literals     map[literalKey]*literalGroup
	literalOrder []literalKey
	// composeDirNames: the project name the default Compose files of a
	// directory give (name:), for their overrides too.
	composeDirNames map[string]string
}

type composeDoc struct {
	file string
	doc  *yaml.Node
}

func newAuditor(ctx context.Context, stores inject.Stores) *auditor {
	return &auditor{ctx: ctx, stores: stores, contents: map[string][]byte{}, dockerfiles: map[string]*dockerfile{},
		dotenvs: map[string][]envEntry{}, usedEnv: map[string]bool{}, helmCharts: map[string]bool{}, envNotes: map[string]string{},
		literals: map[literalKey]*literalGroup{}, composeDirNames: map[string]string{}}
}

// finish runs the checks over what was built and returns the report.
func (a *auditor) finish() *Report {
	a.checkServices()
	a.checkPolicies()
	a.flushLiterals()
	a.notes()
	a.suppress()
	return &Report{Files: a.files, Findings: a.sorted()}
}

// templateSuffixes end the names of dotenv templates.
var templateSuffixes = []string{".example", ".sample", ".template", ".dist", ".tpl", ".tmpl"}

// kindOf returns what a file is taken for by its name: "dockerfile",
// "yaml", "env", "env-template", "hcl", or "".
func kindOf(name string) string {
	lower := strings.ToLower(filepath.Base(name))
	isEnv := lower == ".env" || strings.HasSuffix(lower, ".env") || strings.HasPrefix(lower, ".env.") || strings.Contains(lower, ".env.")
	switch {
	case strings.HasSuffix(lower, ".dockerignore"):
		return ""
	case lower == "dockerfile" || strings.HasPrefix(lower, "dockerfile.") || strings.HasSuffix(lower, ".dockerfile") || lower == "containerfile":
		return "dockerfile"
	case strings.HasSuffix(lower, ".yaml") || strings.HasSuffix(lower, ".yml"):
		return "yaml"
	case isEnv:
		for _, s := range templateSuffixes {
			if strings.HasSuffix(lower, s) {
				return "env-template"
			}
		}
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

// addRoot adds a directory to the audited tree.
func (a *auditor) addRoot(dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	a.roots = append(a.roots, abs)
}

// inTree reports whether p, once symbolic links are resolved, lies in the
// audited tree. A compose file may name any path as env_file (/etc/shadow,
// /proc/self/environ): the audit reads only what it was given.
func (a *auditor) inTree(p string) bool {
	abs, err := filepath.Abs(p)
	if err != nil {
		return false
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	} else if d, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		// A file that does not exist: judge its directory.
		abs = filepath.Join(d, filepath.Base(abs))
	}
	for _, root := range a.roots {
		if abs == root || strings.HasPrefix(abs, strings.TrimSuffix(root, string(filepath.Separator))+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// discover lists the files to audit under p and adds p to the tree.
func (a *auditor) discover(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("audit: %s: %w", p, pathErr(err))
	}
	if !st.IsDir() {
		if kindOf(p) == "" {
			return nil, fmt.Errorf("audit: %s: not a Dockerfile, YAML, .env or .hcl file", p)
		}
		a.addRoot(filepath.Dir(p))
		return []string{filepath.Clean(p)}, nil
	}
	a.addRoot(p)
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

// errOutsideTree: a file an audited file refers to lies outside the
// audited tree, and is not read.
var errOutsideTree = errors.New("outside the audited tree")

// readReferenced reads a file that an audited file refers to, only when
// it lies in the audited tree.
func (a *auditor) readReferenced(p string) ([]byte, error) {
	p = filepath.Clean(p)
	if _, ok := a.contents[p]; !ok && !a.inTree(p) {
		return nil, errOutsideTree
	}
	return a.readFile(p)
}

// noteEnvFile records, once per file, why an env_file was not read.
func (a *auditor) noteEnvFile(p, why string) {
	if _, ok := a.envNotes[p]; !ok {
		a.envNotes[p] = why
	}
}

// dockerfileAt parses the Dockerfile at p once; nil when it cannot be
// read (outside the audited tree included) or parsed.
func (a *auditor) dockerfileAt(p string) *dockerfile {
	p = filepath.Clean(p)
	if df, ok := a.dockerfiles[p]; ok {
		return df
	}
	a.dockerfiles[p] = nil
	data, err := a.readReferenced(p)
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

// addFile records a file of the run.
func (a *auditor) addFile(p string, k string) { a.files = append(a.files, File{Path: p, Kind: k}) }

// parseFailed records a file that does not parse: the line and the kind of
// problem, never the text.
func (a *auditor) parseFailed(p, what string, err error) {
	a.addFile(p, KindInvalid)
	line, kind := parseErrorOf(err)
	a.add(CodeParseError, Error, Pos{File: p, Line: line}, "", what+": "+kind, "")
}

// helmChartOf returns the chart directory when p lies under a chart's
// templates directory (a templates/ whose parent holds Chart.yaml).
func helmChartOf(p string) string {
	dir := filepath.Dir(p)
	for i := 0; i < 8; i++ {
		if filepath.Base(dir) == "templates" {
			chart := filepath.Dir(dir)
			if st, err := os.Stat(filepath.Join(chart, "Chart.yaml")); err == nil && st.Mode().IsRegular() {
				return chart
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return ""
}

// load reads one file of the run and keeps what it holds for build.
func (a *auditor) load(p string) {
	kind := kindOf(p)
	if kind == "env-template" {
		a.addFile(p, KindEnvTemplate)
		return
	}
	if kind == "yaml" {
		if chart := helmChartOf(p); chart != "" {
			a.addFile(p, KindHelmTemplate)
			a.helmCharts[chart] = true
			return
		}
	}
	data, err := a.readFile(p)
	if err != nil {
		a.addFile(p, KindUnreadable)
		a.add(CodeParseError, Error, Pos{File: p}, "", "cannot read the file: "+err.Error(), "")
		return
	}
	switch kind {
	case "dockerfile":
		df, err := parseDockerfile(p, data)
		if err != nil {
			a.parseFailed(p, "Dockerfile", err)
			return
		}
		a.addFile(p, KindDockerfile)
		a.dockerfiles[filepath.Clean(p)] = df
		a.ownDocker = append(a.ownDocker, df)
	case "env":
		a.addFile(p, KindEnv)
		a.envFilesSeen = append(a.envFilesSeen, filepath.Clean(p))
	case "hcl":
		pol, isPolicy, err := parseVaultPolicy(p, data)
		switch {
		case err != nil && isPolicy:
			a.parseFailed(p, "Vault policy", err)
		case err != nil || !isPolicy:
			a.addFile(p, KindOther)
		default:
			a.addFile(p, KindVaultPolicy)
			a.policies = append(a.policies, pol)
		}
	case "yaml":
		docs, err := yamlDocs(data)
		if err != nil {
			if bytes.Contains(data, []byte("{{")) {
				// Go template actions: an unrendered chart or template.
				a.addFile(p, KindHelmTemplate)
				a.helmCharts[filepath.Dir(p)] = true
				return
			}
			a.parseFailed(p, "YAML", err)
			return
		}
		for _, d := range docs {
			if isComposeFile(d) {
				a.addFile(p, KindCompose)
				a.composeDocs = append(a.composeDocs, composeDoc{p, d})
				return
			}
		}
		objs := kubeObjects(p, docs)
		if len(objs) == 0 {
			a.addFile(p, KindOther)
			return
		}
		a.addFile(p, KindKubernetes)
		a.kubeObjs = append(a.kubeObjs, objs...)
	}
}

// build turns what load found into services: Compose files (with their
// .env, env_file and Dockerfiles), the Kubernetes objects of every file
// together, the Dockerfiles of the run, and the env files no Compose file
// uses, each on its own.
func (a *auditor) build() {
	for _, c := range a.composeDocs {
		if n := str(get(c.doc, "name")); n != "" && defaultComposeNames[strings.ToLower(filepath.Base(c.file))] {
			if s := interpolate(n, Pos{}, a.projectEnv(c.file)); s.known() && s.value != "" {
				a.composeDirNames[filepath.Dir(c.file)] = s.value
			}
		}
	}
	for _, c := range a.composeDocs {
		a.services = append(a.services, a.composeServices(c.file, c.doc)...)
	}
	if len(a.kubeObjs) > 0 {
		a.services = append(a.services, a.kubeServices(a.kubeObjs)...)
		a.auditKubeObjects(a.kubeObjs)
	}
	for _, df := range a.ownDocker {
		a.auditDockerfile(df)
	}
	for _, p := range a.envFilesSeen {
		if a.usedEnv[p] {
			continue
		}
		entries := a.dotenv(p, nil)
		s := &service{subject: "file " + filepath.Base(p), group: p, pos: Pos{File: p}, standalone: true}
		for _, e := range entries {
			s.setEnv(fromSetting(e.name, e.setting, e.pos))
		}
		a.services = append(a.services, s)
	}
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
