package n8n

import (
	"path/filepath"
	"strings"
)

// Role is the kind of n8n process a command starts: RoleStart (a main),
// RoleWorker, RoleWebhook, or any other n8n command as n8n spells it
// ("import:credentials", "execute", …).
type Role string

// The roles the guard treats specially.
const (
	RoleStart   Role = "start"
	RoleWorker  Role = "worker"
	RoleWebhook Role = "webhook"
)

// wrappers are programs that run another program named later on their
// command line: "su-exec node n8n worker", "node /usr/local/bin/n8n worker".
var wrappers = map[string]bool{
	"su-exec":   true,
	"gosu":      true,
	"setpriv":   true,
	"tini":      true,
	"dumb-init": true,
	"env":       true,
	"node":      true,
	"nodejs":    true,
}

// isLauncher reports whether s names n8n itself or the n8n image's
// entrypoint script, which passes its arguments on to n8n.
func isLauncher(s string) bool {
	switch filepath.Base(s) {
	case "n8n", "docker-entrypoint.sh":
		return true
	}
	return false
}

// launcherIndex returns the index in argv of n8n (or the image's
// entrypoint) when argv runs it directly or through a known wrapper, else -1.
// A launcher followed by another launcher ("docker-entrypoint.sh n8n worker",
// as older images were called) counts as the last of them.
func launcherIndex(argv []string) int {
	i := -1
	switch {
	case len(argv) == 0:
		return -1
	case isLauncher(argv[0]):
		i = 0
	case wrappers[filepath.Base(argv[0])]:
		for j := 1; j < len(argv); j++ {
			if isLauncher(argv[j]) {
				i = j
				break
			}
		}
	}
	if i < 0 {
		return -1
	}
	for i+1 < len(argv) && isLauncher(argv[i+1]) {
		i++
	}
	return i
}

// runsN8N reports whether argv starts n8n. docker-entrypoint.sh is also
// the entrypoint's name in the postgres and redis images, so it counts only
// when what follows is n8n's: nothing, a flag, n8n itself, or one of n8n's
// commands (start, worker, webhook, execute, audit, import:…, export:…).
func runsN8N(argv []string) bool {
	i := launcherIndex(argv)
	if i < 0 {
		return false
	}
	if filepath.Base(argv[i]) == "n8n" || i+1 >= len(argv) {
		return true
	}
	sub := argv[i+1]
	return sub == "" || strings.HasPrefix(sub, "-") || strings.Contains(sub, ":") || n8nCommands[sub]
}

// n8nCommands are n8n's commands without a colon.
var n8nCommands = map[string]bool{"start": true, "worker": true, "webhook": true, "execute": true, "execute-batch": true, "audit": true}

// RoleOf returns the role of the n8n process that argv, the command to
// exec, starts. Like n8n (instance-settings.ts reads process.argv[2]), it
// takes the first argument after n8n or the image's entrypoint:
//
//	n8n                                   → start
//	n8n worker --concurrency=5            → worker
//	/docker-entrypoint.sh webhook         → webhook
//	/docker-entrypoint.sh                 → start
//	su-exec node n8n import:credentials … → import:credentials
//
// No argument, or a flag, means start (n8n's default command). When argv
// does not visibly run n8n (a custom script), RoleOf looks for a word
// "worker" or "webhook" among the arguments (also inside "sh -c" scripts),
// erring on the strict side, and otherwise returns RoleStart.
func RoleOf(argv []string) Role {
	if i := launcherIndex(argv); i >= 0 {
		if i+1 >= len(argv) {
			return RoleStart
		}
		sub := argv[i+1]
		if sub == "" || strings.HasPrefix(sub, "-") {
			return RoleStart
		}
		return Role(sub)
	}
	for _, arg := range argv {
		for _, word := range strings.Fields(arg) {
			switch Role(word) {
			case RoleWorker, RoleWebhook:
				return Role(word)
			}
		}
	}
	return RoleStart
}
