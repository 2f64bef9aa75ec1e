package audit

import (
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// isComposeFile reports whether a YAML document is a Compose or Swarm
// stack file: a top-level services mapping.
func isComposeFile(doc *yaml.Node) bool {
	s := get(doc, "services")
	return s != nil && s.Kind == yaml.MappingNode && get(doc, "apiVersion") == nil
}

// defaultComposeNames are the files Compose reads without -f; with their
// override files they form one project per directory.
var defaultComposeNames = map[string]bool{
	"compose.yaml": true, "compose.yml": true, "docker-compose.yaml": true, "docker-compose.yml": true,
	"compose.override.yaml": true, "compose.override.yml": true, "docker-compose.override.yaml": true, "docker-compose.override.yml": true,
}

// composeProject returns the deployment a Compose file belongs to. The
// files Compose reads by default in a directory (compose.yaml and its
// override) are one project, named by the name: one of them gives, else by
// their directory; another file is the project its top-level name: says,
// else a project of its own.
func (a *auditor) composeProject(file string, doc *yaml.Node, env lookupFunc) string {
	name := ""
	if n := str(get(doc, "name")); n != "" {
		if s := interpolate(n, Pos{}, env); s.known() {
			name = s.value
		}
	}
	if defaultComposeNames[strings.ToLower(filepath.Base(file))] {
		if n := a.composeDirNames[filepath.Dir(file)]; n != "" {
			return "compose-project:" + n
		}
		return "compose-dir:" + filepath.Dir(file)
	}
	if name != "" {
		return "compose-project:" + name
	}
	return "compose-file:" + file
}

// projectEnv returns the variables Compose interpolates a file with: the
// .env file of its directory, as far as the files show it. Variables it
// does not set are the deployer's.
func (a *auditor) projectEnv(file string) lookupFunc {
	p := filepath.Join(filepath.Dir(file), ".env")
	entries := a.dotenv(p, nil)
	if entries == nil {
		return func(string) (setting, bool) { return setting{}, false }
	}
	a.usedEnv[p] = true
	index := map[string]setting{}
	for _, e := range entries {
		index[e.name] = e.setting.arrivedVia(e.name + " in .env")
	}
	return func(name string) (setting, bool) {
		s, ok := index[name]
		return s, ok
	}
}

// dotenv reads and parses a dotenv file once (nil when it cannot be read
// or lies outside the audited tree).
func (a *auditor) dotenv(p string, outer lookupFunc) []envEntry {
	key := p
	if e, ok := a.dotenvs[key]; ok && outer == nil {
		return e
	}
	data, err := a.readReferenced(p)
	if err != nil {
		if outer == nil {
			a.dotenvs[key] = nil
		}
		return nil
	}
	e := parseDotenv(p, data, outer)
	if e == nil {
		e = []envEntry{}
	}
	if outer == nil {
		a.dotenvs[key] = e
	}
	return e
}

// composeServices returns the services of a Compose or stack file. Values
// are interpolated with the project's .env; a service's env_file files are
// read (inside the audited tree only) and its build's Dockerfile for its
// entrypoint.
func (a *auditor) composeServices(file string, doc *yaml.Node) []*service {
	dir := filepath.Dir(file)
	env := a.projectEnv(file)
	group := a.composeProject(file, doc, env)
	var out []*service
	for _, p := range pairs(get(doc, "services")) {
		name, def := p.key.Value, p.val
		s := &service{subject: "service " + name, group: group, pos: at(file, p.key), replicas: 1}
		if k, v := getKey(def, "image"); v != nil {
			s.imagePos = at(file, k)
			s.image = interpolate(str(v), s.imagePos, env)
		}
		if r, ok := scalar(dig(def, "deploy", "replicas")); ok {
			if n, err := strconv.Atoi(interpolate(r, Pos{}, env).value); err == nil {
				s.replicas = n
			}
		}
		var line []setting
		if k, v := getKey(def, "entrypoint"); v != nil {
			s.entryPos = at(file, k)
			s.setEntry, s.entrySet = composeWords(v, s.entryPos, env, &line)
		}
		if k, v := getKey(def, "command"); v != nil {
			s.cmdPos = at(file, k)
			s.setCmd, s.cmdSet = composeWords(v, s.cmdPos, env, &line)
		}
		if len(line) > 0 {
			s.commandWords = append(s.commandWords, commandWords{words: line, pos: orPos(s.entryPos, s.cmdPos), what: "command"})
		}
		if k, v := getKey(def, "healthcheck"); v != nil {
			var test []setting
			if t := get(v, "test"); t != nil {
				composeWords(t, at(file, k), env, &test)
				s.commandWords = append(s.commandWords, commandWords{words: test, pos: at(file, k), what: "healthcheck"})
			}
		}
		image := s.image.value
		switch {
		case get(def, "build") != nil:
			a.composeBuild(s, file, dir, def, env)
		case s.image.known() && isStockN8NImage(image):
			s.n8nImage, s.entry, s.entryKnown = true, stockEntrypoint, true
		case s.image.known() && isN8NNamedImage(image):
			s.n8nImage = true
		}
		switch {
		case s.entrySet:
			s.runsPos = s.entryPos
			if runsInjector(s.setEntry) {
				s.runs, s.runsWhy = injectorYes, "its entrypoint runs n8n-secrets"
			} else {
				s.runs, s.runsWhy = injectorNo, "its entrypoint does not run n8n-secrets"
			}
		case get(def, "build") != nil:
			// composeBuild decided.
		case s.image.known() && isStockN8NImage(image):
			s.runs, s.runsPos, s.runsWhy = injectorNo, s.imagePos, "it runs n8n's own image, whose entrypoint does not run n8n-secrets"
		default:
			s.runsPos, s.runsWhy = s.imagePos, "its image is not built from a Dockerfile in the files"
		}
		for _, ef := range envFiles(get(def, "env_file")) {
			a.composeEnvFile(s, file, dir, ef, env)
		}
		a.composeEnv(s, file, get(def, "environment"), env)
		s.settingsVolume = settingsVolume(s, dir, get(def, "volumes"), env)
		a.applyInjector(s, a.composeFinder(s, doc, def, dir, env))
		out = append(out, s)
	}
	return out
}

// composeBuild reads the Dockerfile a service builds, for its base image,
// entrypoint and command.
func (a *auditor) composeBuild(s *service, file, dir string, def *yaml.Node, env lookupFunc) {
	k, b := getKey(def, "build")
	s.runsPos = at(file, k)
	s.runs, s.runsWhy = injectorUnknown, "the Dockerfile it builds is not in the audited files"
	ctx, dockerfile, target := str(b), "Dockerfile", ""
	if b.Kind == yaml.MappingNode {
		ctx = str(get(b, "context"))
		if d := str(get(b, "dockerfile")); d != "" {
			dockerfile = d
		}
		target = str(get(b, "target"))
	}
	ctx = interpolate(ctx, Pos{}, env).value
	dockerfile = interpolate(dockerfile, Pos{}, env).value
	if ctx == "" {
		ctx = "."
	}
	dfPath := dockerfile
	if !filepath.IsAbs(dfPath) {
		if filepath.IsAbs(ctx) {
			dfPath = filepath.Join(ctx, dockerfile)
		} else {
			dfPath = filepath.Join(dir, ctx, dockerfile)
		}
	}
	df := a.dockerfileAt(dfPath)
	if df == nil {
		return
	}
	st := df.stage(target)
	if st == nil {
		return
	}
	ctxDir := ctx
	if !filepath.IsAbs(ctxDir) {
		ctxDir = filepath.Join(dir, ctx)
	}
	s.imageFiles = func(p string) (string, bool) { return df.copied(st, p, ctxDir) }
	b2 := df.base(st)
	s.n8nImage = isStockN8NImage(b2) || isN8NNamedImage(b2)
	words, pos, r, why := df.entrypoint(st)
	s.runs, s.runsWhy = r, "the image it builds ("+dfPath+") "+why
	if r != injectorUnknown {
		s.runsPos = pos
	}
	if words != nil {
		s.entry, s.entryKnown = words, true
		s.cmd = df.command(st)
	} else if isStockN8NImage(b2) {
		s.entry, s.entryKnown = stockEntrypoint, true
		s.cmd = df.command(st)
	}
}

// composeWords reads an entrypoint, command or healthcheck test: a string
// (split on white space, as Compose does) or a list, interpolated. line
// collects the words with their provenance, for the command-line secrets
// check.
func composeWords(n *yaml.Node, pos Pos, env lookupFunc, line *[]setting) ([]string, bool) {
	raw, set := words(n)
	var out []string
	for _, w := range raw {
		s := interpolate(w, pos, env)
		*line = append(*line, s)
		if s.known() {
			out = append(out, s.value)
		} else {
			out = append(out, "${…}")
		}
	}
	return out, set
}

// envFileRef is one entry of a service's env_file.
type envFileRef struct {
	path     string
	required bool
}

// envFiles returns the entries of a service's env_file (a string, a list
// of strings, or a list of {path, required}).
func envFiles(n *yaml.Node) []envFileRef {
	if s, ok := scalar(n); ok {
		return []envFileRef{{s, true}}
	}
	var out []envFileRef
	for _, e := range items(n) {
		if s, ok := scalar(e); ok {
			out = append(out, envFileRef{s, true})
		} else if p := str(get(e, "path")); p != "" {
			req := true
			if r, ok := scalar(get(e, "required")); ok && isFalse(r) {
				req = false
			}
			out = append(out, envFileRef{p, req})
		}
	}
	return out
}

// composeEnvFile adds the variables of one env_file to a service. A file
// the audit cannot read (not in the files, as a .gitignored .env, or
// outside the audited tree) makes the service's environment partly
// unknown: its variables may be set.
func (a *auditor) composeEnvFile(s *service, file, dir string, ef envFileRef, env lookupFunc) {
	p := interpolate(ef.path, Pos{}, env)
	if !p.known() {
		s.opaque = append(s.opaque, "env_file "+ef.path)
		return
	}
	path := p.value
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	path = filepath.Clean(path)
	if !a.inTree(path) {
		s.opaque = append(s.opaque, "env_file "+p.value)
		a.noteEnvFile(path, "outside the audited tree: not read")
		return
	}
	entries := a.dotenv(path, env)
	if entries == nil {
		s.opaque = append(s.opaque, "env_file "+p.value)
		a.noteEnvFile(path, "not in the files: its variables are unknown")
		return
	}
	a.usedEnv[path] = true
	for _, e := range entries {
		s.setEnv(composeVar(e.name, e.setting, e.pos))
	}
}

// composeVar makes a variable of a value Compose interpolated: a ${ that
// holds a reference instead of a name is refused by Compose.
func composeVar(name string, s setting, pos Pos) *envVar {
	v := fromSetting(name, s, pos)
	v.refused = s.refused
	return v
}

// composeEnv reads a service's environment, in map or list form: values
// interpolated with the project's .env; a name without a value takes the
// .env's value, else the deployer's.
func (a *auditor) composeEnv(s *service, file string, n *yaml.Node, env lookupFunc) {
	add := func(name, raw string, set bool, pos Pos) {
		if !set {
			if v, ok := env(name); ok {
				s.setEnv(composeVar(name, v, pos))
				return
			}
			s.setEnv(&envVar{name: name, pos: pos, kind: fromHost, source: "the deployer's " + name})
			return
		}
		v := composeVar(name, interpolate(raw, pos, env), pos)
		v.raw = raw
		s.setEnv(v)
	}
	switch n := deref(n); {
	case n == nil:
	case n.Kind == yaml.MappingNode:
		for _, p := range pairs(n) {
			raw, set := scalar(p.val)
			add(p.key.Value, raw, set, at(file, p.key))
		}
	case n.Kind == yaml.SequenceNode:
		for _, e := range items(n) {
			name, raw, set := strings.Cut(str(e), "=")
			add(name, raw, set, at(file, e))
		}
	}
}

// settingsVolume returns what a service mounts at n8n's settings folder
// (<N8N_USER_FOLDER or /home/node>/.n8n, or a folder above it): a named
// volume or a host path, where n8n keeps the key it generated. "" when
// nothing is mounted there.
func settingsVolume(s *service, dir string, vols *yaml.Node, env lookupFunc) string {
	folder := "/home/node/.n8n"
	if v, ok := s.literalValue("N8N_USER_FOLDER"); ok && strings.HasPrefix(v, "/") {
		folder = strings.TrimRight(v, "/") + "/.n8n"
	}
	for _, e := range items(vols) {
		var src, target string
		if raw, ok := scalar(e); ok {
			parts := strings.Split(interpolate(raw, Pos{}, env).value, ":")
			if len(parts) < 2 {
				continue
			}
			src, target = parts[0], parts[1]
		} else {
			src = interpolate(str(get(e, "source")), Pos{}, env).value
			target = str(get(e, "target"))
		}
		target = strings.TrimRight(target, "/")
		if src == "" || target == "" || (target != folder && !strings.HasPrefix(folder, target+"/")) {
			continue
		}
		if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") || strings.HasPrefix(src, "~") {
			if !strings.HasPrefix(src, "~") && !filepath.IsAbs(src) {
				src = filepath.Join(dir, src)
			}
			return "host path " + src
		}
		return "volume " + src
	}
	return ""
}

// composeFinder returns what a Compose service sees at a path: a bind
// mount of a file or directory (short or long syntax), a secret or config
// whose top-level definition names a file (at /run/secrets/<name> and
// /<name> unless a target is given), else what the Dockerfile of its
// build copies there. Files are read inside the audited tree only; a
// named volume, an external secret or an environment-sourced one is
// something the files do not show.
func (a *auditor) composeFinder(s *service, doc, def *yaml.Node, dir string, env lookupFunc) fileFinder {
	var mounts []mount
	read := false
	image := a.imageFinder(s)
	return func(p string) (*fileContent, string) {
		if !read {
			mounts, read = composeMounts(doc, def, dir, env), true
		}
		if fc, why, found := a.findMounted(mounts, p); found {
			return fc, why
		}
		return image(p)
	}
}

// composeMounts returns the paths of a Compose service that hold files
// of the audited tree (bind mounts, secrets and configs from a file), or
// something the files do not show (a named volume, an external secret).
func composeMounts(doc, def *yaml.Node, dir string, env lookupFunc) []mount {
	var mounts []mount
	hostPath := func(src string) string {
		if filepath.IsAbs(src) {
			return src
		}
		return filepath.Join(dir, filepath.FromSlash(src))
	}
	for _, e := range items(get(def, "volumes")) {
		var src, target string
		bind := false
		if raw, ok := scalar(e); ok {
			v := interpolate(raw, Pos{}, env)
			if !v.known() {
				continue
			}
			parts := strings.Split(v.value, ":")
			if len(parts) < 2 {
				continue
			}
			src, target = parts[0], parts[1]
			bind = strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/")
		} else {
			v := interpolate(str(get(e, "source")), Pos{}, env)
			if !v.known() {
				continue
			}
			src, target = v.value, str(get(e, "target"))
			bind = str(get(e, "type")) == "bind"
		}
		if !strings.HasPrefix(target, "/") {
			continue
		}
		m := mount{target: target, why: "a volume is mounted there, whose files the files do not show"}
		if bind && !strings.HasPrefix(src, "~") {
			m.host = hostPath(src)
		}
		mounts = append(mounts, m)
	}
	for _, kind := range []string{"secrets", "configs"} {
		for _, e := range items(get(def, kind)) {
			source, target := "", ""
			if raw, ok := scalar(e); ok {
				source = raw
			} else {
				source, target = str(get(e, "source")), str(get(e, "target"))
			}
			if source == "" {
				continue
			}
			if target == "" {
				target = source
			}
			if !strings.HasPrefix(target, "/") {
				if kind == "secrets" {
					target = "/run/secrets/" + target
				} else {
					target = "/" + target
				}
			}
			m := mount{target: target, why: "a " + strings.TrimSuffix(kind, "s") + " whose content the files do not show is mounted there"}
			if f := str(get(get(get(doc, kind), source), "file")); f != "" {
				if v := interpolate(f, Pos{}, env); v.known() {
					m.host = hostPath(v.value)
				}
			}
			mounts = append(mounts, m)
		}
	}
	return mounts
}
