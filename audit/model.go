package audit

import (
	"path"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/n8n"
)

// Pos is a place in a file: 1-based line and column, 0 when unknown.
type Pos struct {
	File      string
	Line, Col int
}

// valueKind says where a variable's value comes from.
type valueKind int

const (
	// literal: the files give the value (it may be a reference).
	literal valueKind = iota
	// fromHost: the deployer's environment gives it (Compose's `KEY:`
	// with no value, ${VAR} that no .env in the files sets).
	fromHost
	// fromSecret: an orchestrator secret (Kubernetes secretKeyRef or
	// envFrom secretRef).
	fromSecret
	// fromOther: something the files do not resolve (fieldRef, a ConfigMap
	// that is not in the files).
	fromOther
)

// envVar is one variable of a service's environment.
type envVar struct {
	name   string
	kind   valueKind
	value  string // literal: the text (never printed)
	source string // the other kinds: where from, for messages ("Secret n8n key encryption_key", "${KEY}")
	pos    Pos    // where the variable is set for the service
	// litPos is where a literal's text is written when not at pos (a .env
	// line that ${NAME} brings in); via says how it came ("ENCRYPTION_KEY
	// in .env"); dflt that it is a default, used when a variable is unset.
	litPos Pos
	via    string
	dflt   bool
	in     string // where it is written when not in the service itself ("ConfigMap n8n-env")
	// secretHash identifies a Kubernetes Secret's value when the files
	// hold the Secret (a hash, never the value); secretValue is that value
	// (never printed), for what the injector makes of it (a reference in
	// a Secret is resolved like any), and secretPos where it is written.
	secretHash  string
	secretValue string
	secretKnown bool
	secretPos   Pos
	// composed: the literal's text comes from more than one place (a
	// ${NAME} or $(NAME) brought part of it), so that no one line holds
	// all of it; raw is then the text as written at pos, before
	// interpolation, when known.
	composed bool
	raw      string
	// refused are the ${…} that hold no variable's name (set for Compose
	// values only): Compose refuses the first that holds a reference
	// (see auditor.refusedAt).
	refused []notName
	// notInjected: the value is no container's variable where it is
	// judged (a ConfigMap's key, a Dockerfile instruction): the start
	// never reads it there, so only what it writes out is judged; the
	// containers that get it judge the rest.
	notInjected bool
}

// at returns where a literal's text is written.
func (v *envVar) at() Pos {
	if v.litPos.File != "" {
		return v.litPos
	}
	return v.pos
}

// fromSetting makes a variable of an interpolated value set at pos.
func fromSetting(name string, s setting, pos Pos) *envVar {
	v := &envVar{name: name, pos: pos}
	if !s.known() {
		v.kind, v.source = fromHost, s.host
		return v
	}
	v.value, v.via, v.dflt, v.composed = s.value, s.via, s.dflt, s.composed
	if s.lit.File != "" && s.lit != pos {
		v.litPos = s.lit
	}
	return v
}

// injector says whether a container runs n8n-secrets first.
type injector int

const (
	injectorUnknown injector = iota
	injectorYes
	injectorNo
)

// role is the kind of n8n process a container runs.
type role string

const (
	roleNone    role = ""        // not n8n
	roleMain    role = "main"    // n8n start (the default command)
	roleWorker  role = "worker"  // n8n worker
	roleWebhook role = "webhook" // n8n webhook
	roleCLI     role = "command" // another n8n command (import:credentials, execute, …)
)

// server reports whether the role is one of n8n's long-running processes.
func (r role) server() bool { return r == roleMain || r == roleWorker || r == roleWebhook }

// service is a container of a deployment file, normalised across
// Compose, Swarm, Kubernetes and Dockerfiles.
type service struct {
	subject string // "service n8n-worker", "Deployment n8n (container n8n)", "the image (stage n8n)"
	group   string // one deployment: a Compose project, a Kubernetes namespace
	pos     Pos

	image    setting // interpolated
	imagePos Pos
	// n8nImage: the image is n8n's, named n8n, or built FROM n8n's in the
	// files; entry is the image's entrypoint and cmd its CMD when the
	// files show them (entryKnown).
	n8nImage   bool
	entry, cmd []string
	entryKnown bool
	// What the deployment file sets: the entrypoint (Compose entrypoint,
	// Kubernetes command) and the command (Compose command, Kubernetes
	// args), interpolated.
	setEntry, setCmd []string
	entrySet, cmdSet bool
	entryPos, cmdPos Pos
	replicas         int
	runs             injector
	runsPos          Pos
	runsWhy          string
	env              []*envVar
	opaque           []string // envFrom/env_file the files do not resolve, for messages
	standalone       bool     // a Dockerfile or a lone env file: deployment checks do not apply
	resolvedRole     *role
	settingsVolume   string         // what is mounted at n8n's settings folder (Compose), for the key it holds
	commandWords     []commandWords // command lines to look for passwords in
	// What the container's n8n-secrets is told (see applyInjector): the
	// names it does not look at (N8N_SECRETS_SKIP, --skip) and the whole
	// secrets it turns into variables (N8N_SECRETS_ENV_FROM, --env-from).
	skip    inject.Matcher
	envFrom []injectorSetting
	// imageFiles returns the file of the audited tree that the image's
	// Dockerfile copies to a path, when the files build the image.
	imageFiles func(p string) (string, bool)
}

// commandWords is one command line of a service: its words and where it
// is written.
type commandWords struct {
	words []setting
	pos   Pos
	what  string // "command", "healthcheck"
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

// literalValue returns the literal value of name, if the files give it.
func (s *service) literalValue(name string) (string, bool) {
	v := s.lookup(name)
	if v == nil || v.kind != literal {
		return "", false
	}
	return v.value, true
}

// unknownEnv reports whether part of the environment comes from something
// the files do not show (an envFrom or env_file): a variable that is not
// in the files may then be set.
func (s *service) unknownEnv() bool { return len(s.opaque) > 0 }

// role returns the n8n process the container runs, decided from what runs:
// the command (n8n, n8n worker, n8n webhook, also through sh -c, wrappers
// and n8n-secrets), or an n8n image with its own entrypoint. Variables
// never make a node: a proxy given N8N_HOST is not one, nor is a task
// runner (n8nio/runners).
func (s *service) role() role {
	if s.resolvedRole != nil {
		return *s.resolvedRole
	}
	r := s.decideRole()
	s.resolvedRole = &r
	return r
}

// commandLine returns what the container runs: the entrypoint the file
// sets (which drops the image's CMD), else the image's, with the file's
// command or the image's CMD; known is false when the image's entrypoint
// is not in the files, and argv is then the command alone.
func (s *service) commandLine() (argv []string, known bool) {
	switch {
	case s.entrySet:
		return append(append([]string{}, s.setEntry...), s.setCmd...), true
	case s.entryKnown:
		cmd := s.cmd
		if s.cmdSet {
			cmd = s.setCmd
		}
		return append(append([]string{}, s.entry...), cmd...), true
	}
	if s.cmdSet {
		return s.setCmd, false
	}
	return s.cmd, false
}

func (s *service) decideRole() role {
	argv, known := s.commandLine()
	if known {
		if args, ok := n8nInvocation(argv, s.n8nImage, 0); ok {
			return roleOf(args)
		}
		return roleNone
	}
	// The image's entrypoint is not in the files: the command decides if
	// it runs n8n; else an n8n image runs n8n with the command as
	// arguments (its entrypoint passes them on).
	args := argv
	if inv, ok := n8nInvocation(args, s.n8nImage, 0); ok {
		return roleOf(inv)
	}
	if s.n8nImage {
		return roleOf(args)
	}
	return roleNone
}

// roleOf returns the role of n8n run with args, as n8n reads its command
// (see n8n.RoleOf).
func roleOf(args []string) role {
	switch r := n8n.RoleOf(append([]string{"n8n"}, args...)); r {
	case n8n.RoleStart:
		return roleMain
	case n8n.RoleWorker:
		return roleWorker
	case n8n.RoleWebhook:
		return roleWebhook
	}
	return roleCLI
}

// shells run a script given with -c.
var shells = map[string]bool{"sh": true, "bash": true, "ash": true, "dash": true, "zsh": true, "busybox": true}

// n8nInvocation returns the arguments n8n is started with when argv runs
// n8n: directly, through the n8n image's entrypoint script (when
// entrypointScript), through a wrapper (tini, dumb-init, su-exec, gosu,
// env, node, exec, nice), through n8n-secrets' exec mode, or as one of the
// commands of a shell's -c script ("sleep 5; n8n worker").
func n8nInvocation(argv []string, entrypointScript bool, depth int) ([]string, bool) {
	return walkInvocation(argv, entrypointScript, depth, nil)
}

// walkInvocation is n8nInvocation; onInjector, if not nil, is given the
// arguments of each n8n-secrets exec mode met on the way (those before
// its "--"), whatever it runs.
func walkInvocation(argv []string, entrypointScript bool, depth int, onInjector func(args []string)) ([]string, bool) {
	for len(argv) > 0 && depth < 8 {
		base := path.Base(argv[0])
		switch {
		case base == "n8n":
			return argv[1:], true
		case base == "docker-entrypoint.sh" && entrypointScript:
			// n8n's entrypoint script runs n8n with its arguments; images
			// before 1.0 ran its arguments as a command (su-exec node "$@"),
			// which files written for them still give: "/bin/sh -c 'n8n
			// start'", "n8n worker".
			rest := argv[1:]
			if args, ok := walkInvocation(rest, false, depth+1, onInjector); ok {
				return args, true
			}
			return rest, true
		case shells[base]:
			script, ok := shellScript(argv[1:])
			if !ok {
				return nil, false
			}
			for _, cmd := range shellCommands(script) {
				if args, ok := walkInvocation(cmd, entrypointScript, depth+1, onInjector); ok {
					return args, true
				}
			}
			return nil, false
		case strings.Contains(base, "n8n-secrets"):
			// n8n-secrets [flags] -- CMD…; its other commands (rekey, check)
			// run no n8n.
			i := indexOf(argv, "--")
			if i < 0 {
				return nil, false
			}
			if onInjector != nil {
				onInjector(argv[1:i])
			}
			argv = argv[i+1:]
		case base == "tini" || base == "dumb-init" || base == "catatonit":
			argv = skipFlags(argv[1:])
		case base == "su-exec" || base == "gosu":
			if len(argv) < 3 {
				return nil, false
			}
			argv = argv[2:]
		case base == "env" || base == "exec" || base == "nice" || base == "nohup" || base == "setpriv":
			argv = argv[1:]
			for len(argv) > 0 && (strings.HasPrefix(argv[0], "-") || strings.Contains(argv[0], "=")) {
				argv = argv[1:]
			}
		case base == "node" || base == "nodejs":
			argv = argv[1:]
			for len(argv) > 0 && strings.HasPrefix(argv[0], "-") {
				argv = argv[1:]
			}
		default:
			return nil, false
		}
		depth++
	}
	return nil, false
}

func indexOf(list []string, s string) int {
	for i, w := range list {
		if w == s {
			return i
		}
	}
	return -1
}

// skipFlags drops leading options and a "--" that ends them.
func skipFlags(argv []string) []string {
	for len(argv) > 0 && strings.HasPrefix(argv[0], "-") {
		if argv[0] == "--" {
			return argv[1:]
		}
		argv = argv[1:]
	}
	return argv
}

// shellScript returns the script of "sh [options] -c SCRIPT …".
func shellScript(args []string) (string, bool) {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			return "", false
		}
		if strings.Contains(strings.TrimLeft(a, "-"), "c") && !strings.HasPrefix(a, "--") {
			if i+1 < len(args) {
				return args[i+1], true
			}
			return "", false
		}
	}
	return "", false
}

// shellKeywords start a command without being one.
var shellKeywords = map[string]bool{"then": true, "do": true, "else": true, "!": true, "{": true, "(": true, "time": true}

// shellCommands splits a shell script into simple commands (on ;, &&, ||,
// |, & and new lines, outside quotes), each as words, without leading
// variable assignments and keywords. Enough to see which programs a
// command line of a deployment file runs; nothing is expanded.
func shellCommands(script string) [][]string {
	var out [][]string
	var cur strings.Builder
	quote := byte(0)
	emit := func() {
		words := splitWords(cur.String())
		cur.Reset()
		for len(words) > 0 && (shellKeywords[words[0]] || isAssignment(words[0])) {
			words = words[1:]
		}
		if len(words) > 0 {
			out = append(out, words)
		}
	}
	for i := 0; i < len(script); i++ {
		c := script[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(script) {
				cur.WriteByte(c)
				i++
				c = script[i]
			}
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote = c
			cur.WriteByte(c)
		case c == ';' || c == '\n' || c == '|' || c == '&':
			emit()
		default:
			cur.WriteByte(c)
		}
	}
	emit()
	return out
}

// isAssignment reports whether a word is NAME=value.
func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	return ok && name != "" && isNameStart(name[0]) && strings.IndexFunc(name, func(r rune) bool { return !(r < 128 && isNameChar(byte(r))) }) < 0
}

// imageRepo splits an image reference into its repository and its tag or
// digest (the digest with its "@").
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

// isStockN8NImage reports whether an image is n8n's own (n8nio/n8n on
// Docker Hub, docker.n8n.io/n8nio/n8n), whose entrypoint is
// `tini -- /docker-entrypoint.sh`: it runs n8n with the command as
// arguments, and never n8n-secrets.
func isStockN8NImage(image string) bool {
	repo, _ := imageRepo(image)
	repo = strings.TrimPrefix(strings.TrimPrefix(repo, "docker.io/"), "index.docker.io/")
	switch repo {
	case "n8nio/n8n", "docker.n8n.io/n8nio/n8n", "library/n8n":
		return true
	}
	return false
}

// stockEntrypoint is the entrypoint of n8n's image.
var stockEntrypoint = []string{"tini", "--", "/docker-entrypoint.sh"}

// isN8NNamedImage reports whether an image's repository is named n8n (its
// last path element), such as an image built on n8n's in another
// repository (registry.example.com/team/n8n). n8n's task runners
// (n8nio/runners) are not.
func isN8NNamedImage(image string) bool {
	repo, _ := imageRepo(image)
	return repo != "" && path.Base(repo) == "n8n"
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
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
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
