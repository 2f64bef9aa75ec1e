package audit

import (
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// isComposeFile reports whether a YAML document is a Compose or Swarm
// stack file: a top-level services mapping.
func isComposeFile(doc *yaml.Node) bool {
	s := get(doc, "services")
	return s != nil && s.Kind == yaml.MappingNode && get(doc, "apiVersion") == nil
}

// composeServices returns the services of a Compose or stack file. A
// service that builds its image has the Dockerfile it names read (through
// read) to learn its ENTRYPOINT; env_file files are read the same way.
func (a *auditor) composeServices(file string, doc *yaml.Node) []*service {
	dir := filepath.Dir(file)
	var out []*service
	for _, p := range pairs(get(doc, "services")) {
		name, def := p.key.Value, p.val
		s := &service{subject: "service " + name, group: file, pos: at(file, p.key)}
		if k, v := getKey(def, "image"); v != nil {
			s.image, _ = interpolate(str(v))
			s.imagePos = at(file, k)
		}
		entry, entrySet := words(get(def, "entrypoint"))
		s.args, _ = words(get(def, "command"))
		for i, w := range s.args {
			s.args[i], _ = interpolate(w)
		}
		switch {
		case entrySet:
			k, _ := getKey(def, "entrypoint")
			s.runsPos = at(file, k)
			if runsInjector(entry) {
				s.runs, s.runsWhy = injectorYes, "its entrypoint runs n8n-secrets"
			} else {
				s.runs, s.runsWhy = injectorNo, "its entrypoint does not run n8n-secrets"
			}
		case get(def, "build") != nil:
			k, b := getKey(def, "build")
			s.runsPos = at(file, k)
			s.runs, s.runsWhy = injectorUnknown, "the Dockerfile it builds cannot be read"
			ctx, dockerfile, target := str(b), "Dockerfile", ""
			if b.Kind == yaml.MappingNode {
				ctx = str(get(b, "context"))
				if d := str(get(b, "dockerfile")); d != "" {
					dockerfile = d
				}
				target = str(get(b, "target"))
			}
			ctx, _ = interpolate(ctx)
			dockerfile, _ = interpolate(dockerfile)
			if ctx == "" {
				ctx = "."
			}
			dfPath := dockerfile
			if !filepath.IsAbs(dfPath) {
				dfPath = filepath.Join(dir, ctx, dockerfile)
			}
			if df := a.dockerfileAt(dfPath); df != nil {
				if st := df.stage(target); st != nil {
					_, pos, r, why := df.entrypoint(st)
					s.runs, s.runsWhy = r, "the image it builds ("+dfPath+") "+why
					if r != injectorUnknown {
						s.runsPos = pos
					}
				}
			}
		case isStockN8NImage(s.image):
			s.runs, s.runsPos, s.runsWhy = injectorNo, s.imagePos, "it runs n8n's own image, whose entrypoint does not run n8n-secrets"
		default:
			s.runsPos, s.runsWhy = s.imagePos, "its image is not built from a Dockerfile in the files"
		}
		for _, ef := range envFiles(get(def, "env_file")) {
			ef, _ = interpolate(ef)
			p := ef
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, ef)
			}
			if data, err := a.readFile(p); err == nil {
				// The position names the file: no "in" needed, and a .env
				// audited on its own too reports the same finding once.
				for _, v := range parseEnvFile(p, data, "") {
					s.setEnv(v)
				}
			}
		}
		for _, v := range composeEnv(file, get(def, "environment")) {
			s.setEnv(v)
		}
		out = append(out, s)
	}
	return out
}

// envFiles returns the paths of a service's env_file (a string, a list of
// strings, or a list of {path: …}).
func envFiles(n *yaml.Node) []string {
	if s, ok := scalar(n); ok {
		return []string{s}
	}
	var out []string
	for _, e := range items(n) {
		if s, ok := scalar(e); ok {
			out = append(out, s)
		} else if p := str(get(e, "path")); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// composeEnv reads a service's environment, in map or list form.
func composeEnv(file string, n *yaml.Node) []*envVar {
	var out []*envVar
	add := func(name, raw string, set bool, pos Pos) {
		v := &envVar{name: name, pos: pos}
		switch {
		case !set:
			v.kind, v.source = fromHost, "the host's "+name
		default:
			val, host := interpolate(raw)
			if host != "" {
				v.kind, v.source = fromHost, host
			} else {
				v.value = val
			}
		}
		out = append(out, v)
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
	return out
}

// interpRe matches ${NAME}, ${NAME:-default}, ${NAME-default},
// ${NAME:?message}, ${NAME?message}, ${NAME:+alt}, ${NAME+alt} and $NAME,
// as Compose reads them.
var interpRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// interpolate applies Compose's variable substitution with every variable
// unset, so that defaults apply. host names the first variable without a
// default ("${NAME}"): then the value depends on the deployer's
// environment and is not judged. "$$" is a literal "$".
func interpolate(s string) (value, host string) {
	const dollar = "\x00dollar\x00"
	s = strings.ReplaceAll(s, "$$", dollar)
	s = interpRe.ReplaceAllStringFunc(s, func(m string) string {
		g := interpRe.FindStringSubmatch(m)
		if g[5] != "" {
			if host == "" {
				host = "$" + g[5]
			}
			return ""
		}
		switch g[3] {
		case "-":
			return g[4]
		case "+":
			return ""
		}
		if host == "" {
			host = "${" + g[1] + "}"
		}
		return ""
	})
	return strings.ReplaceAll(s, dollar, "$"), host
}
