package audit

import (
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// n8n's configuration declares each setting as a property of a class with
// the environment variable it reads (@n8n/config, and the config classes
// of n8n-core, n8n's modules and its other packages, with the same
// decorator): in the compiled JavaScript, a __decorate call with
// Env('NAME') and the property's type.
var (
	n8nEnvDecl = regexp.MustCompile(`__decorate\(\[\s*\(0, \w+\.Env\)\('([A-Z0-9_]+)'[^\]]*?__metadata\("design:type", (\w+)\)\s*\], (\w+)\.prototype, "(\w+)"`)
	// Variables n8n's core reads from process.env directly.
	n8nProcessEnv = regexp.MustCompile(`process\.env\.([A-Z0-9_]+(?:_SECRET|_TOKEN|_PASSWORD))\b`)
)

// secretProperty reports whether a string property of n8n's
// configuration holds a secret, by what n8n calls it: a password, a pass,
// a secret, a token, an API, account, activation, encryption or private
// key, and two whose use was read in n8n's code. Not secrets: PostHog's
// API key (a public project key n8n ships in its front end), the Sentry
// DSNs (sent to browsers), N8N_SSL_KEY and N8N_SSL_CERT (paths n8n reads
// the files from), PostgreSQL's SSL certificate and CA, the token
// exchange's trusted keys (public keys), the S3 access key (an id; its
// secret is ACCESS_SECRET).
func secretProperty(class, prop string) bool {
	switch class + "." + prop {
	case "PostgresSSLConfig.key": // the key's content: n8n passes it to the PostgreSQL driver
		return true
	case "LicenseConfig.cert": // an ephemeral license certificate, an entitlement
		return true
	case "PostHogConfig.apiKey":
		return false
	}
	p := strings.ToLower(prop)
	for _, s := range []string{"password", "pass", "secret", "token", "apikey", "accountkey", "activationkey", "encryptionkey", "privatekey"} {
		if strings.HasSuffix(p, s) {
			return true
		}
	}
	return false
}

// n8nPackageDirs returns the compiled packages of the n8n installed in
// dir that declare settings: @n8n/config, n8n-core, n8n and n8n's other
// @n8n packages (a copy nested under n8n first, as node resolves it).
func n8nPackageDirs(dir string) []string {
	var out []string
	seen := map[string]bool{}
	for _, nm := range []string{filepath.Join(dir, "node_modules", "n8n", "node_modules"), filepath.Join(dir, "node_modules")} {
		pkgs, _ := filepath.Glob(filepath.Join(nm, "@n8n", "*", "dist"))
		pkgs = append(pkgs, filepath.Join(nm, "n8n-core", "dist"), filepath.Join(nm, "n8n", "dist"))
		for _, p := range pkgs {
			rel, _ := filepath.Rel(nm, p)
			if st, err := os.Stat(p); err == nil && st.IsDir() && !seen[rel] {
				seen[rel] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// secretVarsOf extracts the secret variables of the n8n installed in dir
// (declared settings, and what n8n-core reads from process.env itself),
// and those n8n declares that are named like a secret but hold none.
func secretVarsOf(t *testing.T, dir string) (out, public map[string]string) {
	t.Helper()
	out, public = map[string]string{}, map[string]string{}
	decls := 0
	modules := filepath.Join(dir, "node_modules")
	for _, pkg := range n8nPackageDirs(dir) {
		err := filepath.WalkDir(pkg, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if !strings.Contains(string(data), ".Env)(") && !strings.Contains(string(data), "process.env.") {
				return nil
			}
			rel, _ := filepath.Rel(modules, p)
			pkgName := strings.SplitN(filepath.ToSlash(rel), "/dist/", 2)[0]
			for _, m := range n8nEnvDecl.FindAllStringSubmatch(string(data), -1) {
				decls++
				switch {
				case m[2] == "String" && secretProperty(m[3], m[4]):
					out[m[1]] = pkgName + " " + m[3] + "." + m[4]
				case namedLikeSecret(m[1]):
					public[m[1]] = pkgName + " " + m[3] + "." + m[4]
				}
			}
			if strings.HasSuffix(pkgName, "n8n-core") {
				for _, m := range n8nProcessEnv.FindAllStringSubmatch(string(data), -1) {
					if _, ok := out[m[1]]; !ok {
						out[m[1]] = "process.env in " + filepath.ToSlash(rel)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if decls < 200 {
		t.Fatalf("%s: only %d settings found: the layout of n8n's packages changed", dir, decls)
	}
	for name := range out {
		delete(public, name)
	}
	return out, public
}

// TestN8NSecretVarsFromN8N keeps n8nSecretVars equal to what the real n8n
// (N8NREAL_N8N1, N8NREAL_N8N2: the releases the project tests against)
// declares: `go test ./audit -run TestN8NSecretVarsFromN8N -update`
// regenerates n8nvars_gen.go. Without the installs it skips (in CI, where
// make test installs them, it fails).
func TestN8NSecretVarsFromN8N(t *testing.T) {
	type release struct{ env, version string }
	union := map[string]map[string]string{}    // variable → where (per version)
	unionPub := map[string]map[string]string{} // the same for n8nPublicVars
	var versions []string
	for _, r := range []release{{"N8NREAL_N8N1", "1.x"}, {"N8NREAL_N8N2", "2.x"}} {
		dir := os.Getenv(r.env)
		if dir == "" {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not set: make test installs n8n", r.env)
			}
			t.Skipf("%s is not set: the real n8n is not installed", r.env)
		}
		v := strings.TrimPrefix(filepath.Base(dir), "n8n-")
		versions = append(versions, v)
		secret, public := secretVarsOf(t, dir)
		for name, where := range secret {
			if union[name] == nil {
				union[name] = map[string]string{}
			}
			union[name][v] = where
		}
		for name, where := range public {
			if unionPub[name] == nil {
				unionPub[name] = map[string]string{}
			}
			unionPub[name][v] = where
		}
	}
	for name := range union {
		delete(unionPub, name) // a secret in one release is a secret
	}
	var b strings.Builder
	b.WriteString("// Code generated by TestN8NSecretVarsFromN8N from the real n8n; DO NOT EDIT.\n\npackage audit\n\n")
	fmt.Fprintf(&b, "// n8nReleases are the n8n releases the lists below were read from.\nvar n8nReleases = %#v\n\n", versions)
	b.WriteString("// n8nSecretVars are the variables n8n's own configuration says hold a\n// secret (see secretProperty in n8nvars_test.go), with where n8n declares them.\n")
	writeVarMap(&b, "n8nSecretVars", union, versions)
	b.WriteString("\n// n8nPublicVars are variables n8n declares that are named like a secret\n// but, by n8n's configuration, hold none.\n")
	writeVarMap(&b, "n8nPublicVars", unionPub, versions)
	src, err := format.Source([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	const p = "n8nvars_gen.go"
	old, _ := os.ReadFile(p)
	if string(old) == string(src) {
		return
	}
	if *update {
		if err := os.WriteFile(p, src, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s differs from what n8n %v declares: run go test ./audit -run TestN8NSecretVarsFromN8N -update", p, versions)
}

// writeVarMap writes a Go map of variables to where the releases declare
// them, one place per release group.
func writeVarMap(b *strings.Builder, name string, vars map[string]map[string]string, versions []string) {
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(b, "var %s = map[string]string{\n", name)
	for _, n := range names {
		var order []string
		in := map[string][]string{}
		for _, v := range versions {
			if w, ok := vars[n][v]; ok {
				if in[w] == nil {
					order = append(order, w)
				}
				in[w] = append(in[w], v)
			}
		}
		var where []string
		for _, w := range order {
			where = append(where, w+" ("+strings.Join(in[w], ", ")+")")
		}
		fmt.Fprintf(b, "\t%q: %q,\n", n, strings.Join(where, "; "))
	}
	b.WriteString("}\n")
}

// n8nVarsDoc renders the list of n8n's secret variables for docs/audit.md.
func n8nVarsDoc() string {
	names := make([]string, 0, len(n8nSecretVars))
	for n := range n8nSecretVars {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "From n8n's own configuration, read in the releases the project tests against (%s): every\n", strings.Join(n8nReleases, ", "))
	b.WriteString("string setting declared with n8n's `Env` decorator (in `@n8n/config`, `n8n-core`, n8n's modules and\n")
	b.WriteString("its other packages) that n8n calls a password, pass, secret, token, or an API, account, activation,\n")
	b.WriteString("encryption or private key, PostgreSQL's SSL key (n8n passes its content to the driver) and the\n")
	b.WriteString("license certificate, and the secrets n8n's core reads from the environment itself; not PostHog's\n")
	b.WriteString("public project key, the Sentry DSNs, the S3 access key id or `N8N_SSL_KEY` (a path).\n")
	b.WriteString("`TestN8NSecretVarsFromN8N` regenerates the list from the installed n8n and fails when it drifts:\n\n")
	b.WriteString("| variable | declared in n8n |\n|---|---|\n")
	for _, n := range names {
		fmt.Fprintf(&b, "| `%s` | %s |\n", n, n8nSecretVars[n])
	}
	pub := make([]string, 0, len(n8nPublicVars))
	for n := range n8nPublicVars {
		pub = append(pub, n)
	}
	sort.Strings(pub)
	if len(pub) > 0 {
		b.WriteString("\nNamed like secrets, but none by n8n's configuration: ")
		for i, n := range pub {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "`%s`", n)
		}
		b.WriteString(".\n")
	}
	return b.String()
}

// TestN8NVarsInDocs keeps the list in docs/audit.md equal to
// n8nSecretVars.
func TestN8NVarsInDocs(t *testing.T) {
	replaceGenerated(t, filepath.Join("..", "docs", "audit.md"), "<!-- n8n-vars: generated", "<!-- end n8n-vars -->", n8nVarsDoc())
}
