package audit

import (
	"encoding/json"
	"path"
	"path/filepath"
	"strings"
)

// dockerInstr is one Dockerfile instruction.
type dockerInstr struct {
	cmd   string   // upper case
	args  string   // the arguments, continuation lines joined
	lines []string // the raw lines it spans
	pos   Pos      // of the instruction's first character
}

// dockerStage is one build stage.
type dockerStage struct {
	name    string  // AS name, lower case
	base    string  // the FROM image, global ARG defaults substituted ("" when an ARG without default is in it)
	baseSet setting // the same, with where its text comes from
	basePos Pos
	index   int
	instrs  []dockerInstr
}

// dockerfile is a parsed Dockerfile.
type dockerfile struct {
	file   string
	args   map[string]setting // global ARGs: their defaults
	stages []*dockerStage
}

// dockerKeywords are the Dockerfile instructions: an error may name one,
// never a word of the input that is not one.
var dockerKeywords = map[string]bool{
	"ADD": true, "ARG": true, "CMD": true, "COPY": true, "ENTRYPOINT": true, "ENV": true, "EXPOSE": true,
	"FROM": true, "HEALTHCHECK": true, "LABEL": true, "MAINTAINER": true, "ONBUILD": true, "RUN": true,
	"SHELL": true, "STOPSIGNAL": true, "USER": true, "VOLUME": true, "WORKDIR": true,
}

// parseDockerfile reads the instructions of a Dockerfile: parser
// directives (escape), comments, continuation lines. It expands global
// ARG defaults in FROM. Errors are *parseError values that name the line
// and the kind of problem, and an instruction only when it is one.
func parseDockerfile(file string, data []byte) (*dockerfile, error) {
	df := &dockerfile{file: file, args: map[string]setting{}}
	lines := strings.Split(string(data), "\n")
	escape := byte('\\')
	directives := true
	var cur *dockerStage
	var buf strings.Builder
	var raw []string
	start := Pos{File: file}
	for i, line := range lines {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		if directives {
			if d, ok := strings.CutPrefix(trimmed, "#"); ok {
				k, v, isDir := strings.Cut(strings.TrimSpace(d), "=")
				if isDir && strings.EqualFold(strings.TrimSpace(k), "escape") {
					if v = strings.TrimSpace(v); len(v) == 1 {
						escape = v[0]
					}
					continue
				}
			}
			directives = false
		}
		if buf.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if buf.Len() > 0 && strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if buf.Len() == 0 {
			start = Pos{File: file, Line: i + 1, Col: len(line) - len(strings.TrimLeft(line, " \t")) + 1}
			raw = nil
		}
		raw = append(raw, line)
		if len(trimmed) > 0 && trimmed[len(trimmed)-1] == escape {
			buf.WriteString(trimmed[:len(trimmed)-1] + " ")
			continue
		}
		buf.WriteString(trimmed)
		full := buf.String()
		buf.Reset()
		cmd, args, _ := strings.Cut(full, " ")
		in := dockerInstr{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), lines: raw, pos: start}
		switch {
		case in.cmd == "ARG" && cur == nil:
			for _, kv := range splitWords(in.args) {
				k, v, ok := strings.Cut(kv, "=")
				if ok {
					df.args[k] = setting{value: v, lit: in.posOf(k), via: "the default of ARG " + k, dflt: true}
				}
			}
			// Global ARGs are kept as instructions of a pseudo stage so
			// that their defaults are audited too.
			df.globalArg(in)
		case in.cmd == "FROM":
			cur = &dockerStage{index: len(df.realStages())}
			var rest []string
			for _, w := range strings.Fields(in.args) {
				if !strings.HasPrefix(w, "--") {
					rest = append(rest, w)
				}
			}
			if len(rest) == 0 {
				return df, lineErr(in.pos.Line, "FROM without an image")
			}
			cur.basePos = in.pos
			cur.baseSet = interpolate(rest[0], in.pos, func(k string) (setting, bool) {
				s, ok := df.args[k]
				return s, ok
			})
			cur.base = cur.baseSet.value
			if len(rest) >= 3 && strings.EqualFold(rest[1], "AS") {
				cur.name = strings.ToLower(rest[2])
			}
			df.stages = append(df.stages, cur)
		case cur == nil:
			if dockerKeywords[in.cmd] {
				return df, lineErr(in.pos.Line, in.cmd+" before FROM (only ARG may come first)")
			}
			return df, lineErr(in.pos.Line, "a line that is no Dockerfile instruction, before FROM")
		default:
			cur.instrs = append(cur.instrs, in)
		}
	}
	if len(df.realStages()) == 0 {
		return df, lineErr(0, "no FROM instruction")
	}
	return df, nil
}

// globalArgs is the name of the pseudo stage holding global ARGs.
const globalArgs = "\x00global"

func (df *dockerfile) globalArg(in dockerInstr) {
	if len(df.stages) == 0 || df.stages[0].name != globalArgs {
		df.stages = append([]*dockerStage{{name: globalArgs, index: -1}}, df.stages...)
	}
	df.stages[0].instrs = append(df.stages[0].instrs, in)
}

// realStages returns the build stages (without the global ARGs).
func (df *dockerfile) realStages() []*dockerStage {
	var out []*dockerStage
	for _, s := range df.stages {
		if s.name != globalArgs {
			out = append(out, s)
		}
	}
	return out
}

// stage returns the stage named target (or the last one for ""), or nil.
func (df *dockerfile) stage(target string) *dockerStage {
	st := df.realStages()
	if target == "" {
		return st[len(st)-1]
	}
	for _, s := range st {
		if s.name == strings.ToLower(target) {
			return s
		}
	}
	return nil
}

// parent returns the stage a stage is built FROM, if it is one of this
// file.
func (df *dockerfile) parent(s *dockerStage) *dockerStage {
	for _, p := range df.realStages() {
		if p.index < s.index && (p.name != "" && p.name == strings.ToLower(s.base)) {
			return p
		}
	}
	return nil
}

// entrypoint returns the ENTRYPOINT a stage runs (its own, or inherited
// from a stage of this file); words is nil when it is the base image's.
// The base image counts as known when it is n8n's own image.
func (df *dockerfile) entrypoint(s *dockerStage) (words []string, pos Pos, r injector, why string) {
	for depth := 0; s != nil && depth < 64; depth++ {
		if eps := s.all("ENTRYPOINT"); len(eps) > 0 {
			ep := eps[len(eps)-1]
			w := instrWords(ep.args)
			if w == nil {
				w = []string{}
			}
			if runsInjector(w) {
				return w, ep.pos, injectorYes, "its ENTRYPOINT runs n8n-secrets"
			}
			return w, ep.pos, injectorNo, "its ENTRYPOINT does not run n8n-secrets"
		}
		p := df.parent(s)
		if p == nil {
			if isStockN8NImage(s.base) {
				return nil, s.basePos, injectorNo, "it keeps the ENTRYPOINT of " + s.base + ", which does not run n8n-secrets"
			}
			return nil, s.basePos, injectorUnknown, "it keeps the ENTRYPOINT of " + s.base
		}
		s = p
	}
	return nil, Pos{File: df.file}, injectorUnknown, ""
}

// base returns the image a stage is built on at the root of its chain of
// stages in this file ("" when an ARG without default names it).
func (df *dockerfile) base(s *dockerStage) string {
	for depth := 0; s != nil && depth < 64; depth++ {
		p := df.parent(s)
		if p == nil {
			return s.base
		}
		s = p
	}
	return ""
}

// command returns the CMD a stage runs: its last, or its parent stage's.
func (df *dockerfile) command(s *dockerStage) []string {
	for depth := 0; s != nil && depth < 64; depth++ {
		if cmds := s.all("CMD"); len(cmds) > 0 {
			return instrWords(cmds[len(cmds)-1].args)
		}
		s = df.parent(s)
	}
	return nil
}

// all returns the stage's instructions cmd.
func (s *dockerStage) all(cmd string) []dockerInstr {
	var out []dockerInstr
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// instrWords returns the words of an exec-form (JSON) or shell-form
// argument.
func instrWords(args string) []string {
	var w []string
	if strings.HasPrefix(strings.TrimSpace(args), "[") && json.Unmarshal([]byte(args), &w) == nil {
		return w
	}
	return splitWords(args)
}

// envPairs returns the KEY=VALUE pairs of an ENV or ARG instruction, with
// the legacy "ENV KEY value" form; hasValue is false for "ARG NAME".
func envPairs(in dockerInstr) []struct {
	name, value string
	hasValue    bool
} {
	type kv = struct {
		name, value string
		hasValue    bool
	}
	ws := splitWords(in.args)
	if in.cmd == "ENV" && len(ws) >= 2 && !strings.Contains(ws[0], "=") {
		name, value, _ := strings.Cut(in.args, " ")
		return []kv{{name, strings.Trim(strings.TrimSpace(value), `"'`), true}}
	}
	var out []kv
	for _, w := range ws {
		k, v, ok := strings.Cut(w, "=")
		out = append(out, kv{k, v, ok})
	}
	return out
}

// posOf returns where a word first appears in an instruction's lines.
func (in dockerInstr) posOf(word string) Pos {
	for i, l := range in.lines {
		if c := strings.Index(l, word); c >= 0 {
			return Pos{File: in.pos.File, Line: in.pos.Line + i, Col: c + 1}
		}
	}
	return in.pos
}

// copied returns the file of the build context ctx that a stage's COPY or
// ADD (or one of the stages it is built from) puts at the absolute path p,
// the last one that does: a file copied to p, to a directory that then
// holds p, or a directory copied to one that holds p. Sources with
// wildcards, URLs and other stages (--from) are not followed; ok is false
// when no instruction puts p there as far as the files show.
func (df *dockerfile) copied(st *dockerStage, p, ctx string) (host string, ok bool) {
	var chain []*dockerStage
	for c := st; c != nil && len(chain) < 64; c = df.parent(c) {
		chain = append([]*dockerStage{c}, chain...)
	}
	for _, c := range chain {
		for _, in := range c.instrs {
			if in.cmd != "COPY" && in.cmd != "ADD" {
				continue
			}
			var args []string
			from := false
			for _, w := range instrWords(in.args) {
				if strings.HasPrefix(w, "--") {
					from = from || strings.HasPrefix(w, "--from=")
					continue
				}
				args = append(args, w)
			}
			if from || len(args) < 2 {
				continue
			}
			srcs, dest := args[:len(args)-1], args[len(args)-1]
			if !path.IsAbs(dest) {
				continue
			}
			intoDir := strings.HasSuffix(dest, "/") || len(srcs) > 1
			dest = path.Clean(dest)
			for _, src := range srcs {
				if strings.ContainsAny(src, "*?[") || strings.Contains(src, "://") || strings.HasPrefix(src, "$") {
					continue
				}
				hostSrc := filepath.Join(ctx, filepath.FromSlash(src))
				switch {
				case intoDir && p == path.Join(dest, path.Base(src)), !intoDir && p == dest:
					host, ok = hostSrc, true
				case strings.HasPrefix(p, dest+"/"):
					// src is a directory whose contents land in dest.
					host, ok = filepath.Join(hostSrc, filepath.FromSlash(strings.TrimPrefix(p, dest+"/"))), true
				}
			}
		}
	}
	return host, ok
}
