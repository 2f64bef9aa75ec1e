package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The corpus: real deployment files that nobody here wrote, kept under
// testdata/corpus with their source (repository, path, commit) in
// corpus.json; where a license does not allow a copy, a file of our own
// reduced from the original names it in a comment. Each file states its
// expected findings and the verdict on each.

type corpusManifest struct {
	Cases []corpusCase `json:"cases"`
}

type corpusCase struct {
	Dir        string       `json:"dir"`
	Repository string       `json:"repository"`
	Commit     string       `json:"commit"`
	License    string       `json:"license"`
	Form       string       `json:"form"` // copy, reduced, rendered
	Note       string       `json:"note"`
	Files      []corpusFile `json:"files"`
}

// corpusFile is one file of a case, or all the files under a directory
// when Path ends with "/".
type corpusFile struct {
	Path   string          `json:"path"`
	Source string          `json:"source,omitempty"` // the path in the repository, when not Path
	Kind   string          `json:"kind"`
	Expect []corpusFinding `json:"expect"`
}

type corpusFinding struct {
	Finding string `json:"finding"` // CODE/severity:line
	Verdict string `json:"verdict"`
}

func loadCorpus(t testing.TB) corpusManifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "corpus", "corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m corpusManifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// entryOf returns the manifest entry of a file (relative to its case):
// its own, else the longest directory entry that holds it.
func (c corpusCase) entryOf(rel string) *corpusFile {
	var best *corpusFile
	for i := range c.Files {
		f := &c.Files[i]
		switch {
		case f.Path == rel:
			return f
		case strings.HasSuffix(f.Path, "/") && strings.HasPrefix(rel, f.Path) && (best == nil || len(f.Path) > len(best.Path)):
			best = f
		}
	}
	return best
}

// corpusResult is what one case's run found, per manifest entry.
type corpusResult struct {
	files    map[*corpusFile][]string // the files of each entry
	findings map[*corpusFile][]string // CODE/severity:line of each warning and error
}

func runCorpusCase(t *testing.T, c corpusCase) (*Report, corpusResult) {
	t.Helper()
	dir := filepath.Join("testdata", "corpus", filepath.FromSlash(c.Dir))
	rep, err := Run(context.Background(), testStores, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	res := corpusResult{files: map[*corpusFile][]string{}, findings: map[*corpusFile][]string{}}
	rel := func(p string) string {
		r, _ := filepath.Rel(dir, p)
		return filepath.ToSlash(r)
	}
	for _, f := range rep.Files {
		e := c.entryOf(rel(f.Path))
		if e == nil {
			t.Errorf("%s: %s (%s) is not in corpus.json", c.Dir, rel(f.Path), f.Kind)
			continue
		}
		if e.Kind != f.Kind {
			t.Errorf("%s: %s taken for %s, corpus.json says %s", c.Dir, rel(f.Path), f.Kind, e.Kind)
		}
		res.files[e] = append(res.files[e], rel(f.Path))
	}
	for _, f := range rep.Findings {
		if f.File == "" || f.Severity == Info || f.Suppressed != nil {
			continue
		}
		e := c.entryOf(rel(f.File))
		if e == nil {
			t.Errorf("%s: a finding in %s, a file not in corpus.json", c.Dir, rel(f.File))
			continue
		}
		res.findings[e] = append(res.findings[e], fmt.Sprintf("%s/%s:%d", f.Code, f.Severity, f.Line))
	}
	return rep, res
}

// plantedValues returns the values written for secret-named variables in
// a case's files (KEY=value, KEY: value, --requirepass value), at least 8
// characters long: none may appear in any output.
func plantedValues(t *testing.T, dir string) []string {
	t.Helper()
	re := regexp.MustCompile(`^\s*-?\s*"?([A-Za-z_][A-Za-z0-9_]*)"?\s*[=:]\s*"?([^"#\s$]{8,})"?\s*(#.*)?$`)
	flag := regexp.MustCompile(`--requirepass\s+([^\s"'$]{8,})`)
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || kindOf(p) == "" {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil && isSecretName(m[1]) && !strings.HasPrefix(m[2], "/") {
				out = append(out, m[2])
			}
			if m := flag.FindStringSubmatch(sc.Text()); m != nil {
				out = append(out, m[1])
			}
		}
		return nil
	})
	return out
}

// TestCorpus audits every case of the corpus as a user would (one run per
// case's directory): each file is taken for what corpus.json says, the
// warnings and errors are exactly the expected ones (a false error fails),
// and no value written in the files reaches any output.
func TestCorpus(t *testing.T) {
	m := loadCorpus(t)
	repos := map[string]bool{}
	realFiles := 0
	for _, c := range m.Cases {
		t.Run(c.Dir, func(t *testing.T) {
			rep, res := runCorpusCase(t, c)
			for i := range c.Files {
				e := &c.Files[i]
				if len(res.files[e]) == 0 {
					t.Errorf("corpus.json lists %s, which the run did not read", e.Path)
				}
				var want []string
				for _, x := range e.Expect {
					want = append(want, x.Finding)
					if !strings.HasPrefix(x.Verdict, "true: ") {
						t.Errorf("%s %s: a verdict starts with \"true: \" and says why (%q)", e.Path, x.Finding, x.Verdict)
					}
				}
				got := res.findings[e]
				sort.Strings(want)
				sort.Strings(got)
				if strings.Join(want, " ") != strings.Join(got, " ") {
					t.Errorf("%s: findings %v, corpus.json expects %v", e.Path, got, want)
				}
			}
			outs := outputs(t, rep)
			// The rules' own texts (every SARIF output lists them) hold
			// common words such as "password": only values they do not
			// hold can be told apart.
			static := outputs(t, &Report{Files: []File{}, Findings: []Finding{}})["sarif"]
			for _, v := range plantedValues(t, filepath.Join("testdata", "corpus", filepath.FromSlash(c.Dir))) {
				if strings.Contains(static, v) {
					continue
				}
				for name, out := range outs {
					if strings.Contains(out, v) {
						t.Errorf("the %s output holds a value written in the files (%d characters)", name, len(v))
					}
				}
			}
			repos[c.Repository] = true
			for _, f := range rep.Files {
				if f.Kind != KindHelmTemplate && f.Kind != KindOther {
					realFiles++
				}
			}
		})
	}
	if len(repos) < 8 || realFiles < 15 {
		t.Errorf("the corpus has %d deployment files from %d repositories; the issue asks for 15 from 8", realFiles, len(repos))
	}
}

// corpusTable renders the corpus results as a Markdown table: the file,
// its source, what it was taken for, the findings and the verdict on
// each. full lists every entry; otherwise only those with findings, then
// a count of the rest.
func corpusTable(t *testing.T, full bool) string {
	m := loadCorpus(t)
	var b strings.Builder
	b.WriteString("| file | source | read as | findings: verdict |\n|---|---|---|---|\n")
	clean, cleanFiles := 0, 0
	for _, c := range m.Cases {
		_, res := runCorpusCase(t, c)
		for i := range c.Files {
			e := &c.Files[i]
			n := len(res.files[e])
			if !full && len(e.Expect) == 0 {
				clean++
				cleanFiles += n
				continue
			}
			name := c.Dir + "/" + e.Path
			if strings.HasSuffix(e.Path, "/") {
				name += fmt.Sprintf(" (%d other files)", n)
			}
			src, shown := e.Source, ""
			if src == "" {
				src = e.Path
			} else {
				shown = " `" + src + "`"
			}
			repoPath, _, _ := strings.Cut(src, ",")
			link := fmt.Sprintf("[%s@%s](https://github.com/%s/blob/%s/%s)%s", c.Repository, c.Commit[:7], c.Repository, c.Commit, strings.TrimSuffix(repoPath, "/"), shown)
			switch c.Form {
			case "reduced":
				link += ", reduced to a file of our own"
			case "rendered":
				link += ", its rendered manifests"
			}
			var verdicts []string
			for _, x := range e.Expect {
				verdicts = append(verdicts, fmt.Sprintf("`%s` %s", x.Finding, strings.TrimPrefix(x.Verdict, "true: ")))
			}
			v := "no warning or error"
			if len(verdicts) > 0 {
				v = strings.Join(verdicts, "<br>")
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", name, link, e.Kind, strings.ReplaceAll(v, "|", "\\|"))
		}
	}
	if !full {
		fmt.Fprintf(&b, "| %d more files | | | no warning or error |\n", cleanFiles)
	}
	return b.String()
}

// TestCorpusTablesInDocs keeps the corpus tables of docs/audit.md (every
// file) and README.md (the files with findings) equal to what the corpus
// run gives: `go test ./audit -run TestCorpusTablesInDocs -update`
// rewrites them.
func TestCorpusTablesInDocs(t *testing.T) {
	for _, d := range []struct {
		path string
		full bool
	}{{filepath.Join("..", "docs", "audit.md"), true}, {filepath.Join("..", "README.md"), false}} {
		replaceGenerated(t, d.path, "<!-- corpus: generated", "<!-- end corpus -->", corpusTable(t, d.full))
	}
}

// replaceGenerated checks (or with -update rewrites) the text between two
// markers of a file.
func replaceGenerated(t *testing.T, p, begin, end, want string) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s: no %q … %q markers", p, begin, end)
	}
	i += strings.Index(doc[i:], "\n") + 1
	if doc[i:j] == want {
		return
	}
	if *update {
		if err := os.WriteFile(p, []byte(doc[:i]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: the text after %q differs from what the code gives: run go test ./audit -run %s -update", p, begin, t.Name())
}

// BenchmarkAuditCorpus audits every case of the corpus, one run each, as
// CI would run the audit over each repository.
func BenchmarkAuditCorpus(b *testing.B) {
	m := loadCorpus(b)
	var dirs []string
	for _, c := range m.Cases {
		dirs = append(dirs, filepath.Join("testdata", "corpus", filepath.FromSlash(c.Dir)))
	}
	files := 0
	for _, d := range dirs {
		rep, err := Run(context.Background(), testStores, []string{d})
		if err != nil {
			b.Fatal(err)
		}
		files += len(rep.Files)
	}
	cpu := startCPU()
	for b.Loop() {
		for _, d := range dirs {
			if _, err := Run(context.Background(), testStores, []string{d}); err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu.report(b)
	b.ReportMetric(float64(files), "files")
}

// cpuClock measures the CPU time the process spends (user and system, all
// threads): on a shared machine, wall time per operation says more about
// the other tenants than about the audit.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{processCPU()} }

// report adds the CPU time per operation to the benchmark's results.
func (c cpuClock) report(b *testing.B) {
	b.ReportMetric(float64(processCPU()-c.start)/float64(b.N), "cpu-ns/op")
}
