#!/bin/sh
# roll.sh compose|swarm|kubernetes …: restarts the n8n nodes so that each
# one resolves its secrets again (n8n-secrets reads them at start only).
# Workers and webhook processors first, the main last.
#
#   roll.sh compose [COMPOSE_FILE]      docker compose up -d --force-recreate
#   roll.sh swarm STACK                 docker service update --force
#   roll.sh kubernetes [NAMESPACE]      kubectl rollout restart
#
# A node whose secrets do not resolve, or whose key has another fingerprint
# than N8N_SECRETS_EXPECT_KEY_FINGERPRINT, does not start (exit 65, 69, 77,
# 78 in its log): the rollout stops there with the others still running
# (Swarm: update_config; Kubernetes: the rolling update of each Deployment).
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
		docker compose -f "$file" up -d --no-deps --force-recreate $s
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
