package examples

// A stand-in for the docker and kubectl clients, for rehearsing the
// rotation scripts without a container engine or a cluster: the test
// binary itself, run through links named docker and kubectl (TestMain
// dispatches on FAKE_PLATFORM). It understands exactly the commands the
// scripts use, and fails loudly (exit 2) on any other.
//
// What it runs is real: a "node" is the n8n-secrets binary exec'ing the
// real n8n (internal/testenv/n8nreal) with the environment its deployment file
// gives it, mapped onto the sandbox (the real Vault's address, the real
// PostgreSQL, the volumes as directories); a one-off container (docker
// compose run, a Kubernetes Job, a Swarm service with restart-condition
// none) is the binary with that environment, run to its end. Differences,
// all of them stated: n8n runs in regular mode (no Redis here), and only the
// main runs (workers and webhook processors need Redis).
//
// Its state is a JSON file, read and written by each invocation (the
// scripts run their commands one at a time).

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8nreal"
	"go.yaml.in/yaml/v3"
)

// fakeState is the whole state of the fake platform.
type fakeState struct {
	Kind string `json:"kind"` // compose, swarm, kubernetes
	// Bin is the n8n-secrets binary; N8NDir and N8NMajor the n8n install.
	Bin      string `json:"bin"`
	N8NDir   string `json:"n8n_dir"`
	N8NMajor int    `json:"n8n_major"`
	// Set overrides variables of every container (the sandbox's addresses);
	// Drop removes some; Paths maps container paths to sandbox directories
	// (longest prefix first).
	Set   map[string]string `json:"set"`
	Drop  []string          `json:"drop"`
	Paths map[string]string `json:"paths"`

	// compose: the compose file (a copy: .env is written beside it) and
	// vault-init's root token.
	ComposeFile string `json:"compose_file,omitempty"`
	RootToken   string `json:"root_token,omitempty"`
	// kubernetes: the ConfigMap n8n-env, the Deployments' own env, the
	// Job of the last apply and its outcome.
	ConfigMap map[string]string `json:"config_map,omitempty"`
	Job       *fakeRun          `json:"job,omitempty"`
	// swarm: secrets by name (their value in a file), the one-off
	// service's outcome.
	Secrets map[string]string `json:"secrets,omitempty"`
	OneOff  *fakeRun          `json:"one_off,omitempty"`

	Services map[string]*fakeService `json:"services"`
	// Calls is every command line the scripts ran, in order.
	Calls []string `json:"calls"`
}

// fakeService is one n8n service (Deployment, stack service).
type fakeService struct {
	Replicas int `json:"replicas"`
	// Env is the service's own environment (swarm: the stack's, with the
	// updates; kubernetes: the Deployment's env, the ConfigMap apart).
	Env map[string]string `json:"env"`
	// SwarmSecrets maps a target name under /run/secrets to a secret.
	SwarmSecrets map[string]string `json:"swarm_secrets,omitempty"`
	// DataDir is the service's persistent /home/node/.n8n (compose main),
	// or empty: a fresh one per start.
	DataDir string   `json:"data_dir,omitempty"`
	Node    *fakeRun `json:"node,omitempty"` // the running node
}

// fakeRun is a node or a one-off container.
type fakeRun struct {
	ID   string   `json:"id"`
	PID  int      `json:"pid,omitempty"`
	Port int      `json:"port,omitempty"`
	Log  string   `json:"log"`
	Env  []string `json:"env"`
	Code int      `json:"code"`
}

// fakeMain is the entry point of the stand-in, from TestMain.
func fakeMain() int {
	path := os.Getenv("FAKE_PLATFORM")
	st, err := loadFake(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake platform:", err)
		return 2
	}
	name := filepath.Base(os.Args[0])
	st.Calls = append(st.Calls, name+" "+strings.Join(os.Args[1:], " "))
	var code int
	switch name {
	case "docker":
		code = st.docker(os.Args[1:])
	case "kubectl":
		code = st.kubectl(os.Args[1:])
	default:
		fmt.Fprintf(os.Stderr, "fake platform: no stand-in for %s\n", name)
		code = 2
	}
	if err := st.save(path); err != nil {
		fmt.Fprintln(os.Stderr, "fake platform:", err)
		return 2
	}
	return code
}

func loadFake(path string) (*fakeState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	st := &fakeState{}
	return st, json.Unmarshal(b, st)
}

func (st *fakeState) save(path string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func unexpected(args []string) int {
	fmt.Fprintf(os.Stderr, "fake platform: unexpected command: %q\n", args)
	return 2
}

// ---- docker ----------------------------------------------------------------

func (st *fakeState) docker(args []string) int {
	if len(args) >= 3 && args[0] == "compose" && args[1] == "-f" && st.Kind == "compose" {
		return st.compose(args[3:])
	}
	if len(args) == 0 {
		return unexpected(args)
	}
	switch args[0] {
	case "exec": // exec ID n8n-secrets ARGS…
		if len(args) < 3 || args[2] != "n8n-secrets" {
			return unexpected(args)
		}
		s, _ := st.byNodeID(args[1])
		if s == nil {
			fmt.Fprintf(os.Stderr, "Error: No such container: %s\n", args[1])
			return 1
		}
		return st.runBin(s.Node.Env, args[3:], os.Stdout, os.Stderr)
	case "logs": // logs ID
		if len(args) != 2 {
			break
		}
		s, _ := st.byNodeID(args[1])
		if s == nil {
			return 1
		}
		return catFile(s.Node.Log)
	case "ps": // ps -q --filter label=com.docker.swarm.service.name=STACK_SVC
		if len(args) == 4 && args[1] == "-q" && args[2] == "--filter" {
			name := strings.TrimPrefix(args[3], "label=com.docker.swarm.service.name=")
			if s := st.Services[st.swarmName(name)]; s != nil && st.alive(s) {
				fmt.Println(s.Node.ID)
			}
			return 0
		}
	case "secret": // secret create NAME -
		if len(args) == 4 && args[1] == "create" && args[3] == "-" {
			b, _ := io.ReadAll(os.Stdin)
			f := filepath.Join(filepath.Dir(os.Getenv("FAKE_PLATFORM")), "secret-"+args[2])
			if _, exists := st.Secrets[args[2]]; exists {
				fmt.Fprintf(os.Stderr, "Error response from daemon: secret %s already exists\n", args[2])
				return 1
			}
			if err := os.WriteFile(f, b, 0o400); err != nil {
				return 2
			}
			st.Secrets[args[2]] = f
			fmt.Println("fakesecretid")
			return 0
		}
	case "service":
		return st.swarmService(args[1:])
	}
	return unexpected(args)
}

func (st *fakeState) compose(args []string) int {
	switch {
	case len(args) >= 1 && args[0] == "stop":
		for _, name := range args[1:] {
			st.stopNode(st.Services[name])
		}
		return 0
	case len(args) >= 7 && args[0] == "run" && args[1] == "--rm" && args[2] == "-T" && args[3] == "--no-deps" && args[4] == "--entrypoint":
		entry, svc, rest := args[5], args[6], args[7:]
		switch {
		case entry == "cat" && svc == "vault-init" && slices.Equal(rest, []string{"/state/root_token"}):
			fmt.Print(st.RootToken)
			return 0
		case entry == "n8n-secrets" && st.Services[svc] != nil:
			return st.runBin(st.containerEnv(svc, ""), rest, os.Stdout, os.Stderr)
		case entry == "rm" && st.Services[svc] != nil && len(rest) == 2 && rest[0] == "-f":
			p, ok := st.hostPath(rest[1], st.Services[svc])
			if !ok {
				return unexpected(args)
			}
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				return 1
			}
			return 0
		}
	case len(args) >= 5 && args[0] == "up" && args[1] == "-d" && slices.Contains([]string{"--wait", "--no-deps"}, args[2]):
		// up -d [--wait] --no-deps --force-recreate SERVICE
		wait := args[2] == "--wait"
		rest := args[2:]
		if wait {
			rest = args[3:]
		}
		if len(rest) != 3 || rest[0] != "--no-deps" || rest[1] != "--force-recreate" || st.Services[rest[2]] == nil {
			return unexpected(args)
		}
		s := st.Services[rest[2]]
		st.stopNode(s)
		if code := st.startNode(rest[2], s); code != 0 || !wait {
			return code
		}
		// --wait: until the container is healthy, as n8n's healthcheck on
		// /healthz/readiness says; an exited container fails it.
		return st.waitHealthy(s)
	case len(args) == 3 && args[0] == "ps" && args[1] == "-q":
		if s := st.Services[args[2]]; s != nil && st.alive(s) {
			fmt.Println(s.Node.ID)
		}
		return 0
	case len(args) >= 4 && args[0] == "exec" && args[1] == "-T" && args[3] == "n8n-secrets":
		s := st.Services[args[2]]
		if s == nil || !st.alive(s) {
			fmt.Fprintf(os.Stderr, "service %q is not running\n", args[2])
			return 1
		}
		return st.runBin(s.Node.Env, args[4:], os.Stdout, os.Stderr)
	}
	return unexpected(args)
}

// swarmName maps STACK_SVC to SVC.
func (st *fakeState) swarmName(full string) string {
	_, svc, _ := strings.Cut(full, "_")
	return svc
}

func (st *fakeState) swarmService(args []string) int {
	if len(args) == 0 {
		return unexpected(args)
	}
	switch args[0] {
	case "inspect": // inspect --format FORMAT STACK_SVC
		if len(args) != 4 || args[1] != "--format" {
			break
		}
		s := st.Services[st.swarmName(args[3])]
		if s == nil {
			return 1
		}
		switch args[2] {
		case "{{.Spec.Mode.Replicated.Replicas}}":
			fmt.Println(s.Replicas)
		case "{{.Spec.TaskTemplate.ContainerSpec.Image}}":
			fmt.Println("registry.example.com/n8n-secrets/n8n:fake")
		case "{{range .Spec.TaskTemplate.ContainerSpec.Env}}{{println .}}{{end}}":
			for _, k := range sortedKeys(s.Env) {
				fmt.Println(k + "=" + s.Env[k])
			}
		default:
			return unexpected(args)
		}
		return 0
	case "scale": // scale --detach=false STACK_SVC=N
		if len(args) != 3 || args[1] != "--detach=false" {
			break
		}
		name, n, _ := strings.Cut(args[2], "=")
		s := st.Services[st.swarmName(name)]
		replicas, err := strconv.Atoi(n)
		if s == nil || err != nil {
			return unexpected(args)
		}
		return st.setReplicas(st.swarmName(name), s, replicas)
	case "update":
		return st.swarmUpdate(args[1:])
	case "create":
		return st.swarmCreate(args[1:])
	case "logs": // logs --raw NAME (the one-off service, or a node's task)
		if len(args) != 3 || args[1] != "--raw" {
			break
		}
		if st.OneOff != nil && args[2] == st.OneOff.ID {
			return catFile(st.OneOff.Log)
		}
		if s, _ := st.byNodeID(args[2]); s != nil {
			return catFile(s.Node.Log)
		}
		return 1
	case "ps":
		switch {
		case len(args) == 4 && args[1] == "--format" && args[2] == "{{.CurrentState}}" && st.OneOff != nil && args[3] == st.OneOff.ID:
			if st.OneOff.Code == 0 {
				fmt.Println("Complete 1 second ago")
			} else {
				fmt.Println("Failed 1 second ago")
			}
			return 0
		case len(args) == 5 && args[1] == "-q" && args[2] == "--filter" && args[3] == "desired-state=running":
			if s := st.Services[st.swarmName(args[4])]; s != nil && st.alive(s) {
				fmt.Println(s.Node.ID)
			}
			return 0
		}
	case "rm":
		if len(args) == 2 && st.OneOff != nil && args[1] == st.OneOff.ID {
			st.OneOff = nil
			fmt.Println(args[1])
			return 0
		}
	}
	return unexpected(append([]string{"service"}, args...))
}

// swarmUpdate: update --detach=false --quiet [--secret-rm T]
// [--secret-add source=S,target=T,…] [--env-add K=V] [--replicas N] STACK_SVC
func (st *fakeState) swarmUpdate(args []string) int {
	if len(args) < 3 || args[0] != "--detach=false" || args[1] != "--quiet" {
		return unexpected(args)
	}
	name := st.swarmName(args[len(args)-1])
	s := st.Services[name]
	if s == nil {
		return unexpected(args)
	}
	replicas := s.Replicas
	for i := 2; i < len(args)-1; i += 2 {
		v := args[i+1]
		switch args[i] {
		case "--secret-rm":
			delete(s.SwarmSecrets, v)
		case "--secret-add":
			src, target := swarmSecretSpec(v)
			if _, ok := st.Secrets[src]; !ok {
				fmt.Fprintf(os.Stderr, "Error: secret not found: %s\n", src)
				return 1
			}
			s.SwarmSecrets[target] = src
		case "--env-add":
			k, val, _ := strings.Cut(v, "=")
			s.Env[k] = val
		case "--replicas":
			n, err := strconv.Atoi(v)
			if err != nil {
				return unexpected(args)
			}
			replicas = n
		default:
			return unexpected(args)
		}
	}
	// An update replaces the tasks.
	st.stopNode(s)
	s.Replicas = 0
	return st.setReplicas(name, s, replicas)
}

// swarmSecretSpec parses source=S,target=T,uid=…
func swarmSecretSpec(v string) (src, target string) {
	for _, f := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(f, "=")
		switch k {
		case "source":
			src = val
		case "target":
			target = val
		}
	}
	if target == "" {
		target = src
	}
	return src, target
}

// swarmCreate: create --name NAME --detach=false --quiet
// --restart-condition none --network NET (--secret SPEC | --env K=V)…
// --entrypoint n8n-secrets IMAGE ARGS…: the one-off task, run to its end.
func (st *fakeState) swarmCreate(args []string) int {
	want := []string{"--name", "", "--detach=false", "--quiet", "--restart-condition", "none", "--network", ""}
	if len(args) < len(want) {
		return unexpected(args)
	}
	for i, w := range want {
		if w != "" && args[i] != w {
			return unexpected(args)
		}
	}
	name := args[1]
	dir, err := os.MkdirTemp(filepath.Dir(os.Getenv("FAKE_PLATFORM")), "oneoff-secrets-")
	if err != nil {
		return 2
	}
	env := map[string]string{}
	i := len(want)
	for ; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--secret":
			src, target := swarmSecretSpec(args[i+1])
			f, ok := st.Secrets[src]
			if !ok {
				fmt.Fprintf(os.Stderr, "Error: secret not found: %s\n", src)
				return 1
			}
			if err := copyFile(f, filepath.Join(dir, target)); err != nil {
				return 2
			}
			continue
		case "--env":
			k, v, _ := strings.Cut(args[i+1], "=")
			env[k] = v
			continue
		}
		break
	}
	if i+2 >= len(args) || args[i] != "--entrypoint" || args[i+1] != "n8n-secrets" {
		return unexpected(args)
	}
	rest := args[i+3:] // after the image
	run := &fakeRun{ID: name, Log: filepath.Join(filepath.Dir(os.Getenv("FAKE_PLATFORM")), name+".log")}
	run.Env = st.mapEnv(env, map[string]string{"/run/secrets": dir}, "")
	f, err := os.Create(run.Log)
	if err != nil {
		return 2
	}
	run.Code = st.runBin(run.Env, rest, f, f)
	f.Close()
	st.OneOff = run
	fmt.Println("fakeserviceid")
	return 0
}

// ---- kubectl ----------------------------------------------------------------

func (st *fakeState) kubectl(args []string) int {
	if len(args) < 3 || args[0] != "-n" {
		return unexpected(args)
	}
	args = args[2:]
	switch {
	case len(args) == 4 && args[0] == "get" && strings.HasPrefix(args[1], "deployment/") && args[2] == "-o" && args[3] == "jsonpath={.spec.replicas}":
		s := st.Services[strings.TrimPrefix(args[1], "deployment/")]
		if s == nil {
			return 1
		}
		fmt.Print(s.Replicas)
		return 0
	case len(args) == 3 && args[0] == "scale" && strings.HasPrefix(args[1], "deployment/") && strings.HasPrefix(args[2], "--replicas="):
		name := strings.TrimPrefix(args[1], "deployment/")
		n, err := strconv.Atoi(strings.TrimPrefix(args[2], "--replicas="))
		if st.Services[name] == nil || err != nil {
			return unexpected(args)
		}
		if code := st.setReplicas(name, st.Services[name], n); code != 0 {
			return code
		}
		fmt.Printf("deployment.apps/%s scaled\n", name)
		return 0
	case len(args) >= 4 && args[0] == "get" && args[1] == "pods" && args[2] == "-o" && args[3] == "name":
		component := ""
		for _, a := range args[4:] {
			if l, ok := strings.CutPrefix(a, "app.kubernetes.io/name=n8n,app.kubernetes.io/component="); ok {
				component = l
			}
		}
		for _, name := range sortedKeys(st.Services) {
			s := st.Services[name]
			if st.alive(s) && (component == "" || component == k8sComponent(name)) {
				fmt.Println("pod/" + s.Node.ID)
			}
		}
		return 0
	case len(args) >= 3 && args[0] == "delete" && args[1] == "job" && args[2] == "n8n-rekey":
		if st.Job == nil && !slices.Contains(args, "--ignore-not-found") {
			fmt.Fprintln(os.Stderr, `Error from server (NotFound): jobs.batch "n8n-rekey" not found`)
			return 1
		}
		st.Job = nil
		return 0
	case len(args) == 3 && args[0] == "apply" && args[1] == "-f" && args[2] == "-":
		return st.applyJob()
	case len(args) == 5 && args[0] == "get" && args[1] == "job" && args[2] == "n8n-rekey" && args[3] == "-o" && args[4] == "jsonpath={.status.succeeded}/{.status.failed}":
		switch {
		case st.Job == nil:
			return 1
		case st.Job.Code == 0:
			fmt.Print("1/")
		default:
			fmt.Print("/1")
		}
		return 0
	case len(args) == 2 && args[0] == "logs" && args[1] == "job/n8n-rekey" && st.Job != nil:
		return catFile(st.Job.Log)
	case len(args) == 2 && args[0] == "logs" && strings.HasPrefix(args[1], "pod/"):
		s, _ := st.byNodeID(strings.TrimPrefix(args[1], "pod/"))
		if s == nil {
			return 1
		}
		return catFile(s.Node.Log)
	case len(args) == 7 && args[0] == "patch" && args[1] == "configmap" && args[2] == "n8n-env" && args[3] == "--type" && args[4] == "merge" && args[5] == "-p":
		var patch struct {
			Data map[string]string `json:"data"`
		}
		if err := json.Unmarshal([]byte(args[6]), &patch); err != nil {
			fmt.Fprintln(os.Stderr, "error: unable to parse the patch:", err)
			return 1
		}
		for k, v := range patch.Data {
			st.ConfigMap[k] = v
		}
		fmt.Println("configmap/n8n-env patched")
		return 0
	case len(args) == 4 && args[0] == "rollout" && args[1] == "status" && strings.HasPrefix(args[2], "deployment/"):
		s := st.Services[strings.TrimPrefix(args[2], "deployment/")]
		if s == nil || (s.Replicas > 0 && !st.alive(s)) {
			fmt.Fprintln(os.Stderr, "error: deployment exceeded its progress deadline")
			return 1
		}
		fmt.Printf("deployment %q successfully rolled out\n", strings.TrimPrefix(args[2], "deployment/"))
		return 0
	case len(args) >= 3 && args[0] == "exec" && args[2] == "--":
		target := args[1]
		var s *fakeService
		if name, ok := strings.CutPrefix(target, "deployment/"); ok {
			s = st.Services[name]
		} else {
			s, _ = st.byNodeID(strings.TrimPrefix(target, "pod/"))
		}
		if s == nil || !st.alive(s) || len(args) < 4 || args[3] != "n8n-secrets" {
			return unexpected(args)
		}
		return st.runBin(s.Node.Env, args[4:], os.Stdout, os.Stderr)
	}
	return unexpected(args)
}

func k8sComponent(service string) string {
	switch {
	case strings.Contains(service, "worker"):
		return "worker"
	case strings.Contains(service, "webhook"):
		return "webhook"
	}
	return "main"
}

// applyJob reads the Job manifest on stdin and runs its container to its
// end: Kubernetes' $(NAME) expansion of command and args from the
// container's env, envFrom the ConfigMap as it is now.
func (st *fakeState) applyJob() int {
	b, err := io.ReadAll(os.Stdin)
	if err != nil {
		return 2
	}
	var job struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			Template struct {
				Spec struct {
					ServiceAccountName string `yaml:"serviceAccountName"`
					Containers         []struct {
						Command []string `yaml:"command"`
						Args    []string `yaml:"args"`
						EnvFrom []struct {
							ConfigMapRef struct {
								Name string `yaml:"name"`
							} `yaml:"configMapRef"`
						} `yaml:"envFrom"`
						Env []struct {
							Name  string `yaml:"name"`
							Value string `yaml:"value"`
						} `yaml:"env"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &job); err != nil || job.Kind != "Job" || len(job.Spec.Template.Spec.Containers) != 1 {
		fmt.Fprintln(os.Stderr, "fake kubectl: apply -f -: not one Job with one container:", err)
		return 1
	}
	if st.Job != nil {
		fmt.Fprintf(os.Stderr, "Error from server (AlreadyExists): jobs.batch %q already exists\n", job.Metadata.Name)
		return 1
	}
	c := job.Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef.Name != "n8n-env" {
			fmt.Fprintf(os.Stderr, "fake kubectl: envFrom ConfigMap %q is not n8n-env\n", ef.ConfigMapRef.Name)
			return 1
		}
		for k, v := range st.ConfigMap {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	argv := append(append([]string{}, c.Command...), c.Args...)
	for i := range argv {
		argv[i] = k8sExpand(argv[i], env)
	}
	if len(argv) == 0 || argv[0] != "/usr/local/bin/n8n-secrets" {
		fmt.Fprintf(os.Stderr, "fake kubectl: the Job runs %q, not the image's /usr/local/bin/n8n-secrets\n", argv)
		return 1
	}
	run := &fakeRun{ID: job.Metadata.Name, Log: filepath.Join(filepath.Dir(os.Getenv("FAKE_PLATFORM")), "job.log")}
	run.Env = st.mapEnv(env, nil, "")
	f, err := os.Create(run.Log)
	if err != nil {
		return 2
	}
	run.Code = st.runBin(run.Env, argv[1:], f, f)
	f.Close()
	st.Job = run
	fmt.Printf("job.batch/%s created\n", job.Metadata.Name)
	return 0
}

var k8sVarRe = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// k8sExpand does Kubernetes' expansion of command and args: $(NAME) is the
// container's variable NAME when it is defined (else left as it is), $$ is
// a literal $.
func k8sExpand(s string, env map[string]string) string {
	return k8sVarRe.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		if v, ok := env[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// ---- nodes ----------------------------------------------------------------

// containerEnv is the environment of a container of service name as the
// platform builds it now (compose: the file interpolated with .env;
// kubernetes: the ConfigMap and the Deployment's env; swarm: the service's
// env), mapped onto the sandbox; userFolder is n8n's home when it is a node.
func (st *fakeState) containerEnv(name, userFolder string) []string {
	s := st.Services[name]
	env := map[string]string{}
	paths := map[string]string{}
	switch st.Kind {
	case "compose":
		vars := map[string]string{}
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(st.ComposeFile), ".env")); err == nil {
			sc := bufio.NewScanner(bytes.NewReader(b))
			for sc.Scan() {
				if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
					vars[k] = v
				}
			}
		}
		svcs, err := composeServices(st.ComposeFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake docker:", err)
			os.Exit(2)
		}
		env = svcs[name].env(vars)
	case "kubernetes":
		for k, v := range st.ConfigMap {
			env[k] = v
		}
		for k, v := range s.Env {
			env[k] = v
		}
	case "swarm":
		for k, v := range s.Env {
			env[k] = v
		}
		dir := filepath.Join(filepath.Dir(os.Getenv("FAKE_PLATFORM")), "task-secrets-"+name)
		_ = os.RemoveAll(dir)
		_ = os.MkdirAll(dir, 0o700)
		for target, src := range s.SwarmSecrets {
			_ = copyFile(st.Secrets[src], filepath.Join(dir, target))
		}
		paths["/run/secrets"] = dir
	}
	return st.mapEnv(env, paths, userFolder)
}

// mapEnv applies the sandbox to env: Set, Drop, the path maps (Paths and
// extra), then the n8n install's base environment when userFolder is set.
func (st *fakeState) mapEnv(env map[string]string, extra map[string]string, userFolder string) []string {
	paths := map[string]string{}
	for k, v := range st.Paths {
		paths[k] = v
	}
	for k, v := range extra {
		paths[k] = v
	}
	prefixes := sortedKeys(paths)
	sort.Slice(prefixes, func(i, j int) bool { return len(prefixes[i]) > len(prefixes[j]) })
	out := map[string]string{}
	for k, v := range env {
		for _, p := range prefixes {
			if v == p || strings.HasPrefix(v, p+"/") {
				v = paths[p] + strings.TrimPrefix(v, p)
				break
			}
		}
		out[k] = v
	}
	for k, v := range st.Set {
		out[k] = v
	}
	for _, k := range st.Drop {
		delete(out, k)
	}
	// The binary's default secrets dir is /run/secrets: the mount there.
	if d, ok := paths["/run/secrets"]; ok && out["N8N_SECRETS_DIR"] == "" {
		out["N8N_SECRETS_DIR"] = d
	}
	var list []string
	if userFolder != "" {
		in, err := n8nreal.Find(st.N8NMajor, st.N8NDir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake platform:", err)
			os.Exit(2)
		}
		list = in.Environ(userFolder)
	} else {
		list = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Dir(os.Getenv("FAKE_PLATFORM"))}
	}
	for _, k := range sortedKeys(out) {
		list = append(list, k+"="+out[k])
	}
	return list
}

// hostPath maps a container path of service s (its /home/node/.n8n) to the
// sandbox.
func (st *fakeState) hostPath(p string, s *fakeService) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/home/node/.n8n/")
	if !ok || s.DataDir == "" {
		return "", false
	}
	return filepath.Join(s.DataDir, rest), true
}

// runBin runs the n8n-secrets binary with env and args to its end.
func (st *fakeState) runBin(env, args []string, stdout, stderr io.Writer) int {
	cmd := exec.Command(st.Bin, args...)
	cmd.Env = env
	cmd.Stdin = os.Stdin
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "fake platform:", err)
		return 2
	}
	return 0
}

// setReplicas starts or stops the service's node: 0 stops it, more starts
// one (only one node per service runs here).
func (st *fakeState) setReplicas(name string, s *fakeService, n int) int {
	s.Replicas = n
	if n == 0 {
		st.stopNode(s)
		return 0
	}
	if st.alive(s) {
		return 0
	}
	return st.startNode(name, s)
}

// startNode starts a node of service name: the binary exec'ing the real
// n8n (start), detached, on free ports. It returns once the binary has
// exec'd n8n (its "exec" event) or has exited.
func (st *fakeState) startNode(name string, s *fakeService) int {
	dir := filepath.Dir(os.Getenv("FAKE_PLATFORM"))
	home := filepath.Join(dir, "home-"+name+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := os.MkdirAll(home, 0o700); err != nil {
		return 2
	}
	if s.DataDir != "" {
		// The persistent volume is mounted at n8n's folder, home/.n8n.
		if err := os.Symlink(s.DataDir, filepath.Join(home, ".n8n")); err != nil {
			return 2
		}
	}
	in, err := n8nreal.Find(st.N8NMajor, st.N8NDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake platform:", err)
		return 2
	}
	port, broker := freeTCPPort(), freeTCPPort()
	run := &fakeRun{ID: fmt.Sprintf("%s-%d", name, time.Now().UnixNano()%1e6), Port: port,
		Log: filepath.Join(dir, name+"-"+strconv.FormatInt(time.Now().UnixNano(), 36)+".log")}
	run.Env = append(st.containerEnv(name, home), "N8N_PORT="+strconv.Itoa(port), "N8N_RUNNERS_BROKER_PORT="+strconv.Itoa(broker))
	logf, err := os.Create(run.Log)
	if err != nil {
		return 2
	}
	defer logf.Close()
	cmd := exec.Command(st.Bin, "--", in.Bin(), "start")
	cmd.Env = run.Env
	cmd.Dir = home
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 2
	}
	run.PID = cmd.Process.Pid
	s.Node = run
	// Like `docker compose up -d`: back once the container runs (n8n-secrets
	// has exec'd n8n) or has exited.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		select {
		case <-exited:
			return 0 // the container exited: its log says why
		case <-time.After(50 * time.Millisecond):
		}
		if b, _ := os.ReadFile(run.Log); bytes.Contains(b, []byte(`"msg":"exec"`)) {
			// While this fake runs (up --wait), a node that ends writes how
			// (its exit status or signal) into its log, as docker's
			// "exited (N)" says.
			go func() {
				err := <-exited
				if f, ferr := os.OpenFile(run.Log, os.O_APPEND|os.O_WRONLY, 0); ferr == nil {
					fmt.Fprintf(f, "fake platform: the node ended: %v\n", cmp.Or(err, error(errExitedZero)))
					f.Close()
				}
			}()
			return 0
		}
	}
	return 0
}

// errExitedZero stands for a node's exit with status 0.
var errExitedZero = errors.New("exit status 0")

// waitHealthy waits until the service's node answers its readiness check
// (0), or has exited or is not ready within n8n's start timeout (1).
func (st *fakeState) waitHealthy(s *fakeService) int {
	for deadline := time.Now().Add(n8nreal.StartTimeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if !st.alive(s) {
			// As `docker compose up --wait` does, the container's log
			// follows (its last lines; the caller withholds it if it
			// holds a secret value).
			fmt.Fprintln(os.Stderr, "container exited")
			if b, err := os.ReadFile(s.Node.Log); err == nil {
				lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
				fmt.Fprintln(os.Stderr, strings.Join(lines[max(0, len(lines)-20):], "\n"))
			}
			return 1
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz/readiness", s.Node.Port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return 0
			}
		}
	}
	fmt.Fprintln(os.Stderr, "container is not healthy")
	return 1
}

// alive reports whether the service's node runs.
func (st *fakeState) alive(s *fakeService) bool {
	return s != nil && s.Node != nil && s.Node.PID > 0 && processAlive(s.Node.PID)
}

// stopNode stops the service's node with SIGTERM, as the platforms do, and
// waits for it (a minute, then SIGKILL).
func (st *fakeState) stopNode(s *fakeService) {
	if s == nil || s.Node == nil || s.Node.PID <= 0 {
		return
	}
	pid := s.Node.PID
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(time.Minute); processAlive(pid) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if processAlive(pid) {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	s.Node.PID = 0
	// A platform's stop returns once the container is gone, a moment after
	// its process ended; PostgreSQL ends the process's sessions in that
	// moment (rekey refuses while it still sees them).
	time.Sleep(time.Second)
}

// byNodeID returns the service whose node has id.
func (st *fakeState) byNodeID(id string) (*fakeService, string) {
	for name, s := range st.Services {
		if s.Node != nil && s.Node.ID == id {
			return s, name
		}
	}
	return nil, ""
}

// processAlive reports whether pid runs (a zombie does not).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) STATE …: comm may hold spaces, the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

func catFile(p string) int {
	b, err := os.ReadFile(p)
	if err != nil {
		return 1
	}
	os.Stdout.Write(b)
	return 0
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o400)
}

func freeTCPPort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// composeServices parses a compose file outside a test (the stand-in runs
// without a testing.T).
func composeServices(path string) (map[string]service, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	out := map[string]service{}
	for name, v := range asMap(doc["services"]) {
		out[name] = service{name: name, raw: asMap(v)}
	}
	return out, nil
}
