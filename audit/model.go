package audit

import (
	"path"
	"strings"
)

// Pos is a place in a file: 1-based line and column, 0 when unknown.
type Pos struct {
	File      string
	Line, Col int
}

// valueKind says where a variable's value comes from.
type valueKind int

const (
	// literal: the value is written in the file (it may be a reference).
	literal valueKind = iota
	// fromHost: no value in the file; it comes from the environment of
	// whoever deploys (Compose's `KEY:` with no value, `${VAR}`).
	fromHost
	// fromSecret: an orchestrator secret (Kubernetes secretKeyRef or
	// envFrom secretRef).
	fromSecret
	// fromOther: something the files do not resolve (fieldRef, a
	// ConfigMap that is not in the files).
	fromOther
)

// envVar is one variable of a service's environment.
type envVar struct {
	name   string
	value  string // for literal: the text (never printed); else ""
	kind   valueKind
	source string // for the other kinds: where from, for messages ("Secret n8n/encryption_key", "${KEY}")
	pos    Pos    // where the value is written (the key's position)
	in     string // where it is written when not in the service itself ("ConfigMap n8n-env")
}

// injector says whether a container runs n8n-secrets first.
type injector int

const (
	injectorUnknown injector = iota
	injectorYes
	injectorNo
)

// service is a container of a deployment file, normalised across
// Compose, Swarm, Kubernetes and Dockerfiles.
type service struct {
	subject  string // "service n8n-worker", "Deployment n8n (container n8n)", "Dockerfile stage n8n"
	group    string // one deployment: a file, or a namespace of a Kubernetes file
	pos      Pos
	image    string // interpolated with defaults
	imagePos Pos
	args     []string // command and arguments after the entrypoint
	runs     injector
	runsPos  Pos    // where the entrypoint or command is written
	runsWhy  string // how runs was decided, for messages
	env      []*envVar
	// opaqueSecrets are envFrom secretRefs whose keys the files do not show.
	opaqueSecrets []string
	standalone    bool // a Dockerfile or .env file: deployment checks do not apply
}

// lookup returns the variable name, the last one set.
func (s *service) lookup(name string) *envVar {
	var v *envVar
	for _, e := range s.env {
		if e.name == name {
			v = e
		}
	}
	return v
}

// setEnv adds a variable, replacing any earlier one of the same name.
func (s *service) setEnv(v *envVar) {
	for i, e := range s.env {
		if e.name == v.name {
			s.env[i] = v
			return
		}
	}
	s.env = append(s.env, v)
}

// literalValue returns the literal value of name, if written in the files.
func (s *service) literalValue(name string) (string, bool) {
	v := s.lookup(name)
	if v == nil || v.kind != literal {
		return "", false
	}
	return v.value, true
}

// isN8N reports whether the container runs n8n: by its image, its command
// or its N8N_* variables.
func (s *service) isN8N() bool {
	if isN8NImage(s.image) {
		return true
	}
	if len(s.args) > 0 && path.Base(s.args[0]) == "n8n" {
		return true
	}
	for _, e := range s.env {
		if strings.HasPrefix(e.name, "N8N_") && !strings.HasPrefix(e.name, "N8N_SECRETS_") {
			return true
		}
	}
	return false
}

// role returns the n8n process the container runs: worker, webhook or
// main.
func (s *service) role() string {
	for _, a := range s.args {
		switch a {
		case "worker", "webhook":
			return a
		}
	}
	return "main"
}

// imageRepo returns an image reference without its tag or digest.
func imageRepo(image string) (repo, tag string) {
	if i := strings.Index(image, "@"); i >= 0 {
		return image[:i], image[i:]
	}
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return image, ""
	}
	return image[:i], image[i+1:]
}

// isN8NImage reports whether an image is n8n's, stock or built on it: its
// repository's last element is n8n.
func isN8NImage(image string) bool {
	repo, _ := imageRepo(image)
	return repo != "" && path.Base(repo) == "n8n"
}

// isStockN8NImage reports whether an image is n8n's own, whose entrypoint
// does not run n8n-secrets.
func isStockN8NImage(image string) bool {
	repo, _ := imageRepo(image)
	switch strings.TrimPrefix(repo, "docker.io/") {
	case "n8nio/n8n", "docker.n8n.io/n8nio/n8n", "library/n8n":
		return true
	}
	return false
}

// splitWords splits a command line on white space, keeping quoted parts
// together (enough for entrypoints and commands; no expansion).
func splitWords(s string) []string {
	var out []string
	var cur strings.Builder
	quote := rune(0)
	in := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// runsInjector reports whether an entrypoint or command runs n8n-secrets.
func runsInjector(words []string) bool {
	for _, w := range words {
		if strings.Contains(path.Base(w), "n8n-secrets") {
			return true
		}
	}
	return false
}
