#!/bin/sh
# redis-start.sh: the entrypoint of the compose example's redis service.
# It starts Redis with the password that vault-init copied from Vault
# (secret/n8n/redis#password) into the redis-secret volume, the same value
# the n8n services resolve from QUEUE_BULL_REDIS_PASSWORD=vault://….
#
# The password reaches redis-server as configuration on its stdin
# ("redis-server -"): it appears neither in a process's argv (ps, docker
# top) nor in the environment. The image's docker-entrypoint.sh then drops
# root for the redis user, as usual.
set -eu
file=${REDIS_PASSWORD_FILE:-/run/secrets/redis_password}
if [ ! -s "$file" ]; then
	echo "redis-start: $file is missing or empty: did vault-init run?" >&2
	exit 1
fi
password=$(cat "$file")
exec docker-entrypoint.sh redis-server - <<EOF_CONF
requirepass $password
EOF_CONF
