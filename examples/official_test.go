package examples

// The official n8n image, unchanged, with n8n-secrets copied in by an init
// container: what the Kubernetes examples (and the Helm values) must give
// the n8n container so that the image works as published.

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"
)

// Facts of the official image n8nio/n8n, from n8n's own
// docker/images/n8n/Dockerfile and docker-entrypoint.sh (n8n-io/n8n) and
// its base (n8nio/base, FROM node:<version>-alpine):
//
//   - ENTRYPOINT ["tini", "--", "/docker-entrypoint.sh"]: tini (an Alpine
//     package, on PATH) as PID 1; the entrypoint script runs `n8n "$@"`
//     (no arguments: `n8n`, the main; `worker`, `webhook`);
//   - USER node, which is uid 1000 and gid 1000 in node's Alpine images;
//     WORKDIR /home/node; n8n's folder /home/node/.n8n;
//   - PATH as in every Alpine-based image.
var (
	officialEntrypoint = []string{"tini", "--", "/docker-entrypoint.sh"}
	officialPath       = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

const (
	officialUID = 1000 // node
	officialGID = 1000
	// What n8n writes under a read-only root file system (measured with
	// the real n8n in TestInitContainerN8N, at the repository's root): its
	// folder (settings file, SQLite, binary data), its static cache
	// (~/.cache/n8n/public) and temporary files.
	n8nFolder = "/home/node/.n8n"
)

// n8nWritable are the paths n8n needs writable.
var n8nWritable = []string{n8nFolder, "/home/node/.cache", "/tmp"}

// binaryImagePath is where the scratch "binary" image of docker/Dockerfile
// holds n8n-secrets; installedPath where the examples' init containers
// install it (the shared volume's mount path, and the file install writes).
const (
	binaryImagePath = "/usr/local/bin/n8n-secrets"
	installedDir    = "/opt/n8n-secrets"
	installedPath   = installedDir + "/n8n-secrets"
)

// officialImage reports whether image is n8n's own, pinned to a version.
func officialImage(image string) bool {
	repo, tag, ok := strings.Cut(image, ":")
	return ok && (repo == "n8nio/n8n" || repo == "docker.n8n.io/n8nio/n8n") && pinned(image) && tag != ""
}

// podCheck is what checkOfficialPod requires of a pod beyond the command:
// strict for our own Kubernetes files; charts decide some of it themselves.
type podCheck struct {
	user, readOnlyRoot bool
}

// checkOfficialPod returns what is wrong with the n8n container c of pod
// (a pod spec) on the official image with n8n-secrets installed by an init
// container: the image, the command (tini, the installed copy, the image's
// entrypoint), the init container that installs the copy into a volume
// that c mounts read-only, and with strict, the user and the writable
// paths of a read-only root file system.
func checkOfficialPod(pod, c map[string]any, strict podCheck) []string {
	var bad []string
	badf := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	if img := str(c["image"]); !officialImage(img) {
		badf("image %s is not the official n8nio/n8n, pinned", img)
	}
	cmd := strList(c["command"])
	// tini -- <copy> [flags] -- /docker-entrypoint.sh
	sep := slices.Index(cmd[min(3, len(cmd)):], "--")
	if len(cmd) < 5 || path.Base(cmd[0]) != "tini" || cmd[1] != "--" || path.Base(cmd[2]) != "n8n-secrets" || sep < 0 ||
		!slices.Equal(cmd[3+sep+1:], officialEntrypoint[2:]) {
		badf("command %q, want [tini -- <installed n8n-secrets> [flags] -- /docker-entrypoint.sh]: the image's entrypoint with n8n-secrets in between", cmd)
		return bad
	}
	copyDir := path.Dir(cmd[2])
	mounts := map[string]map[string]any{} // mountPath → the mount
	for _, m := range asList(c["volumeMounts"]) {
		mounts[str(asMap(m)["mountPath"])] = asMap(m)
	}
	vm := mounts[copyDir]
	if vm == nil {
		badf("mounts no volume at %s, where it runs n8n-secrets from", copyDir)
		return bad
	}
	if vm["readOnly"] != true {
		badf("mounts %s writable: n8n (and workflows) could replace the binary that reads the secrets", copyDir)
	}
	vol := volumeNamed(pod, str(vm["name"]))
	if vol == nil || vol["emptyDir"] == nil {
		badf("the volume at %s is not an emptyDir of the pod", copyDir)
	}
	installs := false
	for _, ic := range asList(pod["initContainers"]) {
		ic := asMap(ic)
		icmd := append(strList(ic["command"]), strList(ic["args"])...)
		i := slices.Index(icmd, "install")
		if i < 1 || path.Base(icmd[i-1]) != "n8n-secrets" || len(icmd) != i+2 {
			continue
		}
		for _, m := range asList(ic["volumeMounts"]) {
			m := asMap(m)
			// install DIR writes DIR/n8n-secrets: DIR is where this init
			// container mounts the volume the n8n container runs it from.
			if str(m["name"]) == str(vm["name"]) && path.Clean(str(m["mountPath"])) == path.Clean(icmd[i+1]) && m["readOnly"] != true {
				installs = true
			}
		}
		if len(strList(ic["command"])) > 0 && strList(ic["command"])[0] != binaryImagePath {
			badf("init container %s runs %s: the scratch binary image has %s and no shell", str(ic["name"]), strList(ic["command"])[0], binaryImagePath)
		}
		if img := str(ic["image"]); !pinned(img) || !strings.HasSuffix(strings.Split(img, ":")[0], "/n8n-secrets") {
			badf("init container %s runs image %s, want the pinned n8n-secrets binary image", str(ic["name"]), img)
		}
	}
	if !installs {
		badf("no init container runs `n8n-secrets install %s` into the volume %s", copyDir, str(vm["name"]))
	}
	if strict.user {
		sc, psc := asMap(c["securityContext"]), asMap(pod["securityContext"])
		uid, gid := firstSet(sc["runAsUser"], psc["runAsUser"]), firstSet(sc["runAsGroup"], psc["runAsGroup"])
		if uid != fmt.Sprint(officialUID) || gid != fmt.Sprint(officialGID) {
			badf("runs as %s:%s, want node's %d:%d (runAsNonRoot needs a number: the image's USER is a name)", uid, gid, officialUID, officialGID)
		}
		if firstSet(sc["runAsNonRoot"], psc["runAsNonRoot"]) != "true" {
			badf("runAsNonRoot is not true")
		}
		if sc["allowPrivilegeEscalation"] != false {
			badf("allowPrivilegeEscalation is not false")
		}
	}
	if strict.readOnlyRoot {
		if asMap(c["securityContext"])["readOnlyRootFilesystem"] != true {
			badf("the root file system is not read-only")
		}
		for _, w := range n8nWritable {
			m := mounts[w]
			if m == nil || m["readOnly"] == true {
				badf("%s is not a writable volume: n8n writes there", w)
				continue
			}
			if v := volumeNamed(pod, str(m["name"])); v == nil || v["emptyDir"] == nil && w != n8nFolder {
				badf("%s is not an emptyDir", w)
			}
		}
	}
	for _, e := range asList(c["env"]) {
		e := asMap(e)
		if str(e["name"]) != "PATH" {
			continue
		}
		// The image's PATH, whole and in order, with the copy's folder.
		parts := strings.Split(str(e["value"]), ":")
		var kept []string
		for _, p := range parts {
			if strings.Contains(officialPath, p) {
				kept = append(kept, p)
			}
		}
		if strings.Join(kept, ":") != officialPath || !slices.Contains(parts, copyDir) {
			badf("PATH %q drops part of the image's %s, or lacks %s", str(e["value"]), officialPath, copyDir)
		}
	}
	return bad
}

func volumeNamed(pod map[string]any, name string) map[string]any {
	for _, v := range asList(pod["volumes"]) {
		if str(asMap(v)["name"]) == name {
			return asMap(v)
		}
	}
	return nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// firstSet returns the first of vs that is set, as a string.
func firstSet(vs ...any) string {
	for _, v := range vs {
		if v != nil {
			return str(v)
		}
	}
	return ""
}

// TestKubernetesOfficialImage: every n8n Deployment of the Kubernetes
// examples runs the official image unchanged, n8n-secrets installed by an
// init container from the binary image, under tini and in front of the
// image's entrypoint, as node, on a read-only root file system.
func TestKubernetesOfficialImage(t *testing.T) {
	df := parseDockerfile(t, dockerfilePath)
	bin := df.stage("binary")
	if bin == nil || bin.image != "scratch" {
		t.Fatal("Dockerfile: no stage binary FROM scratch")
	}
	copied := false
	for _, in := range bin.all("COPY") {
		if f := strings.Fields(in.args); len(f) > 0 && f[len(f)-1] == binaryImagePath {
			copied = true
		}
	}
	if !copied {
		t.Errorf("Dockerfile: the binary stage does not hold %s, which the init containers run", binaryImagePath)
	}
	for _, f := range []string{k8sVaultFile, k8sFileFile} {
		deps := k8sDeployments(t, f)
		for _, name := range n8nServices {
			c, ok := deps[name]
			if !ok {
				t.Errorf("%s: no Deployment %s", f, name)
				continue
			}
			for _, p := range checkOfficialPod(c.pod, c.container, podCheck{user: true, readOnlyRoot: true}) {
				t.Errorf("%s: %s: %s", f, name, p)
			}
			if !slices.Equal(c.command, []string{"tini", "--", installedPath, "--", "/docker-entrypoint.sh"}) {
				t.Errorf("%s: %s: command %q", f, name, c.command)
			}
		}
	}
	// The check fails on what it must refuse.
	good := k8sDeployments(t, k8sVaultFile)["n8n-worker"]
	for what, spoil := range map[string]func(pod, c map[string]any){
		"own image":         func(_, c map[string]any) { c["image"] = "registry.example.com/n8n-secrets/n8n:2.40.0" },
		"no tini":           func(_, c map[string]any) { c["command"] = []any{installedPath, "--", "/docker-entrypoint.sh"} },
		"n8n directly":      func(_, c map[string]any) { c["command"] = []any{"tini", "--", installedPath, "--", "n8n"} },
		"no init container": func(pod, _ map[string]any) { delete(pod, "initContainers") },
		"writable copy":     func(_, c map[string]any) { setMount(c, installedDir, "readOnly", false) },
		"root":              func(pod, _ map[string]any) { asMap(pod["securityContext"])["runAsUser"] = 0 },
		"writable root":     func(_, c map[string]any) { asMap(c["securityContext"])["readOnlyRootFilesystem"] = false },
		"no /tmp":           func(_, c map[string]any) { setMount(c, "/tmp", "mountPath", "/var/tmp") },
		"PATH without /sbin": func(_, c map[string]any) {
			c["env"] = []any{map[string]any{"name": "PATH", "value": "/usr/bin:/bin:" + installedDir}}
		},
		"init with a shell": func(pod, _ map[string]any) {
			asMap(asList(pod["initContainers"])[0])["command"] = []any{"/bin/sh", "-c", "cp"}
		},
	} {
		pod := deepCopy(good.pod)
		c := asMap(asList(pod["containers"])[0])
		spoil(pod, c)
		if len(checkOfficialPod(pod, c, podCheck{user: true, readOnlyRoot: true})) == 0 {
			t.Errorf("checkOfficialPod accepts a pod with %s", what)
		}
	}
}

// setMount sets key of c's volume mount at mountPath.
func setMount(c map[string]any, mountPath, key string, v any) {
	for _, m := range asList(c["volumeMounts"]) {
		if str(asMap(m)["mountPath"]) == mountPath {
			asMap(m)[key] = v
		}
	}
}

// deepCopy copies a YAML value.
func deepCopy[T any](v T) T {
	var copyAny func(any) any
	copyAny = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			m := make(map[string]any, len(v))
			for k, e := range v {
				m[k] = copyAny(e)
			}
			return m
		case []any:
			l := make([]any, len(v))
			for i, e := range v {
				l[i] = copyAny(e)
			}
			return l
		}
		return v
	}
	return copyAny(v).(T)
}
