package audit

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
	"github.com/n8n-secrets/n8n-secrets/internal/suggest"
)

const keyVar = "N8N_ENCRYPTION_KEY"

// walkStage calls fn for each instruction of a stage with the variables
// its values are expanded with: the global ARG defaults, then the ARG and
// ENV instructions met so far along the chain of stages it is built from.
// An ARG without default is the builder's.
func walkStage(df *dockerfile, st *dockerStage, fn func(in *dockerInstr, lookup lookupFunc)) {
	var chain []*dockerStage
	for s := st; s != nil && len(chain) < 64; s = df.parent(s) {
		chain = append([]*dockerStage{s}, chain...)
	}
	vars := map[string]setting{}
	for k, v := range df.args {
		vars[k] = v
	}
	lookup := func(name string) (setting, bool) {
		v, ok := vars[name]
		return v, ok
	}
	for _, s := range chain {
		for i := range s.instrs {
			in := &s.instrs[i]
			if s == st {
				fn(in, lookup)
			}
			if in.cmd != "ENV" && in.cmd != "ARG" {
				continue
			}
			for _, kv := range envPairs(*in) {
				switch {
				case in.cmd == "ARG" && !kv.hasValue:
					if _, ok := df.args[kv.name]; !ok {
						delete(vars, kv.name)
					}
				default:
					v := interpolate(kv.value, in.posOf(kv.name), lookup)
					if in.cmd == "ARG" && v.known() {
						v.dflt = true
						if v.via == "" {
							v.via = "the default of ARG " + kv.name
						}
					}
					vars[kv.name] = v
				}
			}
		}
	}
}

// auditDockerfile checks a Dockerfile's instructions and adds its final
// stage as a service (its ENV, ENTRYPOINT and CMD).
func (a *auditor) auditDockerfile(df *dockerfile) {
	final := df.stage("")
	for _, st := range df.stages {
		if st.name == globalArgs {
			continue
		}
		if df.parent(st) == nil && (isStockN8NImage(st.base) || isN8NNamedImage(st.base)) {
			a.checkImagePin(st.baseSet, st.basePos, "")
		}
		walkStage(df, st, func(in *dockerInstr, lookup lookupFunc) {
			switch in.cmd {
			case "ENV", "ARG":
				for _, kv := range envPairs(*in) {
					pos := in.posOf(kv.name)
					switch {
					case in.cmd == "ARG" && !kv.hasValue && isSecretName(kv.name):
						a.add(CodeSecretBuildArg, Warning, pos, "", fmt.Sprintf("ARG %s: a secret passed as a build argument stays in the image's history", kv.name), "")
					case kv.hasValue:
						v := fromSetting(kv.name, interpolate(kv.value, pos, lookup), pos)
						v.in, v.notInjected = in.cmd, true
						a.checkValue(v, "", nil)
					}
				}
			case "COPY", "ADD":
				for _, src := range copySources(in.args) {
					if looksLikeSecretFile(src) {
						a.add(CodeSecretFileInImage, Warning, in.posOf(src), "", fmt.Sprintf("%s %s: the file stays in the image's layers", in.cmd, src), "")
					}
				}
			}
		})
	}
	// The final stage as a container: its ENV (with the stages it is built
	// from), ENTRYPOINT and CMD.
	base := df.base(final)
	s := &service{subject: "the image (stage " + stageName(final) + ")", group: df.file, pos: final.basePos,
		image: setting{value: base}, imagePos: final.basePos, standalone: true, replicas: 1}
	s.n8nImage = isStockN8NImage(base) || isN8NNamedImage(base)
	var chain []*dockerStage
	for c := final; c != nil && len(chain) < 64; c = df.parent(c) {
		chain = append([]*dockerStage{c}, chain...)
	}
	for _, c := range chain {
		walkStage(df, c, func(in *dockerInstr, lookup lookupFunc) {
			switch in.cmd {
			case "ENV":
				for _, kv := range envPairs(*in) {
					pos := in.posOf(kv.name)
					v := fromSetting(kv.name, interpolate(kv.value, pos, lookup), pos)
					v.in = "ENV"
					s.setEnv(v)
				}
			case "CMD", "ENTRYPOINT":
				s.commandWords = append(s.commandWords, literalWords(instrWords(in.args), in.pos, in.cmd))
			}
		})
	}
	words, pos, r, why := df.entrypoint(final)
	s.runsPos, s.runs, s.runsWhy = pos, r, why
	switch {
	case words != nil:
		s.entry, s.entryKnown = words, true
	case isStockN8NImage(base):
		s.entry, s.entryKnown = stockEntrypoint, true
	}
	s.cmd = df.command(final)
	ctx := filepath.Dir(df.file)
	s.imageFiles = func(p string) (string, bool) { return df.copied(final, p, ctx) }
	a.applyInjector(s, a.imageFinder(s))
	a.services = append(a.services, s)
}

// imageFinder returns what a container sees at a path when nothing is
// mounted there: what its image's Dockerfile copies, if the files build
// the image.
func (a *auditor) imageFinder(s *service) fileFinder {
	return func(p string) (*fileContent, string) {
		if s.imageFiles != nil {
			if host, ok := s.imageFiles(p); ok {
				return a.hostFile(host)
			}
		}
		return nil, "the files do not show what the container has at that path"
	}
}

// literalWords makes a command line of words written at pos.
func literalWords(ws []string, pos Pos, what string) commandWords {
	cw := commandWords{pos: pos, what: what}
	for _, w := range ws {
		cw.words = append(cw.words, setting{value: w, lit: pos})
	}
	return cw
}

func stageName(s *dockerStage) string {
	if s.name != "" {
		return s.name
	}
	return fmt.Sprint(s.index)
}

// copySources returns the sources of a COPY or ADD (not --from stages).
func copySources(args string) []string {
	ws := instrWords(args)
	var out []string
	for _, w := range ws {
		if strings.HasPrefix(w, "--from=") {
			return nil
		}
		if !strings.HasPrefix(w, "--") {
			out = append(out, w)
		}
	}
	if len(out) > 1 {
		return out[:len(out)-1]
	}
	return nil
}

// auditKubeObjects checks the objects of the manifests that are not
// containers: ConfigMaps (no secrets in them) and Secrets (no values in
// manifests).
func (a *auditor) auditKubeObjects(objs []kubeObject) {
	for _, o := range objs {
		switch o.kind {
		case "ConfigMap":
			for _, p := range pairs(get(o.doc, "data")) {
				a.checkValue(&envVar{name: p.key.Value, value: str(p.val), pos: at(o.file, p.key), in: "ConfigMap " + o.name, notInjected: true}, "ConfigMap "+o.name, nil)
			}
		case "Secret":
			for _, field := range []string{"data", "stringData"} {
				k, v := getKey(o.doc, field)
				if k == nil {
					continue
				}
				var names []string
				for _, p := range pairs(v) {
					s, _ := scalar(p.val)
					if s == "" || !secretKey(p.key.Value) {
						continue
					}
					if field == "data" {
						if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s)); err == nil {
							s = string(raw)
						}
					}
					if a.heldAsReference(s) {
						continue
					}
					names = append(names, p.key.Value)
				}
				if len(names) > 0 {
					a.add(CodeSecretInManifest, Warning, at(o.file, k), "Secret "+o.name,
						fmt.Sprintf("the manifest holds the values of %s", strings.Join(names, ", ")), "")
				}
			}
		}
	}
}

// heldAsReference reports whether a Secret's value is one the injector
// takes for a reference (a whole reference or ${…} references, a scheme
// typo included) or another tool's: no secret is written in the manifest
// then, only where to find one. Container that get it are judged for what
// the start makes of it.
func (a *auditor) heldAsReference(value string) bool {
	v := a.viewOf("VALUE", value, nil)
	return v.meant || v.foreign != nil || v.err != nil
}

// secretKey reports whether a Secret's key holds a secret: a key named
// like an environment variable (the chart's envFrom Secret) is judged as
// the variable it becomes (N8N_PROTOCOL is none, N8N_ENCRYPTION_KEY is);
// any other key (encryption_key, redis-password, tls.key) is, unless it
// names an identifier (a user name, a host, a certificate).
func secretKey(key string) bool {
	if inject.ValidName(key) && key == strings.ToUpper(key) {
		return isSecretName(key) && !identifierKey(key)
	}
	return !identifierKey(key)
}

// identifierSuffixes end the keys of a Secret that hold no secret: a user
// name, a host, a port, a database name, a certificate.
var identifierSuffixes = []string{"USER", "USERNAME", "HOST", "PORT", "DB", "DATABASE", "NAME", "URL", "URI", "EMAIL", "CRT", "CERT", "PEM_CA"}

// identifierKey reports whether a Secret's key names something that is no
// secret (redis-username, POSTGRES_DB, tls.crt): its value in a manifest is
// not a leak.
func identifierKey(key string) bool {
	k := strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(key))
	for _, s := range identifierSuffixes {
		if k == s || strings.HasSuffix(k, "_"+s) {
			return true
		}
	}
	return false
}

// ownSetting reports whether a variable is one of n8n-secrets' own
// settings, which the injector never resolves.
func ownSetting(name string) bool { return strings.HasPrefix(name, "N8N_SECRETS_") }

// checkValue checks one variable whose value the files give, as the
// injector's start would read it (see viewOf): a value it refuses (a
// malformed reference or ${…}, a scheme one typo away from a reference)
// is BAD_REFERENCE, another tool's reference FOREIGN_REFERENCE (a
// warning, as the start's), a reference or a value built from ${…}
// references no literal. Then a secret written out, a URL with its
// password written out, the key holding a path. A literal that comes
// through ${NAME} is judged by the variable it lands in and reported
// where its text is written; one that is a default (${NAME:-default}) is
// a warning, as it is used only when NAME is unset. A value of a
// Kubernetes Secret in the files is judged for what the start makes of
// it only: a Secret is where a secret belongs. skip is the container's
// N8N_SECRETS_SKIP. isRef reports whether the start resolves the value.
func (a *auditor) checkValue(v *envVar, subject string, skip inject.Matcher) (isRef bool) {
	value, at := v.value, v.at()
	switch {
	case v.kind == literal:
	case v.kind == fromSecret && v.secretKnown:
		value, at = v.secretValue, v.secretPos
	default:
		return false
	}
	if value == "" {
		return false
	}
	where := ""
	switch {
	case v.kind == fromSecret:
		where = " (in " + v.source + ")"
	case v.in != "" && v.in != "ENV" && v.in != "ARG":
		where = " (in " + v.in + ")"
	}
	came := ""
	switch {
	case v.via != "":
		came = " (from " + v.via + ")"
	case v.dflt:
		came = " (a default in the file)"
	}
	if at := a.refusedAt(v.refused); at.File != "" {
		a.add(CodeBadReference, Error, at, subject, fmt.Sprintf("%s%s%s: Compose refuses a ${ that holds a reference instead of a variable's name (\"Invalid template\", its error quoting the value)", v.name, where, came),
			"write $${…} in a Compose file: Compose passes ${…} on to n8n-secrets, which resolves it")
	}
	sv := a.viewOf(v.name, value, skip)
	if v.notInjected && (sv.meant || sv.foreign != nil || sv.err != nil) {
		a.checkURLPassword(v, value, sv, at, subject, where, came)
		return false
	}
	if skip.Match(v.name) {
		// The start does not look at it: no reference, nor a literal
		// secret when it is written as a reference (another tool may
		// resolve it).
		if w := a.viewOf(v.name, value, nil); w.meant || w.foreign != nil || w.err != nil {
			return false
		}
	}
	switch {
	case sv.err != nil:
		a.add(CodeBadReference, Error, at, subject, fmt.Sprintf("%s%s%s: %s", v.name, where, came, scanMessage(sv.err, v.name)), "")
		return sv.meant
	case sv.foreign != nil:
		a.add(CodeForeignReference, Warning, at, subject,
			fmt.Sprintf("%s%s%s holds %s, which n8n-secrets does not resolve: passed on as it is", v.name, where, came, sv.foreign.Tool),
			sv.foreign.Hint+"; a value meant literally goes in N8N_SECRETS_SKIP, which silences this")
		return false
	case len(sv.refs) > 0:
		if v.kind == literal {
			a.checkURLPassword(v, value, sv, at, subject, where, came)
		}
		return true
	}
	if v.kind != literal {
		return false
	}
	if !isSecretName(v.name) {
		a.checkURLPassword(v, value, sv, at, subject, where, came)
		return false
	}
	if v.name == keyVar && strings.HasPrefix(value, "/") {
		a.add(CodeKeyIsPath, Error, at, subject, fmt.Sprintf("%s%s%s holds a path: n8n would take the path itself as the key", v.name, where, came), "")
		return false
	}
	prefix := ""
	if v.in == "ENV" || v.in == "ARG" {
		prefix = v.in + " "
	}
	sev := Error
	if v.dflt {
		sev = Warning
	}
	a.addLiteral(literalKey{pos: at, sev: sev, prefix: prefix, where: where}, v.name, subject, came)
	return false
}

// checkURLPassword reports a URL whose password is written in the file,
// whether or not the rest of the value uses ${…} references: a reference
// elsewhere in the value does not keep the password out of the file. A
// value whose text comes from one place is judged whole (its references
// standing for no text); one assembled from several places (${NAME},
// $(NAME)) only for the text written at the variable, where a password
// that holds a $ is the deployer's or the container's.
func (a *auditor) checkURLPassword(v *envVar, value string, sv startView, at Pos, subject, where, came string) {
	text := value
	if sv.template != nil {
		text = templateText(sv.template)
	}
	switch {
	case !v.composed && literalURLPassword(text):
	case v.composed && v.raw != "" && literalURLPassword(v.raw):
		at = v.pos
	default:
		return
	}
	a.addURLPassword(v, at, subject, where, came)
}

// addURLPassword reports a URL whose password is written in the file.
func (a *auditor) addURLPassword(v *envVar, at Pos, subject, where, came string) {
	sev := Error
	if v.dflt {
		sev = Warning
	}
	prefix := ""
	if v.in == "ENV" || v.in == "ARG" {
		prefix = v.in + " "
	}
	a.add(CodeLiteralSecret, sev, at, subject, fmt.Sprintf("%s%s%s%s holds a URL whose password is written in plain text", prefix, v.name, where, came),
		"write a reference in the password's place (postgres://n8n:${vault://secret/n8n/db#password}@db/n8n, $${…} in a Compose file): n8n-secrets builds the value; the value is not shown")
}

// literalKey is one place where a secret is written: every variable the
// text lands in is reported in one finding there.
type literalKey struct {
	pos           Pos
	sev           Severity
	prefix, where string
}

// literalGroup collects the variables and services a literal reaches.
type literalGroup struct {
	names, subjects []string
	came            string
}

// addLiteral records that the secret written at k reaches name.
func (a *auditor) addLiteral(k literalKey, name, subject, came string) {
	g, ok := a.literals[k]
	if !ok {
		g = &literalGroup{}
		a.literals[k] = g
		a.literalOrder = append(a.literalOrder, k)
	}
	if !slices.Contains(g.names, name) {
		g.names = append(g.names, name)
	}
	if subject != "" && !slices.Contains(g.subjects, subject) {
		g.subjects = append(g.subjects, subject)
	}
	if g.came == "" || (came != "" && strings.HasPrefix(g.came, " (a default")) {
		g.came = came
	}
}

// flushLiterals turns the collected literals into findings.
func (a *auditor) flushLiterals() {
	for _, k := range a.literalOrder {
		g := a.literals[k]
		verb := "holds"
		if len(g.names) > 1 {
			verb = "hold"
		}
		hint := "use a reference (vault://…, awssm://…, file:…), " + g.names[0] + "_FILE, or an orchestrator secret; the value is not shown"
		if k.sev == Warning {
			hint = "a default is used whenever the variable is unset: drop it, so that a missing secret fails instead; the value is not shown"
		}
		a.add(CodeLiteralSecret, k.sev, k.pos, strings.Join(g.subjects, ", "),
			fmt.Sprintf("%s%s%s%s %s a secret in plain text", k.prefix, strings.Join(g.names, ", "), k.where, g.came, verb), hint)
	}
	a.literals, a.literalOrder = map[literalKey]*literalGroup{}, nil
}

// scanMessage returns what the injector's scan says about a variable,
// without the variable's name it starts with (the caller names it).
func scanMessage(err error, name string) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, name+": ")
	return msg
}

// floatingTags are tags that move: n8n publishes latest, stable, next,
// beta and nightly.
var floatingTags = map[string]bool{"latest": true, "stable": true, "next": true, "beta": true, "nightly": true}

// checkImagePin warns about an n8n image whose tag moves or is missing. A
// tag the deployer provides (${N8N_VERSION} that no .env sets) is theirs.
func (a *auditor) checkImagePin(image setting, pos Pos, subject string) {
	if !image.known() || image.value == "" {
		return
	}
	repo, tag := imageRepo(image.value)
	if strings.HasPrefix(tag, "@") || (tag != "" && !floatingTags[tag]) {
		return
	}
	what := "has no tag (latest)"
	if tag != "" {
		what = "has the floating tag " + tag
	}
	at := pos
	switch t := image.tail(); {
	case t.via != "":
		what += " (from " + t.via + ")"
		at = t.lit
	case t.dflt:
		what += " (the default in the file)"
		at = t.lit
	}
	a.add(CodeImageUnpinned, Warning, at, subject, fmt.Sprintf("image %s %s", repo, what), "pin a release, such as "+repo+":2.40.0, or a digest")
}

// storeAddrVars are the variables that give a secret store's address.
var storeAddrVars = []string{"VAULT_ADDR", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"}

// checkServices runs the per-container checks, then the checks of each
// deployment (the n8n services of one Compose project, or of one
// Kubernetes namespace across the files of the run).
func (a *auditor) checkServices() {
	type unknownImage struct {
		pos      Pos
		image    string
		why      string
		subjects []string
	}
	unknown := map[string]*unknownImage{}
	var order []string
	for _, s := range a.services {
		var refs []string
		for _, v := range s.env {
			if a.checkValue(v, s.subject, s.skip) {
				refs = append(refs, v.name)
			}
		}
		for _, set := range s.envFrom {
			// Every item must be a reference: the start refuses others.
			refs = append(refs, set.name)
			if !set.known {
				continue
			}
			_, errs := a.envFromView(set.value)
			for _, err := range errs {
				a.add(CodeBadReference, Error, set.pos, s.subject, set.name+": "+scanMessage(err, envFromVar), "")
			}
		}
		a.checkCommandSecrets(s)
		r := s.role()
		if len(refs) > 0 {
			switch s.runs {
			case injectorNo:
				a.add(CodeReferenceWithoutInjector, Error, orPos(s.runsPos, s.pos), s.subject,
					fmt.Sprintf("%s %s, but %s: n8n would get the reference text as the value", strings.Join(refs, ", "), isAre(refs), s.runsWhy), "")
			case injectorUnknown:
				if s.image.value == "" && s.standalone {
					break // an env file: no container to judge
				}
				k := s.runsPos.File + "\x00" + s.image.value
				if _, ok := unknown[k]; !ok {
					order = append(order, k)
					unknown[k] = &unknownImage{pos: orPos(s.runsPos, s.pos), image: s.image.value, why: s.runsWhy}
				}
				unknown[k].subjects = append(unknown[k].subjects, s.subject)
			}
		}
		usesInjector := len(refs) > 0 || s.runs == injectorYes || r != roleNone
		if usesInjector && s.runs != injectorNo {
			a.checkSettings(s)
		}
		allowHTTP := false
		if v, ok := s.literalValue("N8N_SECRETS_ALLOW_HTTP"); ok && isTrue(v) {
			allowHTTP = true
		}
		for _, name := range storeAddrVars {
			v := s.lookup(name)
			if v == nil || v.kind != literal || !usesInjector {
				continue
			}
			u, err := url.Parse(v.value)
			if err != nil || u.Scheme != "http" || inject.IsLoopback(u.Hostname()) {
				continue
			}
			if allowHTTP {
				a.add(CodeStorePlainHTTP, Warning, v.at(), s.subject,
					fmt.Sprintf("%s is plain http:// to %s, accepted by N8N_SECRETS_ALLOW_HTTP=true", name, u.Hostname()),
					"only on a network that never leaves the host; use https:// and VAULT_CACERT elsewhere")
			} else {
				a.add(CodeStorePlainHTTP, Error, v.at(), s.subject,
					fmt.Sprintf("%s is plain http:// to %s, which is not loopback: n8n-secrets refuses it", name, u.Hostname()),
					"use https:// and VAULT_CACERT; N8N_SECRETS_ALLOW_HTTP=true accepts it on a network that never leaves the host")
			}
		}
		if v := s.lookup("VAULT_SKIP_VERIFY"); v != nil && v.kind == literal && isTrue(v.value) {
			a.add(CodeTLSVerifyDisabled, Error, v.at(), s.subject, "VAULT_SKIP_VERIFY turns off the verification of Vault's certificate", "")
		}
		if r == roleNone {
			continue
		}
		if v := s.lookup("N8N_BLOCK_ENV_ACCESS_IN_NODE"); v != nil && v.kind == literal && isFalse(v.value) {
			a.add(CodeEnvAccessAllowed, Warning, v.at(), s.subject, "N8N_BLOCK_ENV_ACCESS_IN_NODE=false lets expressions and Code nodes read every secret in the environment", "")
		}
		if !s.standalone {
			a.checkImagePin(s.image, orPos(s.imagePos, s.pos), s.subject)
		}
	}
	for _, k := range order {
		u := unknown[k]
		what := "their image"
		if u.image != "" {
			what = "image " + u.image
		}
		a.add(CodeImageNotChecked, Info, u.pos, strings.Join(u.subjects, ", "),
			fmt.Sprintf("references are used, but whether %s runs n8n-secrets first is not in the files (%s)", what, u.why), "")
	}
	groups := map[string][]*service{}
	order = nil
	for _, s := range a.services {
		if s.standalone || s.role() == roleNone {
			continue
		}
		if _, ok := groups[s.group]; !ok {
			order = append(order, s.group)
		}
		groups[s.group] = append(groups[s.group], s)
	}
	for _, g := range order {
		a.checkDeployment(groups[g])
	}
}

// secretFlags are command-line options that take a password, beyond the
// ones named like a secret (--password, --token, --api-key).
var secretFlags = map[string]bool{"REQUIREPASS": true, "MASTERAUTH": true}

// passwordOptionPrograms take a password after -a.
var passwordOptionPrograms = map[string]bool{"redis-cli": true, "valkey-cli": true, "keydb-cli": true}

// checkCommandSecrets looks for a password written on a command line
// (redis-server --requirepass <literal>): it shows in the file, in
// `docker inspect` and in `ps` on the host. A value the deployer provides
// (${REDIS_PASSWORD}) or that the container's shell expands at run time
// ($REDIS_PASSWORD, written $$REDIS_PASSWORD in Compose) is not in the file.
func (a *auditor) checkCommandSecrets(s *service) {
	for _, cl := range s.commandWords {
		for _, cmd := range commandsOf(cl.words) {
			if len(cmd) == 0 {
				continue
			}
			prog := path.Base(cmd[0].value)
			for i := 1; i < len(cmd); i++ {
				w := cmd[i]
				if !w.known() || !strings.HasPrefix(w.value, "-") {
					continue
				}
				flag, val, inline := strings.Cut(w.value, "=")
				name := strings.ToUpper(strings.ReplaceAll(strings.TrimLeft(flag, "-"), "-", "_"))
				isSecret := (strings.HasPrefix(flag, "--") && (secretFlags[name] || isSecretName(name))) ||
					(flag == "-a" && passwordOptionPrograms[prog])
				if !isSecret {
					continue
				}
				value := setting{value: val, lit: w.lit, via: w.via, dflt: w.dflt}
				if !inline {
					if i+1 >= len(cmd) {
						continue
					}
					value = cmd[i+1]
				}
				if !value.known() || value.value == "" || strings.Contains(value.value, "$") || strings.HasPrefix(value.value, "-") || a.heldAsReference(value.value) {
					continue
				}
				sev, came := Error, ""
				switch {
				case value.via != "":
					came = " (from " + value.via + ")"
				case value.dflt:
					sev, came = Warning, " (a default in the file)"
				}
				at := value.lit
				if at.File == "" {
					at = cl.pos
				}
				a.add(CodeSecretInCommand, sev, at, s.subject,
					fmt.Sprintf("%s %s%s: a password on the %s line, seen in the file, in `docker inspect` and in `ps`", prog, flag, came, cl.what), "")
			}
		}
	}
}

// commandsOf splits a command line into the commands it runs: itself, and
// the commands of a shell's -c script or of a healthcheck's CMD-SHELL.
// Words split out of a script keep the script's provenance.
func commandsOf(words []setting) [][]setting {
	if len(words) == 0 {
		return nil
	}
	first := words[0].value
	script := func(s setting) [][]setting {
		var out [][]setting
		for _, c := range shellCommands(s.value) {
			var cmd []setting
			for _, w := range c {
				cmd = append(cmd, setting{value: w, host: s.host, lit: s.lit, via: s.via, dflt: s.dflt})
			}
			out = append(out, cmd)
		}
		return out
	}
	switch {
	case first == "CMD-SHELL" && len(words) > 1:
		return script(words[1])
	case first == "CMD":
		return [][]setting{words[1:]}
	case shells[path.Base(first)]:
		for i := 1; i+1 < len(words); i++ {
			if strings.HasPrefix(words[i].value, "-") && strings.Contains(words[i].value, "c") && !strings.HasPrefix(words[i].value, "--") {
				return script(words[i+1])
			}
		}
	}
	return [][]setting{words}
}

func orPos(p, fallback Pos) Pos {
	if p.Line > 0 {
		return p
	}
	return fallback
}

func isAre(list []string) string {
	if len(list) == 1 {
		return "is a reference"
	}
	return "are references"
}

// keySource says where a service's encryption key comes from: id compares
// sources, desc describes it; value identifies the key itself when the
// files show it (a hash, never the key); unknown is true when an envFrom
// or env_file the files do not show might hold it.
type keySource struct {
	id, desc string
	value    string
	pos      Pos
	missing  bool
	unknown  bool
	settings bool // the key n8n keeps in its settings file on a volume
}

func (a *auditor) keySourceOf(s *service) keySource {
	if v := s.lookup(keyVar); v != nil {
		switch v.kind {
		case literal:
			if v.value == "" {
				break
			}
			if ks, ok := a.referenceSource(v.value, s.skip, v.pos, ""); ok {
				return ks
			}
			h := valueHash(v.value)
			desc := "a value written in " + filepath.Base(v.at().File)
			return keySource{id: "literal:" + h, desc: desc, value: h, pos: v.pos}
		default:
			if v.kind == fromSecret && v.secretKnown {
				// A Secret that holds a reference: the reference is the
				// source, whichever Secret holds it.
				if ks, ok := a.referenceSource(v.secretValue, s.skip, v.pos, " (in "+v.source+")"); ok {
					return ks
				}
			}
			return keySource{id: "from:" + v.source, desc: v.source, value: v.secretHash, pos: v.pos}
		}
	}
	if v := s.lookup(keyVar + "_FILE"); v != nil && (v.kind != literal || v.value != "") {
		d := keyVar + "_FILE=" + v.value
		if v.kind != literal {
			d = keyVar + "_FILE from " + v.source
		}
		return keySource{id: "file:" + d, desc: d, pos: v.pos}
	}
	if s.unknownEnv() {
		return keySource{unknown: true}
	}
	if s.settingsVolume != "" {
		return keySource{id: "settings:" + s.settingsVolume, desc: "the settings file on " + s.settingsVolume, pos: s.pos, settings: true}
	}
	return keySource{missing: true, pos: s.pos}
}

// referenceSource returns the key source of a value the start resolves:
// a reference (the same reference is the same source), or a value built
// from ${…} references (the same value is the same source). The files
// cannot tell what two sources hold.
func (a *auditor) referenceSource(value string, skip inject.Matcher, pos Pos, in string) (keySource, bool) {
	sv := a.viewOf(keyVar, value, skip)
	switch {
	case len(sv.refs) == 0:
		return keySource{}, false
	case sv.template == nil:
		r := sv.refs[0].String()
		return keySource{id: "ref:" + r, desc: r + in, pos: pos}, true
	}
	var rs []string
	for _, r := range sv.refs {
		rs = append(rs, "${"+r.String()+"}")
	}
	return keySource{id: "template:" + valueHash(value), desc: "a value built from " + strings.Join(rs, ", ") + in, pos: pos}, true
}

// executionsMode returns EXECUTIONS_MODE as n8n reads it (regular when
// unset); ok is false when the files do not show it.
func executionsMode(s *service) (mode string, pos Pos, ok bool) {
	v := s.lookup("EXECUTIONS_MODE")
	switch {
	case v == nil && s.unknownEnv():
		return "", s.pos, false
	case v == nil:
		return "regular", s.pos, true
	case v.kind != literal:
		return "", v.pos, false
	case v.value == "":
		return "regular", v.pos, true
	}
	return v.value, v.at(), true
}

// checkDeployment compares the n8n services of one deployment. A cluster
// is more than one n8n server process (main, worker, webhook, or one
// service with several replicas), or queue mode; a main beside task
// runners or one-shot n8n commands alone is not one.
func (a *auditor) checkDeployment(svcs []*service) {
	var main *service
	servers := 0
	for _, s := range svcs {
		if s.role() == roleMain && main == nil {
			main = s
		}
		if s.role().server() {
			servers += max(s.replicas, 1)
		}
	}
	anyQueue := false
	modes := map[string]int{}
	for _, s := range svcs {
		if !s.role().server() {
			continue
		}
		if m, _, ok := executionsMode(s); ok {
			modes[m]++
			anyQueue = anyQueue || m == "queue"
		}
	}
	cluster := servers > 1 || anyQueue

	// The key: present everywhere, from one source.
	sources := map[*service]keySource{}
	counts := map[string]int{}
	for _, s := range svcs {
		ks := a.keySourceOf(s)
		switch {
		case ks.unknown:
		case ks.missing && misspeltKeyVar(s) != nil:
			// The start refuses it (the guard's N8N_KEY_MISSING, every
			// role): n8n ignores the name.
			v := misspeltKeyVar(s)
			a.add(CodeKeyMissing, Error, v.pos, s.subject, fmt.Sprintf("no %s, but %s: a misspelling, which n8n ignores, and n8n-secrets refuses to start", keyVar, v.name), "")
		case ks.missing:
			sev, why := Error, ""
			switch {
			case s.role() == roleWorker:
				why = "a worker refuses to start without it"
			case s.role() == roleWebhook:
				why = "a webhook process silently generates a key of its own"
			case s.role() == roleCLI:
				sev, why = Warning, "the command uses the key of n8n's settings file in its container, which must be the cluster's"
			case cluster:
				why = "every node of a cluster needs the same key"
				if s.replicas > 1 {
					why = "each replica would generate a key of its own"
				}
			default:
				sev, why = Warning, "n8n generates one into its settings file, which then must be kept"
			}
			a.add(CodeKeyMissing, sev, s.pos, s.subject, fmt.Sprintf("no %s: %s", keyVar, why), "")
		default:
			if ks.settings {
				a.add(CodeKeyMissing, Warning, s.pos, s.subject, fmt.Sprintf("no %s: n8n uses the key it wrote in plain text into its settings file on %s; every node must mount the same one, on one host", keyVar, strings.TrimPrefix(ks.desc, "the settings file on ")), "")
			}
			sources[s] = ks
			counts[ks.id]++
		}
	}
	if len(counts) > 1 {
		ref := ""
		if main != nil {
			ref = sources[main].id
		}
		if ref == "" {
			best := 0
			ids := make([]string, 0, len(counts))
			for id := range counts {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				if counts[id] > best {
					ref, best = id, counts[id]
				}
			}
		}
		var refKS keySource
		var refWho string
		for _, s := range svcs {
			if ks, ok := sources[s]; ok && ks.id == ref {
				refKS, refWho = ks, s.subject
				break
			}
		}
		for _, s := range svcs {
			ks, ok := sources[s]
			if !ok || ks.id == ref {
				continue
			}
			// Two sources whose values the files show to differ: broken. Two
			// sources the files cannot compare (two Secrets not in the
			// files, two store paths), or that hold the same value today:
			// a warning, as they can drift apart.
			sev, why := Warning, "they may hold different keys, and will drift apart when one is rotated"
			switch {
			case ks.value != "" && refKS.value != "" && ks.value != refKS.value:
				sev, why = Error, "the files show two different keys"
			case ks.value != "" && ks.value == refKS.value:
				why = "they hold the same key today, but will drift apart when one is rotated"
			}
			a.add(CodeKeySourceMismatch, sev, ks.pos, s.subject,
				fmt.Sprintf("%s comes from %s, but on %s from %s: %s", keyVar, ks.desc, refWho, refKS.desc, why), "")
		}
	}

	// Queue mode: one mode everywhere; workers and webhook processes need
	// it; it needs PostgreSQL and Redis.
	refMode := ""
	if main != nil {
		refMode, _, _ = executionsMode(main)
	}
	if refMode == "" {
		keys := make([]string, 0, len(modes))
		for m := range modes {
			keys = append(keys, m)
		}
		sort.Strings(keys)
		best := 0
		for _, m := range keys {
			if modes[m] > best {
				refMode, best = m, modes[m]
			}
		}
	}
	for _, s := range svcs {
		if !s.role().server() {
			continue
		}
		mode, pos, ok := executionsMode(s)
		if !ok {
			continue
		}
		if len(modes) > 1 && mode != refMode {
			a.add(CodeExecutionsModeMismatch, Error, pos, s.subject,
				fmt.Sprintf("EXECUTIONS_MODE is %s here and %s on the other n8n services", mode, refMode), "")
		}
		if r := s.role(); r != roleMain && mode != "queue" {
			a.add(CodeQueueModeRequired, Error, pos, s.subject, fmt.Sprintf("a %s process needs EXECUTIONS_MODE=queue (it is %s)", r, mode), "")
		}
		if mode != "queue" {
			continue
		}
		dbType, dbPos := "sqlite", s.pos
		if v := s.lookup("DB_TYPE"); v != nil {
			if v.kind != literal {
				dbType = ""
			} else if v.value != "" {
				dbType = strings.ToLower(v.value)
			}
			dbPos = v.at()
		} else if s.unknownEnv() {
			dbType = ""
		}
		if dbType == "sqlite" {
			a.add(CodeQueueModeSQLite, Error, dbPos, s.subject, "queue mode on SQLite (DB_TYPE is sqlite or unset): workers and the main must share a PostgreSQL database", "")
		}
		if s.lookup("QUEUE_BULL_REDIS_HOST") == nil && s.lookup("QUEUE_BULL_REDIS_CLUSTER_NODES") == nil && !s.unknownEnv() {
			a.add(CodeQueueModeNoRedis, Warning, pos, s.subject, "queue mode without QUEUE_BULL_REDIS_HOST: n8n would look for Redis on localhost", "")
		}
	}
}

// vaultPaths returns the logical Vault paths the audited services
// reference: whole references, ${…} references, references in Secrets of
// the files and N8N_SECRETS_ENV_FROM items, as the start reads them.
func (a *auditor) vaultPaths() []string {
	set := map[string]bool{}
	add := func(refs []inject.Reference) {
		for _, r := range refs {
			if r.Scheme == vaultScheme {
				set[r.Path()] = true
			}
		}
	}
	for _, s := range a.services {
		for _, v := range s.env {
			value := v.value
			switch {
			case v.kind == fromSecret && v.secretKnown:
				value = v.secretValue
			case v.kind != literal:
				continue
			}
			add(a.viewOf(v.name, value, s.skip).refs)
		}
		for _, e := range s.envFrom {
			if e.known {
				refs, _ := a.envFromView(e.value)
				add(refs)
			}
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// checkPolicies checks the Vault policies against the paths n8n reads:
// read only, on named paths. Without vault:// references in the files,
// n8n's paths are those with an "n8n" segment.
func (a *auditor) checkPolicies() {
	if len(a.policies) == 0 {
		return
	}
	paths := a.vaultPaths()
	mounts := map[string]bool{}
	for _, p := range paths {
		m, _, _ := strings.Cut(p, "/")
		mounts[m] = true
	}
	for _, pol := range a.policies {
		for _, r := range pol.rules {
			granted := slices.DeleteFunc(slices.Clone(r.caps), func(c string) bool { return c == "deny" })
			if len(granted) == 0 || slices.Contains(r.caps, "deny") {
				continue
			}
			subject := "path \"" + r.path + "\""
			if slices.Contains(granted, "*") {
				a.add(CodeVaultPolicyWildcard, Error, r.capsPos, subject, "capabilities include \"*\", which is no Vault capability: grant [\"read\"]", "")
				continue
			}
			if mount, whole := wholeMount(r.path); whole && mount == "" {
				a.add(CodeVaultPolicyWildcard, Error, r.pos, subject, fmt.Sprintf("the rule applies to every path in Vault and grants %s", strings.Join(granted, ", ")), "")
				continue
			} else if whole && (mounts[mount] || len(paths) == 0) {
				a.add(CodeVaultPolicyWildcard, Warning, r.pos, subject, fmt.Sprintf("the rule applies to every secret in mount %s/ and grants %s", mount, strings.Join(granted, ", ")), "name n8n's paths, such as "+mount+"/data/n8n/*")
			}
			if !a.coversN8N(r.path, paths) {
				continue
			}
			var extra []string
			for _, c := range granted {
				if c != "read" {
					extra = append(extra, c)
				}
			}
			if len(extra) == 0 {
				continue
			}
			sev := Warning
			if slices.Contains(extra, "sudo") || slices.Contains(extra, "root") {
				sev = Error
			}
			a.add(CodeVaultPolicyTooWide, sev, r.capsPos, subject, fmt.Sprintf("grants %s on n8n's secrets, which only need read", strings.Join(extra, ", ")), "capabilities = [\"read\"]")
		}
	}
}

// wholeMount reports whether a policy path covers all of a mount (mount
// set) or of Vault (mount empty): "*", "+/*", "secret/*", "secret/data/*",
// "secret/+/*".
func wholeMount(p string) (mount string, whole bool) {
	if !strings.HasSuffix(p, "*") {
		return "", false
	}
	segs := strings.Split(strings.TrimSuffix(p, "*"), "/")
	// segs ends with "" when the glob is "…/*"; a partial segment ("n8n*")
	// is not a whole mount.
	if segs[len(segs)-1] != "" {
		return "", false
	}
	segs = segs[:len(segs)-1]
	if len(segs) == 0 || segs[0] == "+" {
		return "", true
	}
	switch {
	case len(segs) == 1:
		return segs[0], true
	case len(segs) == 2 && (segs[1] == "+" || segs[1] == "data" || segs[1] == "metadata"):
		return segs[0], true
	}
	return "", false
}

// coversN8N reports whether a policy path applies to one of n8n's paths
// (in any of its KV forms), or, without known paths, names n8n.
func (a *auditor) coversN8N(glob string, paths []string) bool {
	if len(paths) == 0 {
		return slices.Contains(strings.Split(strings.TrimSuffix(glob, "*"), "/"), "n8n") || strings.Contains(glob, "/n8n")
	}
	for _, p := range paths {
		for _, form := range kvForms(p) {
			if globMatch(glob, form) {
				return true
			}
		}
	}
	return false
}

// notes reports what the files cannot show.
func (a *auditor) notes() {
	n8n := false
	for _, s := range a.services {
		if s.role() != roleNone {
			n8n = true
		}
	}
	if !n8n && len(a.policies) == 0 {
		a.add(CodeNoN8NService, Info, Pos{}, "", "no n8n service, container or image was found in the files", "")
	}
	if len(a.helmCharts) > 0 {
		charts := make([]string, 0, len(a.helmCharts))
		for c := range a.helmCharts {
			charts = append(charts, c)
		}
		sort.Strings(charts)
		n := 0
		for _, f := range a.files {
			if f.Kind == KindHelmTemplate {
				n++
			}
		}
		a.add(CodeHelmTemplateNotChecked, Info, Pos{}, "",
			fmt.Sprintf("%s of Helm templates skipped (in %s): what they deploy depends on the chart's values", plural(n, "file"), strings.Join(charts, ", ")),
			"audit the rendered manifests: helm template RELEASE CHART -f values.yaml > rendered.yaml; n8n-secrets audit rendered.yaml")
	}
	envFiles := make([]string, 0, len(a.envNotes))
	for p := range a.envNotes {
		envFiles = append(envFiles, p)
	}
	sort.Strings(envFiles)
	for _, p := range envFiles {
		a.add(CodeEnvFileNotChecked, Info, Pos{}, "", fmt.Sprintf("env_file %s: %s", p, a.envNotes[p]), "")
	}
	for _, c := range []string{CodeRotationNotChecked, CodeAlertsNotChecked, CodeLiveAccessNotChecked, CodeKeyValueNotChecked} {
		r := rule(c)
		a.add(c, Info, Pos{}, "", "not checked: "+r.Title, r.Help)
	}
}

// refusedAt returns where the first ${…} that holds a reference is
// written, as the stores read it: Compose refuses it.
func (a *auditor) refusedAt(nn []notName) Pos {
	for _, n := range nn {
		if a.stores.IsTemplate(n.text) {
			return n.pos
		}
	}
	return Pos{}
}

// vaultScheme is the scheme of Vault references, whose paths the policy
// checks compare.
const vaultScheme = "vault"

// checkSettings reports the N8N_SECRETS_* variables a start of the
// container's n8n-secrets refuses: a misspelt setting, a value the setting
// does not take (when the files show it). It is called for a container
// that runs n8n-secrets, or n8n or references through an image whose
// entrypoint the files do not show; one that does not run n8n-secrets
// reads none of them.
func (a *auditor) checkSettings(s *service) {
	for _, v := range s.env {
		value, known, pos := "", false, v.pos
		switch {
		case v.kind == literal:
			value, known, pos = v.value, true, v.at()
		case v.kind == fromSecret && v.secretKnown:
			value, known, pos = v.secretValue, true, v.secretPos
		}
		if problem, hint := settings.VarProblem(v.name, value, known); problem != "" {
			a.add(CodeSettingInvalid, Error, pos, s.subject, v.name+": "+problem, hint)
		}
	}
}

// misspeltKeyVar returns the service's variable one or two typos away from
// N8N_ENCRYPTION_KEY or N8N_ENCRYPTION_KEY_FILE (N8N_ENCRYPTON_KEY), or
// nil: the n8n guard refuses a start without the key that has one.
func misspeltKeyVar(s *service) *envVar {
	for _, v := range s.env {
		if v.name != keyVar && v.name != keyVar+"_FILE" && suggest.Nearest(v.name, 2, keyVar, keyVar+"_FILE") != "" {
			return v
		}
	}
	return nil
}
