package audit

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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

// secretValues returns a Secret's keys with a hash of each value (data is
// base64, stringData plain and winning, as the API server merges them).
// A value that does not decode counts as unknown.
func secretValues(o kubeObject) map[string]string {
	out := map[string]string{}
	for _, p := range pairs(get(o.doc, "data")) {
		v := str(p.val)
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil {
			out[p.key.Value] = ""
			continue
		}
		out[p.key.Value] = valueHash(string(raw))
	}
	for _, p := range pairs(get(o.doc, "stringData")) {
		out[p.key.Value] = valueHash(str(p.val))
	}
	return out
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
					for k, h := range secretValues(sec) {
						s.setEnv(&envVar{name: prefix + k, kind: fromSecret, source: "Secret " + name + " key " + k, pos: at(file, ef), secretHash: h})
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
				case get(vf, "secretKeyRef") != nil:
					r := get(vf, "secretKeyRef")
					name, key := str(get(r, "name")), str(get(r, "key"))
					v.kind, v.source = fromSecret, "Secret "+name+" key "+key
					if sec, ok := secrets[kubeKey{o.namespace, name}]; ok {
						v.secretHash = secretValues(sec)[key]
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
		v.value = b.String()
	}
}
