package audit

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/envfile"
)

// injectorSetting is one setting of a container's n8n-secrets, as far as
// the files show it.
type injectorSetting struct {
	name  string // as written: "--env-from" or "N8N_SECRETS_ENV_FROM"
	value string // when known
	known bool
	pos   Pos
}

// fileContent is a file a container sees at a path, as the files show
// it: a file of the audited tree, or a value of a ConfigMap or Secret.
type fileContent struct {
	data []byte
	// label names it in messages ("n8n.env", "ConfigMap n8n-env key
	// n8n.env"); in is where it is written when that is no file of its
	// own ("ConfigMap n8n-env key n8n.env").
	label, in string
	// at maps a line and column of data to where they are written.
	at func(line, col int) Pos
	// host is the audited file it is, "" for a value in a manifest.
	host string
}

// fileFinder returns what a container sees at an absolute path, or nil
// and why the files do not show it.
type fileFinder func(p string) (*fileContent, string)

// envFileParser names n8n-secrets' reading of an --env-file in a
// PARSE_ERROR.
const envFileParser = "env file read by n8n-secrets"

// envFilePhrase matches the messages of n8n-secrets' env file parser that
// name a kind of problem in words only; any other (one naming a variable
// of the file) is reported as "does not parse".
var envFilePhrase = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9 ,'()./_=-]*$`)

// injectorFlagNames are the flags of n8n-secrets' exec mode the audit
// follows.
var injectorFlagNames = map[string]bool{"env-file": true, "env-from": true, "skip": true}

// injectorFlags returns the settings a container's command line gives
// n8n-secrets' exec mode (`n8n-secrets --env-file F -- n8n`, also behind
// wrappers and in a shell's -c script): --env-file, --env-from and --skip,
// the last of each.
func (s *service) injectorFlags() map[string]injectorSetting {
	argv, _ := s.commandLine()
	out := map[string]injectorSetting{}
	pos := s.injectorPos()
	walkInvocation(argv, s.n8nImage, 0, func(args []string) {
		for i := 0; i < len(args); i++ {
			if !strings.HasPrefix(args[i], "-") {
				continue
			}
			name, val, inline := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
			if !injectorFlagNames[name] {
				continue
			}
			if !inline {
				if i+1 >= len(args) {
					continue
				}
				i++
				val = args[i]
			}
			out[name] = injectorSetting{name: "--" + name, value: val, known: !unknownWord(val), pos: pos}
		}
	})
	return out
}

// unknownWord reports whether a word of a command line holds what the
// files do not give: a Compose ${VAR} the deployer sets, a Kubernetes
// $(VAR) the container's environment expands.
func unknownWord(w string) bool { return strings.Contains(w, "${…}") || strings.Contains(w, "$(") }

// injectorPos returns where a container's n8n-secrets command line is
// written.
func (s *service) injectorPos() Pos {
	switch {
	case s.entrySet && runsInjector(s.setEntry):
		return s.entryPos
	case s.cmdSet && runsInjector(s.setCmd):
		return s.cmdPos
	case s.runs == injectorYes:
		return orPos(s.runsPos, s.pos)
	}
	return s.pos
}

// injectorSetting returns a setting of the container's n8n-secrets: the
// flag, which wins, else the variable; ok is false when neither is set.
func (s *service) injectorSetting(flag, variable string, flags map[string]injectorSetting) (injectorSetting, bool) {
	if f, ok := flags[flag]; ok {
		return f, true
	}
	v := s.lookup(variable)
	if v == nil {
		return injectorSetting{}, false
	}
	set := injectorSetting{name: variable, pos: v.pos}
	switch {
	case v.kind == literal:
		set.value, set.known, set.pos = v.value, true, v.at()
	case v.kind == fromSecret && v.secretKnown:
		set.value, set.known, set.pos = v.secretValue, true, v.secretPos
	}
	return set, true
}

// applyInjector applies what a container's n8n-secrets is told, its
// flags winning over its N8N_SECRETS_* variables as at start: the
// variables of its --env-file files, under the environment's (their own
// N8N_SECRETS_* lines are settings too); the names it skips; the whole
// secrets it turns into variables, which make the variables they could
// set unknown, never unset. find returns what the container sees at a
// path. A container that does not run n8n-secrets reads none of them; its
// N8N_SECRETS_ENV_FROM is still judged (REFERENCE_WITHOUT_INJECTOR).
func (a *auditor) applyInjector(s *service, find fileFinder) {
	flags := s.injectorFlags()
	active := s.runs != injectorNo
	if set, ok := s.injectorSetting("env-file", envFileVar, flags); ok && active {
		a.readInjectorEnvFiles(s, set, find)
	}
	if set, ok := s.injectorSetting("skip", skipVar, flags); ok && set.known && active {
		s.skip = inject.ParseMatcher(set.value)
	}
	if set, ok := s.injectorSetting("env-from", envFromVar, flags); ok && (!set.known || len(inject.ParseMatcher(set.value)) > 0) {
		s.envFrom = append(s.envFrom, set)
		if active {
			s.opaque = append(s.opaque, set.name)
		}
	}
}

// readInjectorEnvFiles adds the variables of the files an --env-file
// setting names (comma-separated, as the start splits it) to a container:
// a file the files do not show (a path relative to the working directory,
// nothing mounted or copied there from the audited tree) makes its
// variables unknown, with a NOT_CHECKED_ENV_FILE info. A file is named by
// its place in the list, never by its text: whatever is written there
// may be a secret pasted in the wrong place.
func (a *auditor) readInjectorEnvFiles(s *service, set injectorSetting, find fileFinder) {
	if !set.known {
		s.opaque = append(s.opaque, set.name)
		a.add(CodeEnvFileNotChecked, Info, set.pos, s.subject, set.name+": its value is not in the files: the variables of its files are unknown", "")
		return
	}
	inEnv := map[string]bool{}
	for _, v := range s.env {
		inEnv[v.name] = true
	}
	for i, p := range strings.Split(set.value, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		label := fmt.Sprintf("%s (file %d)", set.name, i+1)
		if !path.IsAbs(p) {
			s.opaque = append(s.opaque, label)
			a.add(CodeEnvFileNotChecked, Info, set.pos, s.subject, label+": a path relative to the container's working directory, which the files do not show: its variables are unknown", "")
			continue
		}
		fc, why := find(path.Clean(p))
		if fc == nil {
			s.opaque = append(s.opaque, label)
			a.add(CodeEnvFileNotChecked, Info, set.pos, s.subject, label+": "+why+": its variables are unknown", "")
			continue
		}
		a.addEnvFileVars(s, label, fc, inEnv)
	}
}

// addEnvFileVars adds the variables of one --env-file file to a
// container, as n8n-secrets reads it: a file its parser (the start's own,
// internal/envfile) refuses is a PARSE_ERROR, as the start exits 64 on
// it; otherwise every variable the environment does not set (inEnv) is
// added, a later file winning over an earlier one, values interpolated
// from the container's environment first, then from the lines above.
func (a *auditor) addEnvFileVars(s *service, label string, fc *fileContent, inEnv map[string]bool) {
	// The start interpolates from the process environment (not from the
	// other files), then from the lines above.
	env := func(name string) *envVar {
		if !inEnv[name] {
			return nil
		}
		return s.lookup(name)
	}
	startLookup := func(name string) (string, bool) {
		v := env(name)
		switch {
		case v != nil && v.kind == literal:
			return v.value, true
		case v != nil || s.unknownEnv():
			return "set", true // set, to a value the files do not show
		}
		return "", false
	}
	if _, _, err := envfile.Parse(fc.data, startLookup); err != nil {
		line, msg := 0, "does not parse"
		var fe *envfile.Error
		if errors.As(err, &fe) {
			line = fe.Line
			if envFilePhrase.MatchString(fe.Msg) {
				msg = fe.Msg
			}
		}
		a.add(CodeParseError, Error, fc.at(line, 0), s.subject, envFileParser+": "+msg,
			"n8n-secrets refuses to start on it (exit 64) and names the file and the line; "+label+" names it here")
		s.opaque = append(s.opaque, label)
		return
	}
	if fc.host != "" {
		a.usedEnv[fc.host] = true
	}
	outer := func(name string) (setting, bool) {
		v := env(name)
		switch {
		case v == nil && !s.unknownEnv():
			return setting{}, false
		case v == nil || v.kind != literal:
			return setting{host: "${" + name + "}"}, true
		}
		return setting{value: v.value, lit: v.at(), via: v.via, dflt: v.dflt, composed: v.composed}, true
	}
	entries := parseDotenvAt(fc.data, dotenvPlace{label: fc.label, at: fc.at, outerFirst: true}, outer)
	for _, e := range entries {
		if inEnv[e.name] {
			continue
		}
		v := fromSetting(e.name, e.setting, e.pos)
		v.refused = nil // n8n-secrets keeps ${vault://…}, which Compose refuses
		v.in = fc.in
		s.setEnv(v)
	}
}

// hostFile returns a file of the audited tree that a container sees, or
// why not: a file outside the audited tree is not read.
func (a *auditor) hostFile(host string) (*fileContent, string) {
	host = filepath.Clean(host)
	data, err := a.readReferenced(host)
	switch {
	case errors.Is(err, errOutsideTree):
		return nil, "its file lies outside the audited tree: not read"
	case err != nil:
		return nil, "the file mounted or copied there is not in the files"
	}
	return &fileContent{data: data, label: baseName(host), host: host, at: func(l, c int) Pos { return Pos{File: host, Line: l, Col: c} }}, ""
}

// mount is a path of a container that holds a file or directory of the
// audited tree (host), or something the files do not show (host "", why).
type mount struct {
	target, host, why string
}

// findMounted returns what the longest of mounts that is p or holds it
// gives at p; found is false when none does.
func (a *auditor) findMounted(mounts []mount, p string) (fc *fileContent, why string, found bool) {
	best := -1
	for i, m := range mounts {
		t := path.Clean(m.target)
		if (p == t || strings.HasPrefix(p, strings.TrimSuffix(t, "/")+"/")) && (best < 0 || len(t) > len(path.Clean(mounts[best].target))) {
			best = i
		}
	}
	if best < 0 {
		return nil, "", false
	}
	m := mounts[best]
	if m.host == "" {
		return nil, m.why, true
	}
	host := m.host
	if t := path.Clean(m.target); p != t {
		host = filepath.Join(m.host, filepath.FromSlash(strings.TrimPrefix(p, strings.TrimSuffix(t, "/")+"/")))
	}
	fc, why = a.hostFile(host)
	return fc, why, true
}
