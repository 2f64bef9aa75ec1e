#!/bin/sh
# rotate-compose.sh db|redis: rotates the Postgres or the Redis password of
# the compose example (examples/compose), end to end. Run it from that
# directory: ../rotate/rotate-compose.sh db
#
#   1. a new random password;
#   2. the server takes it: ALTER ROLE (Postgres) or CONFIG SET requirepass
#      (Redis). Open connections stay up; new ones need the new password;
#   3. Vault gets it as a new version of secret/n8n/db or secret/n8n/redis
#      (vault-kv-patch.sh, through Vault's port on the host's loopback);
#   4. vault-init runs again: it copies the new value into the file the
#      server reads when it restarts, and issues a new AppRole secret id;
#   5. roll.sh restarts the n8n nodes, which resolve the new version;
#   6. verify.sh checks that every node runs with the same encryption key
#      and that every reference resolves.
#
# Between 2 and 5, an n8n node that opens a new connection fails until it is
# restarted: run this in a quiet moment, or use two database roles in
# turn. The encryption key is not rotated here: a new N8N_ENCRYPTION_KEY
# means re-encrypting every credential n8n stored (a later
# `n8n-secrets rekey`); these steps only check that it stays the same.
set -eu
umask 077

here=$(cd "$(dirname "$0")" && pwd)
file=${COMPOSE_FILE:-compose.yaml}
[ -f "$file" ] || {
	echo "$0: run it from examples/compose (no $file here)" >&2
	exit 64
}
what=${1:-}
case $what in
db | redis) ;;
*)
	echo "usage: $0 db|redis" >&2
	exit 64
	;;
esac

dc() { docker compose -f "$file" "$@"; }

# The root token that vault-init keeps (demo only), without printing it.
VAULT_TOKEN=$(dc run --rm -T --no-deps --entrypoint cat vault-init /state/root_token)
VAULT_ADDR=${VAULT_ADDR:-http://127.0.0.1:8200}
export VAULT_TOKEN VAULT_ADDR

new=$(head -c 96 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | cut -c1-32)
[ "${#new}" -ge 24 ] || {
	echo "$0: could not generate a password" >&2
	exit 1
}

# Values go through stdin, never in a command line.
case $what in
db)
	echo "== Postgres: ALTER ROLE n8n"
	printf "ALTER ROLE n8n WITH PASSWORD '%s';\n" "$new" |
		dc exec -T postgres psql -q -v ON_ERROR_STOP=1 -U n8n -d n8n
	;;
redis)
	echo "== Redis: CONFIG SET requirepass"
	# shellcheck disable=SC2016 # $(cat …) runs in the container
	printf 'CONFIG SET requirepass %s\n' "$new" |
		dc exec -T redis sh -c 'REDISCLI_AUTH="$(cat /run/secrets/redis_password)" redis-cli' |
		grep -q '^OK$' || {
		echo "$0: Redis did not take the new password" >&2
		exit 1
	}
	;;
esac

echo "== Vault: new version of secret/n8n/$what"
printf '%s' "$new" | "$here/vault-kv-patch.sh" "secret/n8n/$what" password
unset new

echo "== vault-init: refresh the password files and the AppRole secret id"
dc run --rm --no-deps vault-init

echo "== restart the n8n nodes"
"$here/roll.sh" compose "$file"

echo "== verify"
"$here/verify.sh" compose "$file"
