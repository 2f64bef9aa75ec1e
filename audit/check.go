package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

const keyVar = "N8N_ENCRYPTION_KEY"

// auditDockerfile checks a Dockerfile's instructions and adds its final
// stage as a service (its ENV and ENTRYPOINT).
func (a *auditor) auditDockerfile(df *dockerfile) {
	for _, st := range df.stages {
		if st.name != globalArgs && isN8NImage(st.base) {
			a.checkImagePin(st.base, st.basePos, "FROM")
		}
		for _, in := range st.instrs {
			switch in.cmd {
			case "ENV", "ARG":
				for _, kv := range envPairs(in) {
					pos := in.posOf(kv.name)
					switch {
					case in.cmd == "ARG" && !kv.hasValue && isSecretName(kv.name):
						a.add(CodeSecretBuildArg, Warning, pos, "", fmt.Sprintf("ARG %s: a secret passed as a build argument stays in the image's history", kv.name), "")
					case kv.hasValue:
						a.checkValue(&envVar{name: kv.name, value: kv.value, pos: pos, in: in.cmd}, "")
					}
				}
			case "COPY", "ADD":
				for _, src := range copySources(in.args) {
					if looksLikeSecretFile(src) {
						a.add(CodeSecretFileInImage, Warning, in.posOf(src), "", fmt.Sprintf("%s %s: the file stays in the image's layers", in.cmd, src), "")
					}
				}
			}
		}
	}
	// The final stage as a container: its ENV (with the stages it is built
	// from) and its ENTRYPOINT.
	final := df.stage("")
	s := &service{subject: "the image (stage " + stageName(final) + ")", group: df.file, pos: final.basePos, image: final.base, imagePos: final.basePos, standalone: true}
	var chain []*dockerStage
	for st := final; st != nil && len(chain) < 64; st = df.parent(st) {
		chain = append([]*dockerStage{st}, chain...)
	}
	for _, st := range chain {
		for _, in := range st.all("ENV") {
			for _, kv := range envPairs(in) {
				s.setEnv(&envVar{name: kv.name, value: kv.value, pos: in.posOf(kv.name), in: "ENV"})
			}
		}
		if cmds := st.all("CMD"); len(cmds) > 0 {
			s.args = instrWords(cmds[len(cmds)-1].args)
		}
	}
	_, s.runsPos, s.runs, s.runsWhy = df.entrypoint(final)
	a.services = append(a.services, s)
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

// auditKubeObjects checks the objects of a manifest that are not
// containers: ConfigMaps (no secrets in them) and Secrets (no values in
// manifests).
func (a *auditor) auditKubeObjects(file string, objs []kubeObject) {
	for _, o := range objs {
		switch o.kind {
		case "ConfigMap":
			for _, p := range pairs(get(o.doc, "data")) {
				a.checkValue(&envVar{name: p.key.Value, value: str(p.val), pos: at(file, p.key), in: "ConfigMap " + o.name}, "ConfigMap "+o.name)
			}
		case "Secret":
			for _, field := range []string{"data", "stringData"} {
				k, v := getKey(o.doc, field)
				if k == nil {
					continue
				}
				var names []string
				for _, p := range pairs(v) {
					if s, _ := scalar(p.val); s != "" {
						names = append(names, p.key.Value)
					}
				}
				if len(names) > 0 {
					a.add(CodeSecretInManifest, Warning, at(file, k), "Secret "+o.name,
						fmt.Sprintf("the manifest holds the values of %s", strings.Join(names, ", ")), "")
				}
			}
		}
	}
}

// checkValue checks one literal variable: a reference must parse, a
// secret must not be written out, and the key must not be a path.
func (a *auditor) checkValue(v *envVar, subject string) (isRef bool) {
	if v.kind != literal || v.value == "" {
		return false
	}
	where := ""
	if v.in != "" && v.in != "ENV" && v.in != "ARG" {
		where = " (in " + v.in + ")"
	}
	if inject.IsReference(v.value) {
		if _, err := inject.ParseReference(v.value); err != nil {
			a.add(CodeBadReference, Error, v.pos, subject, fmt.Sprintf("%s%s: %v", v.name, where, err), "")
		}
		return true
	}
	if !isSecretName(v.name) {
		return false
	}
	if v.name == keyVar && strings.HasPrefix(v.value, "/") {
		a.add(CodeKeyIsPath, Error, v.pos, subject, fmt.Sprintf("%s%s holds a path: n8n would take the path itself as the key", v.name, where), "")
		return false
	}
	prefix := ""
	if v.in == "ENV" || v.in == "ARG" {
		prefix = v.in + " "
	}
	a.add(CodeLiteralSecret, Error, v.pos, subject, fmt.Sprintf("%s%s%s holds a secret in plain text", prefix, v.name, where),
		"use a reference (vault://…, awssm://…, file:…), "+v.name+"_FILE, or an orchestrator secret; the value is not shown")
	return false
}

// checkImagePin warns about an n8n image without a version.
func (a *auditor) checkImagePin(image string, pos Pos, subject string) {
	repo, tag := imageRepo(image)
	if strings.HasPrefix(tag, "@") || (tag != "" && tag != "latest") {
		return
	}
	what := "has no tag (latest)"
	if tag == "latest" {
		what = "is tagged latest"
	}
	if subject == "FROM" {
		subject = ""
	}
	a.add(CodeImageUnpinned, Warning, pos, subject, fmt.Sprintf("image %s %s", repo, what), "pin a release, such as "+repo+":2.40.0, or a digest")
}

// storeAddrVars are the variables that give a secret store's address.
var storeAddrVars = []string{"VAULT_ADDR", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"}

// checkServices runs the per-container checks, then the checks of each
// deployment (the n8n services of one file, or one namespace of a
// Kubernetes file).
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
			if a.checkValue(v, s.subject) {
				refs = append(refs, v.name)
			}
		}
		n8n := s.isN8N()
		if len(refs) > 0 {
			switch s.runs {
			case injectorNo:
				a.add(CodeReferenceWithoutInjector, Error, orPos(s.runsPos, s.pos), s.subject,
					fmt.Sprintf("%s %s, but %s: n8n would get the reference text as the value", strings.Join(refs, ", "), isAre(refs), s.runsWhy), "")
			case injectorUnknown:
				if s.image == "" && s.standalone {
					break // a .env file: no container to judge
				}
				k := s.runsPos.File + "\x00" + s.image
				if _, ok := unknown[k]; !ok {
					order = append(order, k)
					unknown[k] = &unknownImage{pos: orPos(s.runsPos, s.pos), image: s.image, why: s.runsWhy}
				}
				unknown[k].subjects = append(unknown[k].subjects, s.subject)
			}
		}
		usesInjector := len(refs) > 0 || s.runs == injectorYes || n8n
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
				a.add(CodeStorePlainHTTP, Warning, v.pos, s.subject,
					fmt.Sprintf("%s is plain http:// to %s, accepted by N8N_SECRETS_ALLOW_HTTP=true", name, u.Hostname()),
					"only on a network that never leaves the host; use https:// and VAULT_CACERT elsewhere")
			} else {
				a.add(CodeStorePlainHTTP, Error, v.pos, s.subject,
					fmt.Sprintf("%s is plain http:// to %s, which is not loopback: n8n-secrets refuses it", name, u.Hostname()),
					"use https:// and VAULT_CACERT; N8N_SECRETS_ALLOW_HTTP=true accepts it on a network that never leaves the host")
			}
		}
		if v := s.lookup("VAULT_SKIP_VERIFY"); v != nil && v.kind == literal && isTrue(v.value) {
			a.add(CodeTLSVerifyDisabled, Error, v.pos, s.subject, "VAULT_SKIP_VERIFY turns off the verification of Vault's certificate", "")
		}
		if !n8n {
			continue
		}
		if v := s.lookup("N8N_BLOCK_ENV_ACCESS_IN_NODE"); v != nil && v.kind == literal && isFalse(v.value) {
			a.add(CodeEnvAccessAllowed, Warning, v.pos, s.subject, "N8N_BLOCK_ENV_ACCESS_IN_NODE=false lets expressions and Code nodes read every secret in the environment", "")
		}
		if s.image != "" && !s.standalone {
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
		if s.standalone || !s.isN8N() {
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
// sources (a literal is compared by a hash, never shown), desc describes
// it; unknown is true when an envFrom the files do not show might hold it.
type keySource struct {
	id, desc string
	pos      Pos
	missing  bool
	unknown  bool
}

func keySourceOf(s *service) keySource {
	if v := s.lookup(keyVar); v != nil {
		switch v.kind {
		case literal:
			if v.value == "" {
				break
			}
			if ref, err := inject.ParseReference(v.value); err == nil && inject.IsReference(v.value) {
				return keySource{id: "ref:" + ref.String(), desc: ref.String(), pos: v.pos}
			}
			sum := sha256.Sum256([]byte(v.value))
			return keySource{id: "literal:" + hex.EncodeToString(sum[:]), desc: "a value written in " + filepath.Base(v.pos.File), pos: v.pos}
		default:
			return keySource{id: "from:" + v.source, desc: v.source, pos: v.pos}
		}
	}
	if v := s.lookup(keyVar + "_FILE"); v != nil && (v.kind != literal || v.value != "") {
		d := keyVar + "_FILE=" + v.value
		if v.kind != literal {
			d = keyVar + "_FILE from " + v.source
		}
		return keySource{id: "file:" + d, desc: d, pos: v.pos}
	}
	if len(s.opaqueSecrets) > 0 {
		return keySource{unknown: true}
	}
	return keySource{missing: true, pos: s.pos}
}

// executionsMode returns EXECUTIONS_MODE as n8n reads it (regular when
// unset); ok is false when the files do not show it.
func executionsMode(s *service) (mode string, pos Pos, ok bool) {
	v := s.lookup("EXECUTIONS_MODE")
	switch {
	case v == nil && len(s.opaqueSecrets) > 0:
		return "", s.pos, false
	case v == nil:
		return "regular", s.pos, true
	case v.kind != literal:
		return "", v.pos, false
	case v.value == "":
		return "regular", v.pos, true
	}
	return v.value, v.pos, true
}

// checkDeployment compares the n8n services of one deployment.
func (a *auditor) checkDeployment(svcs []*service) {
	var main *service
	for _, s := range svcs {
		if s.role() == "main" && main == nil {
			main = s
		}
	}
	anyQueue := false
	modes := map[string]int{}
	for _, s := range svcs {
		if m, _, ok := executionsMode(s); ok {
			modes[m]++
			anyQueue = anyQueue || m == "queue"
		}
	}
	cluster := len(svcs) > 1 || anyQueue

	// The key: present everywhere, from one source.
	sources := map[string]keySource{}
	counts := map[string]int{}
	for _, s := range svcs {
		ks := keySourceOf(s)
		switch {
		case ks.unknown:
		case ks.missing:
			sev, why := Error, ""
			switch {
			case s.role() == "worker":
				why = "a worker refuses to start without it"
			case s.role() == "webhook":
				why = "a webhook process silently generates a key of its own"
			case cluster:
				why = "every node of a cluster needs the same key"
			default:
				sev, why = Warning, "n8n generates one into its settings file, which then must be kept"
			}
			a.add(CodeKeyMissing, sev, s.pos, s.subject, fmt.Sprintf("no %s: %s", keyVar, why), "")
		default:
			sources[s.subject] = ks
			counts[ks.id]++
		}
	}
	if len(counts) > 1 {
		ref := ""
		if main != nil {
			ref = sources[main.subject].id
		}
		if ref == "" {
			best := 0
			for id, n := range counts {
				if n > best || (n == best && id < ref) {
					ref, best = id, n
				}
			}
		}
		var refDesc, refWho string
		for _, s := range svcs {
			if ks, ok := sources[s.subject]; ok && ks.id == ref {
				refDesc, refWho = ks.desc, s.subject
				break
			}
		}
		for _, s := range svcs {
			ks, ok := sources[s.subject]
			if !ok || ks.id == ref {
				continue
			}
			a.add(CodeKeySourceMismatch, Error, ks.pos, s.subject,
				fmt.Sprintf("%s comes from %s, but on %s from %s: every node of one n8n must have the same key", keyVar, ks.desc, refWho, refDesc), "")
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
		mode, pos, ok := executionsMode(s)
		if !ok {
			continue
		}
		if len(modes) > 1 && mode != refMode {
			a.add(CodeExecutionsModeMismatch, Error, pos, s.subject,
				fmt.Sprintf("EXECUTIONS_MODE is %s here and %s on the other n8n services", mode, refMode), "")
		}
		if r := s.role(); r != "main" && mode != "queue" {
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
			dbPos = v.pos
		} else if len(s.opaqueSecrets) > 0 {
			dbType = ""
		}
		if dbType == "sqlite" {
			a.add(CodeQueueModeSQLite, Error, dbPos, s.subject, "queue mode on SQLite (DB_TYPE is sqlite or unset): workers and the main must share a PostgreSQL database", "")
		}
		if s.lookup("QUEUE_BULL_REDIS_HOST") == nil && s.lookup("QUEUE_BULL_REDIS_CLUSTER_NODES") == nil && len(s.opaqueSecrets) == 0 {
			a.add(CodeQueueModeNoRedis, Warning, pos, s.subject, "queue mode without QUEUE_BULL_REDIS_HOST: n8n would look for Redis on localhost", "")
		}
	}
}

// vaultPaths returns the logical Vault paths the audited services
// reference.
func (a *auditor) vaultPaths() []string {
	set := map[string]bool{}
	for _, s := range a.services {
		for _, v := range s.env {
			if v.kind != literal || !strings.HasPrefix(v.value, "vault:") {
				continue
			}
			if ref, err := inject.ParseReference(v.value); err == nil {
				set[ref.Path] = true
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
		if s.isN8N() {
			n8n = true
		}
	}
	if !n8n && len(a.policies) == 0 {
		a.add(CodeNoN8NService, Info, Pos{}, "", "no n8n service, container or image was found in the files", "")
	}
	for _, c := range []string{CodeRotationNotChecked, CodeAlertsNotChecked, CodeLiveAccessNotChecked, CodeKeyValueNotChecked} {
		r := rule(c)
		a.add(c, Info, Pos{}, "", "not checked: "+r.Title, r.Help)
	}
}
