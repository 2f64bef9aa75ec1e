package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/cmdline"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/providers/file"
)

// checkRow is one line of `check`: never a value.
type checkRow struct {
	Variable    string `json:"variable"`
	Scheme      string `json:"scheme"`
	Path        string `json:"path"`
	Selector    string `json:"selector,omitempty"`
	Version     string `json:"version,omitempty"`
	Status      string `json:"status"`
	Code        string `json:"code,omitempty"`
	Error       string `json:"error,omitempty"`
	Hint        string `json:"hint,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
}

// checkReport is the whole of `check --json`.
type checkReport struct {
	OK        bool         `json:"ok"`
	Variables []checkRow   `json:"variables"`
	Problems  []checkRow   `json:"problems,omitempty"`
	N8N       *guardReport `json:"n8n,omitempty"`
	Access    []accessRow  `json:"least_privilege,omitempty"`

	Requests map[string]int64 `json:"requests,omitempty"` // requests sent to each store, by scheme
}

type guardReport struct {
	Role        string         `json:"role"`
	Fingerprint string         `json:"fingerprint,omitempty"`
	Findings    []guardFinding `json:"findings"`
}

type guardFinding struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
}

// checkRoles are the roles check --role takes: a typo must not check the
// wrong thing and pass.
var checkRoles = []string{"start", "worker", "webhook"}

var checkCommand = &command{
	name: "check", usage: "[flags] [--json] [--role start|worker|webhook]",
	summary: "resolve everything and print a table; never a value",
	about: `Resolves every reference as the default mode would, runs the n8n guard for
the role given (a main by default), asks each store what its credentials may
do beyond those reads (least privilege), and prints a table: variable,
scheme, path, version, status, the key's fingerprint. Never a value; it
writes nothing. Exit 0 when everything resolves and the guard passes, else
the exit code the start would have.`,
	settings: true,
	setup: func() ([]*cmdline.Flag, runFunc) {
		var asJSON bool
		role := "start"
		return []*cmdline.Flag{
				boolFlag("json", "print the report as JSON", &asJSON),
				choiceFlag("role", "the n8n process to check for", &role, checkRoles...),
			}, func(s *settings, environ, _ []string, _ []int) int {
				return checkCmd(s, environ, asJSON, role)
			}
	},
}

// checkCmd resolves everything, runs the guard and prints a table (or JSON)
// of what it found. It exits non-zero on any problem and never prints a
// value.
func checkCmd(s *settings, environ []string, asJSON bool, role string) int {
	log := s.logger()
	if s.LogLevel == "info" {
		// check prints its own report: only warnings and errors go to the log.
		s.LogLevel = "warn"
		log = s.logger()
	}
	ctx, sigs, done := begin(s)
	defer done()
	argv := []string{"n8n", role}
	o := prepare(ctx, s, environ, argv, log, false, reviewAccess)
	if o.guard != nil {
		o.guard.Sync.Close() // a dry run: check never writes
	}
	if sig := sigs.received(); sig != 0 {
		return exitOf(sig, false)
	}
	rep := checkReport{OK: len(o.errs) == 0, Variables: []checkRow{}, Access: o.access.Rows, Requests: o.requests}
	for _, r := range o.results {
		row := checkRow{Variable: r.Var, Scheme: r.Ref.Scheme, Path: r.Ref.Path(), Selector: r.Ref.Selector, Version: r.Version, Status: "ok"}
		switch {
		case r.Err != nil:
			row.Status, row.Code, row.Error, row.Hint = "error", r.Err.Code.Name(), r.Err.Err.Error(), hintOf(r.Err, r.Ref.Scheme)
			if loc, ok := r.Ref.Loc.(file.Ref); ok && !loc.IsAbs() {
				// It did not resolve: it may be a literal secret that
				// starts with "file:", not a file's name.
				row.Path = "(not shown)"
			}
		case r.Removed:
			row.Status = "missing (optional)"
		}
		if r.Var == "N8N_ENCRYPTION_KEY" && r.Err == nil && !r.Removed && r.Template == nil {
			row.Fingerprint = n8n.Fingerprint(string(r.Value.Reveal()))
		}
		if r.EnvFrom {
			row.Variable = fmt.Sprintf("%s (item %d)", r.Var, r.Part)
			if r.Err == nil && !r.Removed {
				row.Status = fmt.Sprintf("ok: %d variables", len(r.Vars))
			}
		}
		rep.Variables = append(rep.Variables, row)
	}
	for _, e := range o.envFrom {
		row := checkRow{Variable: e.Name, Scheme: e.Ref.Scheme, Path: e.Ref.Path(), Selector: e.Ref.Selector,
			Status: fmt.Sprintf("ok (%s item %d)", settingByFlag("env-from").varName(), e.Item)}
		if e.ShadowedBy != "" {
			row.Status = "set already (" + e.ShadowedBy + "): not used"
		} else if e.Name == "N8N_ENCRYPTION_KEY" {
			row.Fingerprint = n8n.Fingerprint(string(e.Value.Reveal()))
		}
		rep.Variables = append(rep.Variables, row)
	}
	for _, err := range o.errs {
		if ve, ok := err.(*inject.VarError); ok && containsVar(o.results, ve.Var) {
			continue
		}
		row := checkRow{Status: "error", Code: inject.CodeOf(err).Name(), Error: err.Error()}
		if ve, ok := err.(*inject.VarError); ok {
			row.Variable, row.Error = ve.Var, ve.Err.Error()
		}
		rep.Problems = append(rep.Problems, row)
	}
	code := exitOf(0, false, failedCodes(o.errs)...)
	if o.guardErr != nil {
		rep.OK = false
		rep.Problems = append(rep.Problems, checkRow{Variable: settingByFlag("n8n").varName(), Status: "error", Code: inject.CodeUsage.Name(), Error: o.guardErr.Error()})
		code = max(code, exitOf(0, false, inject.CodeUsage))
	}
	if o.guard != nil {
		g := &guardReport{Role: string(o.guard.Role), Fingerprint: o.guard.Fingerprint, Findings: []guardFinding{}}
		for _, f := range o.guard.Findings {
			g.Findings = append(g.Findings, guardFinding{Severity: f.Severity.String(), Code: f.Code.Name(), Message: f.Message, Hint: f.Hint})
		}
		rep.N8N = g
		if o.guard.Failed() {
			rep.OK = false
			if code == 0 {
				code = exitOf(0, true)
			}
		}
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
		return code
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tSCHEME\tPATH\tVERSION\tSTATUS\tFINGERPRINT")
	for _, r := range append(rep.Variables, rep.Problems...) {
		status := r.Status
		if r.Code != "" {
			status = r.Code + ": " + r.Error
		}
		path := r.Path
		if r.Selector != "" {
			path += "#" + r.Selector
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", dash(r.Variable), dash(r.Scheme), dash(path), dash(r.Version), status, dash(r.Fingerprint))
	}
	_ = tw.Flush()
	for _, scheme := range o.schemes {
		if n, ok := rep.Requests[scheme]; ok {
			fmt.Printf("%s: %d requests\n", scheme, n)
		}
	}
	if rep.N8N != nil {
		fmt.Printf("\nn8n guard (role %s", rep.N8N.Role)
		if rep.N8N.Fingerprint != "" {
			fmt.Printf(", key fingerprint %s", rep.N8N.Fingerprint)
		}
		fmt.Println("):")
		if len(rep.N8N.Findings) == 0 {
			fmt.Println("  no findings")
		}
		for _, f := range rep.N8N.Findings {
			fmt.Printf("  %-7s %s: %s\n", f.Severity, f.Code, f.Message)
			if f.Hint != "" {
				fmt.Printf("          hint: %s\n", f.Hint)
			}
		}
	}
	o.access.print(os.Stdout)
	if rep.OK {
		fmt.Println("\nok")
	} else {
		fmt.Printf("\nproblems found (exit %d)\n", code)
	}
	return code
}

func containsVar(results []inject.Result, name string) bool {
	for _, r := range results {
		if r.Var == name && r.Err != nil {
			return true
		}
	}
	return false
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
