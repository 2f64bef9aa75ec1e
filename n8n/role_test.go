package n8n

import (
	"strings"
	"testing"
)

func TestRoleOf(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		want Role
	}{
		{"n8n alone", []string{"n8n"}, RoleStart},
		{"n8n start", []string{"n8n", "start"}, RoleStart},
		{"n8n worker with flags", []string{"n8n", "worker", "--concurrency=5"}, RoleWorker},
		{"n8n webhook", []string{"/usr/local/bin/n8n", "webhook"}, RoleWebhook},
		{"entrypoint alone", []string{"/docker-entrypoint.sh"}, RoleStart},
		{"entrypoint worker", []string{"/docker-entrypoint.sh", "worker"}, RoleWorker},
		{"entrypoint webhook", []string{"/docker-entrypoint.sh", "webhook"}, RoleWebhook},
		{"older image: entrypoint n8n worker", []string{"/docker-entrypoint.sh", "n8n", "worker"}, RoleWorker},
		{"flag first is start", []string{"n8n", "--tunnel"}, RoleStart},
		{"empty argument is start", []string{"n8n", ""}, RoleStart},
		{"cli command passed through", []string{"n8n", "import:credentials", "--input=/x.json"}, Role("import:credentials")},
		{"su-exec wrapper", []string{"su-exec", "node", "n8n", "worker"}, RoleWorker},
		{"su-exec user named n8n", []string{"su-exec", "n8n", "n8n", "webhook"}, RoleWebhook},
		{"node runs n8n", []string{"node", "/usr/local/lib/node_modules/n8n/bin/n8n", "worker"}, RoleWorker},
		{"tini wrapper", []string{"tini", "--", "n8n", "webhook"}, RoleWebhook},
		{"custom script with worker", []string{"/custom-entrypoint.sh", "worker"}, RoleWorker},
		{"sh -c script", []string{"/bin/sh", "-c", "sleep 1 && exec n8n webhook"}, RoleWebhook},
		{"unknown command", []string{"/bin/true"}, RoleStart},
		{"no command", nil, RoleStart},
		{"n8n-like name is not n8n", []string{"n8n-secrets", "check"}, RoleStart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RoleOf(tt.argv); got != tt.want {
				t.Errorf("RoleOf(%q) = %q, want %q", tt.argv, got, tt.want)
			}
		})
	}
}

func TestActive(t *testing.T) {
	withKey := map[string]string{EnvKey: "k"}
	emptyKey := map[string]string{EnvKey: ""}
	noKey := map[string]string{"PATH": "/bin"}
	tests := []struct {
		name string
		mode string
		argv []string
		env  map[string]string
		want bool
	}{
		{"auto n8n", "auto", []string{"n8n", "worker"}, noKey, true},
		{"default is auto", "", []string{"/docker-entrypoint.sh"}, noKey, true},
		{"auto entrypoint path", "auto", []string{"/usr/local/bin/docker-entrypoint.sh", "webhook"}, noKey, true},
		{"auto wrapper", "auto", []string{"su-exec", "node", "n8n"}, noKey, true},
		{"auto other command with key", "auto", []string{"/bin/sh"}, withKey, true},
		{"auto other command with empty key", "auto", []string{"/bin/sh"}, emptyKey, true},
		{"auto other command without key", "auto", []string{"/bin/sh", "-c", "n8n"}, noKey, false},
		{"auto no command", "auto", nil, noKey, false},
		{"postgres image entrypoint", "auto", []string{"docker-entrypoint.sh", "postgres"}, noKey, false},
		{"redis image entrypoint", "auto", []string{"docker-entrypoint.sh", "redis-server", "--appendonly", "yes"}, noKey, false},
		{"entrypoint with n8n command", "auto", []string{"/docker-entrypoint.sh", "import:credentials", "--input=x"}, noKey, true},
		{"entrypoint with flag", "auto", []string{"/docker-entrypoint.sh", "--tunnel"}, noKey, true},
		{"old entrypoint calling n8n", "auto", []string{"/docker-entrypoint.sh", "n8n", "worker"}, noKey, true},
		{"mode is case-insensitive", "AUTO", []string{"n8n"}, noKey, true},
		{"on", "on", []string{"/bin/true"}, noKey, true},
		{"off n8n", "off", []string{"n8n", "worker"}, withKey, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Active(tt.mode, tt.argv, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Active(%q, %q) = %v, want %v", tt.mode, tt.argv, got, tt.want)
			}
		})
	}
}

func TestActiveBadMode(t *testing.T) {
	_, err := Active("yes", []string{"n8n"}, nil)
	if err == nil || !strings.Contains(err.Error(), SettingMode) {
		t.Fatalf("want an error naming %s, got %v", SettingMode, err)
	}
}

func FuzzRoleOf(f *testing.F) {
	for _, s := range []string{
		"n8n", "n8n\x00worker\x00--concurrency=5", "/docker-entrypoint.sh\x00webhook",
		"/docker-entrypoint.sh\x00n8n\x00worker", "su-exec\x00n8n\x00n8n", "/bin/sh\x00-c\x00exec n8n worker", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		argv := strings.Split(s, "\x00")
		role := RoleOf(argv)
		if role == "" || strings.HasPrefix(string(role), "-") {
			t.Fatalf("RoleOf(%q) = %q", argv, role)
		}
		if launcherIndex(argv) >= 0 && len(argv) > 0 {
			// A role found after n8n is one of argv's elements, or start.
			found := role == RoleStart
			for _, a := range argv {
				found = found || Role(a) == role
			}
			if !found {
				t.Fatalf("RoleOf(%q) = %q, not an argument", argv, role)
			}
		}
	})
}
