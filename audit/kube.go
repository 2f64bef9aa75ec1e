package audit

import (
	"go.yaml.in/yaml/v3"
)

// isKubernetesDoc reports whether a YAML document is a Kubernetes object.
func isKubernetesDoc(doc *yaml.Node) bool {
	return str(get(doc, "apiVersion")) != "" && str(get(doc, "kind")) != ""
}

// kubeObject is one object of a manifest.
type kubeObject struct {
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
		if kind == "List" || (len(kind) > 4 && kind[len(kind)-4:] == "List") {
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
		out = append(out, kubeObject{kind: kind, name: str(get(md, "name")), namespace: str(get(md, "namespace")), doc: doc, pos: at(file, doc)})
	}
	for _, d := range docs {
		add(d, 0)
	}
	return out
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

// kubeServices returns one service per container of the workloads of a
// manifest. Environments are resolved with the ConfigMaps and Secrets of
// the same file and namespace: envFrom first, then env.
func (a *auditor) kubeServices(file string, objs []kubeObject) []*service {
	type key struct{ ns, name string }
	configMaps := map[key]*yaml.Node{}
	secrets := map[key]kubeObject{}
	for _, o := range objs {
		switch o.kind {
		case "ConfigMap":
			configMaps[key{o.namespace, o.name}] = get(o.doc, "data")
		case "Secret":
			secrets[key{o.namespace, o.name}] = o
		}
	}
	var out []*service
	for _, o := range objs {
		spec := podSpec(o)
		if spec == nil {
			continue
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
			s := &service{subject: subject, group: file + "#" + o.namespace, pos: at(file, c)}
			if k, v := getKey(c, "image"); v != nil {
				s.image, s.imagePos = str(v), at(file, k)
			}
			cmd, cmdSet := words(get(c, "command"))
			args, _ := words(get(c, "args"))
			s.args = append(cmd, args...)
			switch {
			case cmdSet:
				k, _ := getKey(c, "command")
				s.runsPos = at(file, k)
				if runsInjector(cmd) {
					s.runs, s.runsWhy = injectorYes, "its command runs n8n-secrets"
				} else {
					s.runs, s.runsWhy = injectorNo, "its command replaces the image's entrypoint and does not run n8n-secrets"
				}
			case isStockN8NImage(s.image):
				s.runs, s.runsPos, s.runsWhy = injectorNo, s.imagePos, "it runs n8n's own image, whose entrypoint does not run n8n-secrets"
			default:
				s.runsPos, s.runsWhy = s.imagePos, "its image is not built from a Dockerfile in the files"
			}
			for _, ef := range items(get(c, "envFrom")) {
				prefix := str(get(ef, "prefix"))
				if ref := get(ef, "configMapRef"); ref != nil {
					name := str(get(ref, "name"))
					for _, p := range pairs(configMaps[key{o.namespace, name}]) {
						s.setEnv(&envVar{name: prefix + p.key.Value, value: str(p.val), pos: at(file, p.key), in: "ConfigMap " + name})
					}
				}
				if ref := get(ef, "secretRef"); ref != nil {
					name := str(get(ref, "name"))
					sec, ok := secrets[key{o.namespace, name}]
					if !ok {
						s.opaqueSecrets = append(s.opaqueSecrets, name)
						continue
					}
					for _, field := range []string{"data", "stringData"} {
						for _, p := range pairs(get(sec.doc, field)) {
							s.setEnv(&envVar{name: prefix + p.key.Value, kind: fromSecret, source: "Secret " + name + " key " + p.key.Value, pos: at(file, ef)})
						}
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
					v.kind, v.source = fromSecret, "Secret "+str(get(r, "name"))+" key "+str(get(r, "key"))
				case get(vf, "configMapKeyRef") != nil:
					r := get(vf, "configMapKeyRef")
					cm, ck := str(get(r, "name")), str(get(r, "key"))
					kn, vn := getKey(configMaps[key{o.namespace, cm}], ck)
					if vn != nil {
						v.value, v.pos, v.in = str(vn), at(file, kn), "ConfigMap "+cm
					} else {
						v.kind, v.source = fromOther, "ConfigMap "+cm+" key "+ck
					}
				default:
					v.kind, v.source = fromOther, "a field of the pod"
				}
				s.setEnv(v)
			}
			out = append(out, s)
		}
	}
	return out
}
