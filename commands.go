package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/n8n"
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

// checkCmd resolves everything, runs the guard and prints a table (or JSON)
// of what it found. It exits non-zero on any problem and never prints a
// value.
func checkCmd(s *settings, environ, args []string) int {
	var asJSON bool
	var role string
	err := parseSub("check", s, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "")
		fs.StringVar(&role, "role", "start", "")
	})
	if err != nil {
		return fail(err)
	}
	log := s.logger()
	if s.LogLevel == "info" {
		// check prints its own report: only warnings and errors go to the log.
		s.LogLevel = "warn"
		log = s.logger()
	}
	ctx, stop := signalContext()
	defer stop()
	argv := []string{"n8n", role}
	o := prepare(ctx, s, environ, argv, log, false)
	rep := checkReport{OK: len(o.errs) == 0, Variables: []checkRow{}, Requests: o.requests}
	for _, r := range o.results {
		row := checkRow{Variable: r.Var, Scheme: r.Ref.Scheme, Path: r.Ref.Path, Selector: r.Ref.Selector, Version: r.Version, Status: "ok"}
		switch {
		case r.Err != nil:
			row.Status, row.Code, row.Error, row.Hint = "error", string(r.Err.Code), r.Err.Err.Error(), hintOf(r.Err)
		case r.Removed:
			row.Status = "missing (optional)"
		}
		if r.Var == "N8N_ENCRYPTION_KEY" && r.Err == nil && !r.Removed {
			row.Fingerprint = n8n.Fingerprint(string(r.Value.Reveal()))
		}
		rep.Variables = append(rep.Variables, row)
	}
	for _, err := range o.errs {
		if ve, ok := err.(*inject.VarError); ok && containsVar(o.results, ve.Var) {
			continue
		}
		row := checkRow{Status: "error", Code: string(inject.CodeOf(err)), Error: err.Error()}
		if ve, ok := err.(*inject.VarError); ok {
			row.Variable, row.Error = ve.Var, ve.Err.Error()
		}
		rep.Problems = append(rep.Problems, row)
	}
	code := inject.ExitCodeOf(o.errs)
	if o.guardErr != nil {
		rep.OK = false
		rep.Problems = append(rep.Problems, checkRow{Variable: varName("N8N"), Status: "error", Code: "USAGE", Error: o.guardErr.Error()})
		code = max(code, inject.ExitUsage)
	}
	if o.guard != nil {
		g := &guardReport{Role: string(o.guard.Role), Fingerprint: o.guard.Fingerprint, Findings: []guardFinding{}}
		for _, f := range o.guard.Findings {
			g.Findings = append(g.Findings, guardFinding{Severity: f.Severity.String(), Code: f.Code, Message: f.Message, Hint: f.Hint})
		}
		rep.N8N = g
		if o.guard.Failed() {
			rep.OK = false
			if code == 0 {
				code = inject.ExitConfig
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

// keygenCmd prints a new random encryption key: 32 bytes, base64, with a
// newline only when stdout is a terminal (so $(…) and pipes get the bare key).
func keygenCmd(args []string) int {
	if len(args) > 0 {
		return fail(usagef("n8n-secrets keygen", "keygen takes no arguments"))
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return fail(fmt.Errorf("keygen: %w", err))
	}
	fmt.Print(base64.StdEncoding.EncodeToString(b))
	if st, err := os.Stdout.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
		fmt.Println()
	}
	return 0
}

// fingerprintCmd resolves N8N_ENCRYPTION_KEY (only it) and prints its
// fingerprint, so that nodes can be compared without showing the key.
func fingerprintCmd(s *settings, environ, args []string) int {
	if err := parseSub("fingerprint", s, args, nil); err != nil {
		return fail(err)
	}
	const key = "N8N_ENCRYPTION_KEY"
	var only []string
	for _, kv := range environ {
		if name, _, _ := strings.Cut(kv, "="); name == key || name == key+"_FILE" || ownedVars.Match(name) {
			only = append(only, kv)
		}
	}
	log := s.logger()
	ctx, stop := signalContext()
	defer stop()
	o := prepare(ctx, s, only, nil, log, true)
	for _, err := range o.errs {
		logFailure(log, err)
	}
	if len(o.errs) > 0 {
		return inject.ExitCodeOf(o.errs)
	}
	v, ok := envMap(o.env)[key]
	if !ok || v == "" {
		log.Error("no encryption key", "code", "N8N_KEY_MISSING", "var", key,
			"hint", "set N8N_ENCRYPTION_KEY (a reference) or N8N_ENCRYPTION_KEY_FILE")
		return inject.ExitConfig
	}
	fmt.Println(n8n.Fingerprint(v))
	return 0
}
