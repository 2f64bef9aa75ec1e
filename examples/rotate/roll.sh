#!/bin/sh
# roll.sh compose|swarm|kubernetes …: restarts the n8n nodes so that each
# one resolves its secrets again (n8n-secrets reads them at start only).
# Workers and webhook processors first, the main last.
#
#   roll.sh compose [COMPOSE_FILE]      docker compose up -d --force-recreate --wait
#   roll.sh swarm STACK                 docker service update --force
#   roll.sh kubernetes [NAMESPACE]      kubectl rollout restart + rollout status
#
# Each service is restarted only once the one before is healthy: Compose
# waits for the service's healthcheck (--wait, at most WAIT_TIMEOUT
# seconds, 300), Swarm for the update to converge, Kubernetes for the
# rollout. A node whose secrets do not resolve, or whose key has another
# fingerprint than N8N_SECRETS_EXPECT_KEY_FINGERPRINT, does not start (exit
# 65, 69, 77, 78 in its log), so it never becomes healthy: the rollout
# stops there with an error, and the services not yet restarted keep
# running as they were.
set -eu

SERVICES=${N8N_SERVICES:-"n8n-worker n8n-webhook n8n"}

usage() {
	echo "usage: $0 compose [COMPOSE_FILE] | swarm STACK | kubernetes [NAMESPACE]" >&2
	exit 64
}
[ $# -ge 1 ] || usage
platform=$1
shift
case $platform in
compose)
	file=${1:-compose.yaml}
	for s in $SERVICES; do
		echo "roll: $s"
		# shellcheck disable=SC2086 # one word per service
		if ! docker compose -f "$file" up -d --no-deps --force-recreate --wait --wait-timeout "${WAIT_TIMEOUT:-300}" $s; then
			echo "roll: $s did not become healthy: stopping here (see: docker compose -f $file logs $s)" >&2
			exit 1
		fi
	done
	;;
swarm)
	[ $# -ge 1 ] || usage
	for s in $SERVICES; do
		echo "roll: $1_$s"
		docker service update --force --detach=false --quiet "$1_$s"
	done
	;;
kubernetes)
	ns=${1:-n8n}
	for s in $SERVICES; do
		echo "roll: deployment/$s"
		kubectl -n "$ns" rollout restart "deployment/$s"
		kubectl -n "$ns" rollout status "deployment/$s" --timeout=10m
	done
	;;
*) usage ;;
esac
