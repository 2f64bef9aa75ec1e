package audit

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"path"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// isKubernetesDoc reports whether a YAML document is a Kubernetes object.
func isKubernetesDoc(doc *yaml.Node) bool {
	return str(get(doc, "apiVersion")) != "" && str(get(doc, "kind")) != ""
}

// kubeObject is one object of a manifest.
type kubeObject struct {
	file                  string
	kind, name, namespace string
	doc                   *yaml.Node
	pos                   Pos
}

// kubeObjects flattens the documents of a manifest (and kind: List items).
func kubeObjects(file string, docs []*yaml.Node) []kubeObject {
	var out []kubeObject
	var add func(doc *yaml.Node, depth int)
	add = func(doc *yaml.Node, depth int) {
		kind := str(get(doc, "kind"))
		if strings.HasSuffix(kind, "List") && len(kind) >= 4 {
			if depth < 4 {
				for _, it := range items(get(doc, "items")) {
					add(it, depth+1)
				}
			}
			return
		}
		if !isKubernetesDoc(doc) {
			return
		}
		md := get(doc, "metadata")
		out = append(out, kubeObject{file: file, kind: kind, name: str(get(md, "name")), namespace: str(get(md, "namespace")), doc: doc, pos: at(file, doc)})
	}
	for _, d := range docs {
		add(d, 0)
	}
	return out
}

// defaultNamespace puts the objects that name no namespace in the one the
// others name, when they all name the same: they are applied to the
// namespace kubectl or Helm is given, which the rest of the run states
// (a chart rendered with `helm template -n`). With several namespaces in
// the files, such objects stay in a namespace of their own.
func defaultNamespace(objs []kubeObject) {
	ns := ""
	for _, o := range objs {
		switch {
		case o.namespace == "" || o.namespace == ns:
		case ns == "":
			ns = o.namespace
		default:
			return
		}
	}
	for i := range objs {
		if objs[i].namespace == "" {
			objs[i].namespace = ns
		}
	}
}

// podSpec returns the pod spec of a workload object, or nil.
func podSpec(o kubeObject) *yaml.Node {
	switch o.kind {
	case "Pod":
		return get(o.doc, "spec")
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job":
		return dig(o.doc, "spec", "template", "spec")
	case "CronJob":
		return dig(o.doc, "spec", "jobTemplate", "spec", "template", "spec")
	}
	return nil
}

// kubeKey names an object of a namespace.
type kubeKey struct{ ns, name string }

// secretEntry is one key of a Secret or ConfigMap in the files: its value
// (never printed), a hash of it, and where it is written.
type secretEntry struct {
	value, hash string
	known       bool // false for a base64 value that does not decode
	key, val    *yaml.Node
	encoded     bool // base64 in the manifest (data, binaryData)
}

// objectData returns the keys of a Secret (data is base64, stringData
// plain and winning, as the API server merges them) or of a ConfigMap
// (data plain, binaryData base64).
func objectData(o kubeObject) map[string]secretEntry {
	out := map[string]secretEntry{}
	plain, encoded := "stringData", "data"
	if o.kind == "ConfigMap" {
		plain, encoded = "data", "binaryData"
	}
	for _, p := range pairs(get(o.doc, encoded)) {
		e := secretEntry{key: p.key, val: p.val, encoded: true}
		if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(str(p.val))); err == nil {
			e.value, e.hash, e.known = string(raw), valueHash(string(raw)), true
		}
		out[p.key.Value] = e
	}
	for _, p := range pairs(get(o.doc, plain)) {
		out[p.key.Value] = secretEntry{value: str(p.val), hash: valueHash(str(p.val)), known: true, key: p.key, val: p.val}
	}
	return out
}

// fromSecretEntry makes a variable that a Secret of the files gives.
func fromSecretEntry(name, secret, key string, o kubeObject, e secretEntry, pos Pos) *envVar {
	v := &envVar{name: name, kind: fromSecret, source: "Secret " + secret + " key " + key, pos: pos, secretHash: e.hash}
	if e.known {
		v.secretValue, v.secretKnown, v.secretPos = e.value, true, at(o.file, e.key)
	}
	return v
}

// valueHash identifies a value without holding it.
func valueHash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// kubeServices returns one service per container of the workloads of all
// the manifests of the run. Environments are resolved with the ConfigMaps
// and Secrets of the same namespace in any of the files: envFrom first,
// then env. A ConfigMap or Secret the files do not hold makes the
// environment partly unknown. Every namespace is one deployment.
func (a *auditor) kubeServices(objs []kubeObject) []*service {
	defaultNamespace(objs)
	configMaps := map[kubeKey]kubeObject{}
	secrets := map[kubeKey]kubeObject{}
	for _, o := range objs {
		switch o.kind {
		case "ConfigMap":
			configMaps[kubeKey{o.namespace, o.name}] = o
		case "Secret":
			secrets[kubeKey{o.namespace, o.name}] = o
		}
	}
	var out []*service
	for _, o := range objs {
		spec := podSpec(o)
		if spec == nil {
			continue
		}
		file := o.file
		replicas := 1
		if r, ok := scalar(dig(o.doc, "spec", "replicas")); ok {
			if n, err := strconv.Atoi(r); err == nil {
				replicas = n
			}
		}
		var containers []*yaml.Node
		for _, list := range []string{"initContainers", "containers"} {
			containers = append(containers, items(get(spec, list))...)
		}
		for _, c := range containers {
			subject := o.kind + " " + o.name
			if len(containers) > 1 {
				subject += " (container " + str(get(c, "name")) + ")"
			}
			s := &service{subject: subject, group: "kubernetes-namespace:" + o.namespace, pos: at(file, c), replicas: replicas}
			if k, v := getKey(c, "image"); v != nil {
				s.imagePos = at(file, k)
				s.image = setting{value: str(v), lit: s.imagePos}
			}
			image := s.image.value
			switch {
			case isStockN8NImage(image):
				s.n8nImage, s.entry, s.entryKnown = true, stockEntrypoint, true
			case isN8NNamedImage(image):
				s.n8nImage = true
			}
			var line []setting
			if k, v := getKey(c, "command"); v != nil {
				s.entryPos = at(file, k)
				s.setEntry, s.entrySet = kubeWords(v, s.entryPos, &line)
			}
			if k, v := getKey(c, "args"); v != nil {
				s.cmdPos = at(file, k)
				s.setCmd, s.cmdSet = kubeWords(v, s.cmdPos, &line)
			}
			if len(line) > 0 {
				s.commandWords = append(s.commandWords, commandWords{words: line, pos: orPos(s.entryPos, s.cmdPos), what: "command"})
			}
			switch {
			case s.entrySet:
				s.runsPos = s.entryPos
				if runsInjector(s.setEntry) {
					s.runs, s.runsWhy = injectorYes, "its command runs n8n-secrets"
				} else {
					s.runs, s.runsWhy = injectorNo, "its command replaces the image's entrypoint and does not run n8n-secrets"
				}
			case isStockN8NImage(image):
				s.runs, s.runsPos, s.runsWhy = injectorNo, s.imagePos, "it runs n8n's own image, whose entrypoint does not run n8n-secrets"
			default:
				s.runsPos, s.runsWhy = s.imagePos, "its image is not built from a Dockerfile in the files"
			}
			for _, ef := range items(get(c, "envFrom")) {
				prefix := str(get(ef, "prefix"))
				if ref := get(ef, "configMapRef"); ref != nil {
					name := str(get(ref, "name"))
					cm, ok := configMaps[kubeKey{o.namespace, name}]
					if !ok {
						s.opaque = append(s.opaque, "ConfigMap "+name)
						continue
					}
					for _, p := range pairs(get(cm.doc, "data")) {
						s.setEnv(&envVar{name: prefix + p.key.Value, value: str(p.val), pos: at(cm.file, p.key), in: "ConfigMap " + name})
					}
				}
				if ref := get(ef, "secretRef"); ref != nil {
					name := str(get(ref, "name"))
					sec, ok := secrets[kubeKey{o.namespace, name}]
					if !ok {
						s.opaque = append(s.opaque, "Secret "+name)
						continue
					}
					data := objectData(sec)
					keys := make([]string, 0, len(data))
					for k := range data {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					for _, k := range keys {
						s.setEnv(fromSecretEntry(prefix+k, name, k, sec, data[k], at(file, ef)))
					}
				}
			}
			for _, e := range items(get(c, "env")) {
				k, _ := getKey(e, "name")
				v := &envVar{name: str(get(e, "name")), pos: at(file, k)}
				vf := get(e, "valueFrom")
				switch {
				case vf == nil:
					v.value = str(get(e, "value"))
					v.raw = v.value
				case get(vf, "secretKeyRef") != nil:
					r := get(vf, "secretKeyRef")
					name, key := str(get(r, "name")), str(get(r, "key"))
					v.kind, v.source = fromSecret, "Secret "+name+" key "+key
					if sec, ok := secrets[kubeKey{o.namespace, name}]; ok {
						if e, ok := objectData(sec)[key]; ok {
							v = fromSecretEntry(v.name, name, key, sec, e, v.pos)
						}
					}
				case get(vf, "configMapKeyRef") != nil:
					r := get(vf, "configMapKeyRef")
					cm, ck := str(get(r, "name")), str(get(r, "key"))
					var kn, vn *yaml.Node
					cmFile := file
					if obj, ok := configMaps[kubeKey{o.namespace, cm}]; ok {
						kn, vn = getKey(get(obj.doc, "data"), ck)
						cmFile = obj.file
					}
					if vn != nil {
						v.value, v.pos, v.in = str(vn), at(cmFile, kn), "ConfigMap "+cm
					} else {
						v.kind, v.source = fromOther, "ConfigMap "+cm+" key "+ck
					}
				default:
					v.kind, v.source = fromOther, "a field of the pod"
				}
				if v.kind == literal {
					expandDependent(s, v)
				}
				s.setEnv(v)
			}
			a.applyInjector(s, a.kubeFinder(o.namespace, spec, c, configMaps, secrets))
			out = append(out, s)
		}
	}
	return out
}

// kubeWords reads a container's command or args: a list of strings, as
// Kubernetes takes them (no splitting); line collects them, each with
// where it is written, for the command-line secrets check.
func kubeWords(n *yaml.Node, pos Pos, line *[]setting) ([]string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		if s, ok := scalar(n); ok {
			*line = append(*line, setting{value: s, lit: pos})
			return []string{s}, true
		}
		return nil, false
	}
	var out []string
	for _, e := range items(n) {
		out = append(out, str(e))
		*line = append(*line, setting{value: str(e), lit: pos})
	}
	return out, true
}

// expandDependent applies Kubernetes' $(NAME) references to variables set
// earlier in the container: a value that only refers to another variable
// takes that variable's source; one that mixes text with references to
// variables the files do not give is not a literal. $$( is a literal $(.
func expandDependent(s *service, v *envVar) {
	if !strings.Contains(v.value, "$(") {
		return
	}
	val := v.value
	var b strings.Builder
	refs, unknown := 0, ""
	var only *envVar
	for i := 0; i < len(val); i++ {
		if strings.HasPrefix(val[i:], "$$(") {
			b.WriteString("$(")
			i += 2
			continue
		}
		if strings.HasPrefix(val[i:], "$(") {
			end := strings.IndexByte(val[i:], ')')
			if end > 2 {
				name := val[i+2 : i+end]
				if ref := s.lookup(name); ref != nil && validEnvName(name) {
					refs++
					if i == 0 && i+end+1 == len(val) {
						only = ref
					}
					if ref.kind == literal {
						b.WriteString(ref.value)
					} else if unknown == "" {
						unknown = ref.source
					}
					i += end
					continue
				}
			}
		}
		b.WriteByte(val[i])
	}
	switch {
	case refs == 0:
	case only != nil:
		pos, name := v.pos, v.name
		*v = *only
		v.pos, v.name = pos, name
		if v.kind == literal && v.litPos.File == "" {
			v.litPos = only.pos
		}
		v.via = only.name
	case unknown != "":
		v.kind, v.value, v.source = fromOther, "", unknown
	default:
		v.value, v.composed = b.String(), true
	}
}

// kubeFinder returns what a container sees at a path: the key of a
// ConfigMap or Secret of the files (same namespace) that a configMap,
// secret or projected volume mounts there (with its items and subPath).
// Other volumes, and objects the files do not hold, are what the files do
// not show.
func (a *auditor) kubeFinder(ns string, spec, c *yaml.Node, configMaps, secrets map[kubeKey]kubeObject) fileFinder {
	vols := map[string]*yaml.Node{}
	for _, v := range items(get(spec, "volumes")) {
		vols[str(get(v, "name"))] = v
	}
	return func(p string) (*fileContent, string) {
		var best *yaml.Node
		bestLen := -1
		for _, m := range items(get(c, "volumeMounts")) {
			mp := path.Clean(str(get(m, "mountPath")))
			if (p == mp || strings.HasPrefix(p, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > bestLen {
				best, bestLen = m, len(mp)
			}
		}
		if best == nil {
			return nil, "no volume of the files is mounted there"
		}
		mp := path.Clean(str(get(best, "mountPath")))
		rel := strings.TrimPrefix(strings.TrimPrefix(p, mp), "/")
		if sp := str(get(best, "subPath")); sp != "" {
			rel = path.Join(sp, rel)
		}
		vol := vols[str(get(best, "name"))]
		var sources []*yaml.Node
		switch {
		case get(vol, "configMap") != nil || get(vol, "secret") != nil:
			sources = []*yaml.Node{vol}
		case get(vol, "projected") != nil:
			sources = items(dig(vol, "projected", "sources"))
		default:
			return nil, "a volume whose files the files do not show is mounted there"
		}
		for _, src := range sources {
			kind, ref, name := "ConfigMap", get(src, "configMap"), ""
			objs := configMaps
			if ref != nil {
				name = str(get(ref, "name"))
			} else if ref = get(src, "secret"); ref != nil {
				kind, objs, name = "Secret", secrets, str(get(ref, "secretName"))
				if name == "" {
					name = str(get(ref, "name")) // projected
				}
			} else {
				continue
			}
			key, listed := rel, false
			for _, it := range items(get(ref, "items")) {
				listed = true
				if path.Clean(str(get(it, "path"))) == rel {
					key, listed = str(get(it, "key")), false
					break
				}
			}
			if listed {
				continue // the items leave rel out
			}
			o, ok := objs[kubeKey{ns, name}]
			if !ok {
				return nil, "it is mounted from " + kind + " " + name + ", which is not in the files"
			}
			e, ok := objectData(o)[key]
			if !ok {
				continue
			}
			if !e.known {
				return nil, "the value of " + kind + " " + name + " key " + key + " is not valid base64"
			}
			return a.objectFile(o, key, e), ""
		}
		return nil, "the volume mounted there holds no such key in the files"
	}
}

// objectFile makes the content of a ConfigMap's or Secret's key, read as
// a file: the lines of a block scalar (|) are reported at their lines in
// the manifest, any other value at its key.
func (a *auditor) objectFile(o kubeObject, key string, e secretEntry) *fileContent {
	label := o.kind + " " + o.name + " key " + key
	keyPos := at(o.file, e.key)
	fc := &fileContent{data: []byte(e.value), label: label, in: label, at: func(int, int) Pos { return keyPos }}
	if e.val != nil && !e.encoded && (e.val.Style == yaml.LiteralStyle || e.val.Style == yaml.FoldedStyle) {
		indent := 0
		if lines := strings.Split(string(a.contents[o.file]), "\n"); e.val.Line < len(lines) {
			first := lines[e.val.Line]
			indent = len(first) - len(strings.TrimLeft(first, " "))
			if c := strings.SplitN(e.value, "\n", 2)[0]; len(c) > 0 {
				indent -= len(c) - len(strings.TrimLeft(c, " "))
			}
		}
		line0 := e.val.Line
		fc.at = func(l, c int) Pos {
			if l <= 0 {
				return keyPos
			}
			if c > 0 {
				c += indent
			}
			return Pos{File: o.file, Line: line0 + l, Col: c}
		}
	}
	return fc
}
