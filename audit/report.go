package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Summary counts a report's findings.
type Summary struct {
	Errors     int `json:"errors"`
	Warnings   int `json:"warnings"`
	Infos      int `json:"infos"`
	Suppressed int `json:"suppressed"`
}

// Summary counts the findings by severity; suppressed ones only as such.
func (r *Report) Summary() Summary {
	var s Summary
	for _, f := range r.Findings {
		switch {
		case f.Suppressed != nil:
			s.Suppressed++
		case f.Severity == Error:
			s.Errors++
		case f.Severity == Warning:
			s.Warnings++
		default:
			s.Infos++
		}
	}
	return s
}

// WriteTable prints the report for people: one row per finding, then the
// hint of each code met, what the files cannot show, and a summary.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	var located, notes []Finding
	for _, f := range r.Findings {
		if f.File == "" {
			notes = append(notes, f)
		} else {
			located = append(located, f)
		}
	}
	codes := []string{}
	seen := map[string]bool{}
	if len(located) > 0 {
		fmt.Fprintln(tw, "SEVERITY\tCODE\tLOCATION\tFINDING")
		for _, f := range located {
			sev := f.Severity.String()
			if f.Suppressed != nil {
				sev = "(" + sev + ")"
			}
			msg := f.Message
			if f.Subject != "" {
				msg = f.Subject + ": " + msg
			}
			if f.Suppressed != nil {
				msg += " [suppressed"
				if f.Suppressed.Justification != "" {
					msg += ": " + f.Suppressed.Justification
				}
				msg += "]"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", sev, f.Code, f.Location(), oneLine(msg))
			if !seen[f.Code] && f.Suppressed == nil {
				seen[f.Code] = true
				codes = append(codes, f.Code)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(codes) > 0 {
		fmt.Fprintln(w, "\nWhat to do:")
		for _, c := range codes {
			fmt.Fprintf(w, "  %s: %s\n", c, rule(c).Help)
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nNot judged from files:")
		for _, f := range notes {
			fmt.Fprintf(w, "  %s: %s\n", f.Code, strings.TrimPrefix(f.Message, "not checked: "))
		}
	}
	s := r.Summary()
	fmt.Fprintf(w, "\n%s: %s, %s, %s", plural(len(r.Files), "file"), plural(s.Errors, "error"), plural(s.Warnings, "warning"), plural(s.Infos, "info"))
	if s.Suppressed > 0 {
		fmt.Fprintf(w, ", %d suppressed", s.Suppressed)
	}
	_, err := fmt.Fprintln(w)
	return err
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// WriteJSON prints the report as one JSON document: files, findings and a
// summary.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Files    []File    `json:"files"`
		Findings []Finding `json:"findings"`
		Summary  Summary   `json:"summary"`
	}{r.Files, r.Findings, r.Summary()})
}

// SARIF 2.1.0, the parts this report uses.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations"`
		Results     []sarifResult     `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string            `json:"id"`
		Name                 string            `json:"name"`
		ShortDescription     sarifText         `json:"shortDescription"`
		FullDescription      sarifText         `json:"fullDescription"`
		Help                 sarifText         `json:"help"`
		HelpURI              string            `json:"helpUri"`
		DefaultConfiguration sarifRuleConfig   `json:"defaultConfiguration"`
		Properties           sarifRuleProperty `json:"properties"`
	}
	sarifRuleConfig struct {
		Level string `json:"level"`
	}
	sarifRuleProperty struct {
		Tags             []string `json:"tags"`
		SecuritySeverity string   `json:"security-severity,omitempty"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifInvocation struct {
		ExecutionSuccessful bool                `json:"executionSuccessful"`
		Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	}
	sarifNotification struct {
		Descriptor sarifDescriptor `json:"descriptor"`
		Level      string          `json:"level"`
		Message    sarifText       `json:"message"`
	}
	sarifDescriptor struct {
		ID string `json:"id"`
	}
	sarifResult struct {
		RuleID              string             `json:"ruleId"`
		RuleIndex           int                `json:"ruleIndex"`
		Level               string             `json:"level"`
		Message             sarifText          `json:"message"`
		Locations           []sarifLocation    `json:"locations"`
		PartialFingerprints map[string]string  `json:"partialFingerprints"`
		Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Justification string `json:"justification,omitempty"`
	}
)

// SARIFSchema is the schema URI the SARIF output names.
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

func sarifLevel(s Severity) string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "note"
}

// DocsURL is the page that documents every rule; a rule's section is its
// code in lower case (RuleURL).
const DocsURL = "https://github.com/n8n-secrets/n8n-secrets/blob/main/docs/audit.md"

// RuleURL returns the address of a rule's section in docs/audit.md.
func RuleURL(code string) string { return DocsURL + "#" + strings.ToLower(code) }

// fingerprintKey names the partial fingerprint the SARIF output gives each
// result: a hash of what the finding is about (code, file, subject,
// message), without its line, so that an alert survives lines moving.
const fingerprintKey = "n8nSecretsAudit/v1"

// fingerprint returns a result's partial fingerprint.
func fingerprint(f Finding) string {
	sum := sha256.Sum256([]byte(f.Code + "\x00" + f.File + "\x00" + f.Subject + "\x00" + f.Message))
	return hex.EncodeToString(sum[:16])
}

// WriteSARIF prints the report as SARIF 2.1.0, for GitHub code scanning
// and other viewers: one run whose driver lists every rule (with a link to
// its section in docs/audit.md; the security rules tagged "security" with
// their own security-severity); each located finding is a result with a
// partial fingerprint that does not depend on its line (suppressed ones
// with an inSource suppression); what concerns the run as a whole is a
// tool execution notification. File paths are written as relative URIs,
// as given.
func (r *Report) WriteSARIF(w io.Writer, toolVersion string) error {
	index := map[string]int{}
	driver := sarifDriver{Name: "n8n-secrets audit", Version: toolVersion, InformationURI: DocsURL, Rules: []sarifRule{}}
	for i, ru := range Rules {
		index[ru.Code] = i
		sr := sarifRule{ID: ru.Code, Name: ruleName(ru.Code), ShortDescription: sarifText{ru.Title}, FullDescription: sarifText{ru.Help},
			Help: sarifText{ru.Help}, HelpURI: RuleURL(ru.Code), DefaultConfiguration: sarifRuleConfig{sarifLevel(ru.Severity)},
			Properties: sarifRuleProperty{Tags: []string{"n8n"}}}
		if ru.Security {
			sr.Properties.Tags = []string{"security", "n8n"}
			sr.Properties.SecuritySeverity = strconv.FormatFloat(ru.SecuritySeverity, 'f', 1, 64)
		}
		driver.Rules = append(driver.Rules, sr)
	}
	run := sarifRun{Tool: sarifTool{driver}, Invocations: []sarifInvocation{{ExecutionSuccessful: true}}, Results: []sarifResult{}}
	for _, f := range r.Findings {
		msg := f.Message
		if f.Subject != "" {
			msg = f.Subject + ": " + msg
		}
		if f.Hint != "" {
			msg += " (" + strings.TrimSuffix(f.Hint, ".") + ")"
		}
		if f.File == "" {
			run.Invocations[0].Notifications = append(run.Invocations[0].Notifications, sarifNotification{
				Descriptor: sarifDescriptor{f.Code}, Level: sarifLevel(f.Severity), Message: sarifText{msg}})
			continue
		}
		res := sarifResult{RuleID: f.Code, RuleIndex: index[f.Code], Level: sarifLevel(f.Severity), Message: sarifText{msg},
			Locations:           []sarifLocation{{sarifPhysical{ArtifactLocation: sarifArtifact{fileURI(f.File)}}}},
			PartialFingerprints: map[string]string{fingerprintKey: fingerprint(f)}}
		if f.Line > 0 {
			res.Locations[0].PhysicalLocation.Region = &sarifRegion{StartLine: f.Line, StartColumn: f.Column}
		}
		if f.Suppressed != nil {
			res.Suppressions = []sarifSuppression{{Kind: "inSource", Justification: f.Suppressed.Justification}}
		}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

// ruleName turns LITERAL_SECRET into LiteralSecret, as SARIF names rules.
func ruleName(code string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(code), "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// fileURI writes a path as a URI reference: relative paths stay relative
// (GitHub resolves them against the repository), absolute ones become
// file:// URIs.
func fileURI(p string) string {
	slash := filepath.ToSlash(p)
	segs := strings.Split(slash, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := strings.Join(segs, "/")
	if filepath.IsAbs(p) {
		return "file://" + u
	}
	return strings.TrimPrefix(u, "./")
}
