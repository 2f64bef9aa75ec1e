#!/bin/sh
# vault-kv-patch.sh MOUNT/PATH KEY [--generate | --from-version N]
#
# Writes a new version of a KV v2 secret in which KEY has a new value and
# every other key keeps its value (HTTP PATCH with a JSON merge patch: Vault
# 1.9 or later, and the "patch" capability on MOUNT/data/PATH). The new
# value is read from stdin (one trailing newline dropped), generated with
# --generate (32 letters and digits), or, with --from-version N, KEY's value
# in version N (a rollback of one key: it also needs "read"). It prints the
# new version number, never the value. The previous versions stay readable:
# a node can be pointed back at one with vault://MOUNT/PATH?version=N#KEY.
#
# With the vault CLI, the same is:  vault kv patch MOUNT/PATH KEY=-  (stdin)
#
# Settings: VAULT_ADDR, VAULT_TOKEN or VAULT_TOKEN_FILE, VAULT_CACERT
# (optional). KV_MOUNT names the mount when it is more than the first
# segment of MOUNT/PATH.
#
#   printf %s "$new" | ./vault-kv-patch.sh secret/n8n/db password
#   ./vault-kv-patch.sh secret/n8n/redis password --generate
set -eu
umask 077

usage() {
	echo "usage: $0 MOUNT/PATH KEY [--generate | --from-version N]  (new value on stdin otherwise)" >&2
	exit 64
}
[ $# -ge 2 ] || usage
path=$1 key=$2
source=stdin
from=""
case $# in
2) ;;
3)
	[ "$3" = --generate ] || usage
	source=generate
	;;
4)
	[ "$3" = --from-version ] || usage
	case $4 in '' | *[!0-9]*) usage ;; esac
	source=version
	from=$4
	;;
*) usage ;;
esac
: "${VAULT_ADDR:?set VAULT_ADDR}"
token=${VAULT_TOKEN:-}
if [ -z "$token" ] && [ -n "${VAULT_TOKEN_FILE:-}" ]; then token=$(cat "$VAULT_TOKEN_FILE"); fi
[ -n "$token" ] || {
	echo "$0: set VAULT_TOKEN or VAULT_TOKEN_FILE" >&2
	exit 64
}
mount=${KV_MOUNT:-${path%%/*}}
rest=${path#"$mount"/}
if [ "$rest" = "$path" ] || [ -z "$rest" ]; then
	echo "$0: $path is not under the mount $mount" >&2
	exit 64
fi
case $key in
'' | *[!A-Za-z0-9_.-]*)
	echo "$0: KEY must be letters, digits, '_', '.' or '-'" >&2
	exit 64
	;;
esac

case $source in
generate) value=$(head -c 96 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | cut -c1-32) ;;
stdin) value=$(cat) ;;
version)
	# KEY's value in version N, from a GET whose answer stays in this
	# shell (the token reaches curl on stdin). The values this script
	# writes hold no quote or backslash, so the JSON string ends at the
	# next quote.
	got=$(printf 'header = "X-Vault-Token: %s"\n' "$token" |
		curl -sS --max-time 15 ${VAULT_CACERT:+--cacert "$VAULT_CACERT"} -K - -w '\n%{http_code}' \
			"${VAULT_ADDR%/}/v1/$mount/data/$rest?version=$from")
	if [ "$(printf '%s\n' "$got" | tail -n 1)" != 200 ]; then
		unset got
		echo "$0: GET $mount/data/$rest?version=$from failed" >&2
		exit 1
	fi
	value=$(printf '%s\n' "$got" | sed '$d' | sed -n "s/.*\"data\":{\"data\":{[^}]*\"$key\":\"\([^\"\\\\]*\)\".*/\1/p" | head -n 1)
	unset got
	[ -n "$value" ] || {
		echo "$0: version $from of $mount/$rest has no string $key" >&2
		exit 65
	}
	;;
esac
# The value goes into JSON as it is: refuse what would need escaping.
case $value in
'' | *[\"\\]*)
	echo "$0: the value must not be empty or hold quotes or backslashes" >&2
	exit 65
	;;
esac
if [ "$(printf '%s' "$value" | tr -d '\000-\037\177')" != "$value" ]; then
	echo "$0: the value must not hold control characters" >&2
	exit 65
fi

# Token and value reach curl on stdin (-K -), not in its argv.
body="{\"data\":{\"$key\":\"$value\"}}"
out=$(
	{
		printf 'header = "X-Vault-Token: %s"\n' "$token"
		printf 'data-binary = "%s"\n' "$(printf '%s' "$body" | sed 's/\\/\\\\/g; s/"/\\"/g')"
	} | curl -sS --max-time 15 ${VAULT_CACERT:+--cacert "$VAULT_CACERT"} -X PATCH \
		-H 'Content-Type: application/merge-patch+json' -K - -w '\n%{http_code}' \
		"${VAULT_ADDR%/}/v1/$mount/data/$rest"
)
unset value body token
code=$(printf '%s\n' "$out" | tail -n 1)
case $code in
2??) ;;
*)
	echo "$0: PATCH $mount/data/$rest: HTTP $code: $(printf '%s\n' "$out" | sed '$d' | sed -n 's/.*"errors":\[\([^]]*\)\].*/\1/p' | cut -c1-300)" >&2
	[ "$code" != 404 ] || echo "$0: PATCH changes an existing secret; create it first (vault kv put)" >&2
	exit 1
	;;
esac
version=$(printf '%s\n' "$out" | sed -n 's/.*"version":\([0-9][0-9]*\).*/\1/p' | head -n 1)
echo "$mount/$rest: $key written as version ${version:-?}"
