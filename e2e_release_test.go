package main

// `make release`, twice, from two clones of the repository in different
// directories: every file of dist/ (the binaries, their SBOMs, SHA256SUMS)
// must be the same bytes. Then what a user checks: the sums, a static
// binary per platform with the version stamped and the commit in its build
// information, and an SBOM that lists the modules the binary holds.

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
)

// releaseTool returns cyclonedx-gomod, as the examples' tests find tools.
func releaseTool(t *testing.T) string {
	t.Helper()
	p := os.Getenv("CYCLONEDX_GOMOD_BIN")
	if p == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache")
		}
		mk, err := os.ReadFile("Makefile")
		if err != nil {
			t.Fatal(err)
		}
		var version string
		for _, l := range strings.Split(string(mk), "\n") {
			if f := strings.Fields(l); len(f) == 3 && f[0] == "CYCLONEDX_VERSION" && f[1] == ":=" {
				version = f[2]
			}
		}
		p = filepath.Join(cache, "n8n-secrets", "cyclonedx-gomod-"+version, "cyclonedx-gomod")
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cyclonedx-gomod is not built (%s): `make tools` builds it", p)
		}
		t.Skipf("cyclonedx-gomod is not built (%s): run `make tools`", p)
	}
	return p
}

func TestReleaseReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the release twice")
	}
	sbomTool := releaseTool(t)
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("not a git checkout: %v", err)
		}
		t.Skipf("not a git checkout: %v", err)
	}
	const version = "v0.0.0-repro"
	// Two clones of HEAD at paths of different lengths.
	dirs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "another", "place")}
	sums := make([][]byte, 2)
	for i, d := range dirs {
		if out, err := exec.Command("git", "clone", "--quiet", "--no-hardlinks", ".", d).CombinedOutput(); err != nil {
			t.Fatalf("git clone: %v\n%s", err, out)
		}
		mk := exec.Command("make", "release", "VERSION="+version, "CYCLONEDX="+sbomTool)
		mk.Dir = d
		if out, err := mk.CombinedOutput(); err != nil {
			t.Fatalf("make release in %s: %v\n%s", d, err, out)
		}
		if sums[i], err = os.ReadFile(filepath.Join(d, "dist", "SHA256SUMS")); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(sums[0], sums[1]) {
		t.Fatalf("two release builds differ:\n%s\n%s", sums[0], sums[1])
	}
	dist := filepath.Join(dirs[0], "dist")
	names := []string{}
	for _, l := range strings.Split(strings.TrimSpace(string(sums[0])), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			t.Fatalf("SHA256SUMS: line %q", l)
		}
		names = append(names, f[1])
	}
	sort.Strings(names)
	var want []string
	for _, p := range []string{"darwin_amd64", "darwin_arm64", "linux_amd64", "linux_arm64"} {
		b := "n8n-secrets_" + version + "_" + p
		want = append(want, b, b+".cdx.json")
	}
	if !slices.Equal(names, want) {
		t.Fatalf("dist/ holds %v, want %v", names, want)
	}
	check := exec.Command("sha256sum", "--check", "--strict", "SHA256SUMS")
	check.Dir = dist
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum --check: %v\n%s", err, out)
	}

	for _, name := range names {
		p := filepath.Join(dist, name)
		st, _ := os.Stat(p)
		if strings.HasSuffix(name, ".cdx.json") {
			checkSBOM(t, p, version)
			continue
		}
		t.Logf("%s: %d bytes", name, st.Size())
		bi, err := buildinfo.ReadFile(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		osArch := strings.TrimPrefix(name, "n8n-secrets_"+version+"_")
		// -trimpath leaves -ldflags out of the build information: the
		// stamped version is looked for in the binary itself.
		if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" || settings["GOOS"]+"_"+settings["GOARCH"] != osArch ||
			settings["vcs.revision"] != strings.TrimSpace(string(head)) || settings["vcs.modified"] != "false" {
			t.Errorf("%s: build settings %v: want CGO_ENABLED=0, -trimpath, %s and the commit, unmodified", name, settings, osArch)
		}
		if bin, err := os.ReadFile(p); err != nil || !bytes.Contains(bin, []byte(version)) {
			t.Errorf("%s: the version %s is not stamped in it (%v)", name, version, err)
		}
		if strings.HasPrefix(osArch, "linux_") {
			f, err := elf.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, prog := range f.Progs {
				if prog.Type == elf.PT_INTERP || prog.Type == elf.PT_DYNAMIC {
					t.Errorf("%s is not static (it has a %v program header)", name, prog.Type)
				}
			}
			f.Close()
		}
		if osArch == runtime.GOOS+"_"+runtime.GOARCH {
			out, err := exec.Command(p, "version").Output()
			if err != nil || strings.TrimSpace(string(out)) != "n8n-secrets "+version {
				t.Errorf("%s version: %q, %v", name, out, err)
			}
		}
	}
}

// checkSBOM checks a CycloneDX SBOM against the binary it describes: the
// main component at the version, and every module of the binary's build
// information as a component at its version.
func checkSBOM(t *testing.T, path, version string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		BOMFormat    string `json:"bomFormat"`
		SerialNumber string `json:"serialNumber"`
		Metadata     struct {
			Timestamp string `json:"timestamp"`
			Component struct {
				Name    string `json:"name"`
				Version string `json:"version"`
			} `json:"component"`
		} `json:"metadata"`
		Components []struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			PURL    string `json:"purl"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &bom); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.Metadata.Component.Version != version || !strings.HasSuffix(bom.Metadata.Component.Name, "n8n-secrets") {
		t.Errorf("%s: format %q, main component %s %s", filepath.Base(path), bom.BOMFormat, bom.Metadata.Component.Name, bom.Metadata.Component.Version)
	}
	if bom.SerialNumber != "" || bom.Metadata.Timestamp != "" {
		t.Errorf("%s: a serial number or a timestamp: two builds would differ", filepath.Base(path))
	}
	bi, err := buildinfo.ReadFile(strings.TrimSuffix(path, ".cdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	for _, c := range bom.Components {
		have[c.Name] = c.Version
	}
	for _, d := range bi.Deps {
		if have[d.Path] != d.Version {
			t.Errorf("%s: module %s %s is in the binary, the SBOM says %q", filepath.Base(path), d.Path, d.Version, have[d.Path])
		}
	}
	if len(bi.Deps) < 20 {
		t.Errorf("%s: the binary lists %d modules: is the build information there?", filepath.Base(path), len(bi.Deps))
	}
}
