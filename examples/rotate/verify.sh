#!/bin/sh
# verify.sh compose|swarm|kubernetes …: checks that every n8n node runs with
# the same encryption key and that each service's secrets resolve now.
#
#   verify.sh compose [COMPOSE_FILE]
#   verify.sh swarm STACK             (exec checks: tasks on this node only)
#   verify.sh kubernetes [NAMESPACE]
#
# 1. For every running node: the fingerprint of the encryption key that its
#    n8n-secrets logged when it started (n8n_key_fingerprint, in the "exec"
#    event). All must be equal, and equal to EXPECT_FINGERPRINT when that is
#    set. Pin it on every node with N8N_SECRETS_EXPECT_KEY_FINGERPRINT: a
#    node with another key then refuses to start (exit 78).
# 2. In one container of each service: `n8n-secrets check --role ROLE`
#    (every reference resolves now, the n8n guard is satisfied) and
#    `n8n-secrets fingerprint` (the key the store holds now), which must be
#    the fingerprint the nodes logged. Both run with the container's own
#    settings and credentials, and print no value.
#
# Exit 0 when all agree, 1 otherwise. Fingerprints only, never a value.
set -eu

SERVICES=${N8N_SERVICES:-"n8n n8n-worker n8n-webhook"}
EXPECT_FINGERPRINT=${EXPECT_FINGERPRINT:-}

usage() {
	echo "usage: $0 compose [COMPOSE_FILE] | swarm STACK | kubernetes [NAMESPACE]" >&2
	exit 64
}
[ $# -ge 1 ] || usage
platform=$1
shift
case $platform in
compose) file=${1:-compose.yaml} ;;
swarm)
	[ $# -ge 1 ] || usage
	stack=$1
	;;
kubernetes) ns=${1:-n8n} ;;
*) usage ;;
esac

role_of() {
	case $1 in
	*worker*) echo worker ;;
	*webhook*) echo webhook ;;
	*) echo start ;;
	esac
}

component_of() {
	case $(role_of "$1") in
	start) echo main ;;
	*) role_of "$1" ;;
	esac
}

# nodes SERVICE: the running containers, tasks or pods of SERVICE.
nodes() {
	case $platform in
	compose) docker compose -f "$file" ps -q "$1" ;;
	swarm) docker service ps -q --filter desired-state=running "${stack}_$1" ;;
	kubernetes)
		kubectl -n "$ns" get pods -o name --field-selector=status.phase=Running \
			-l "app.kubernetes.io/name=n8n,app.kubernetes.io/component=$(component_of "$1")"
		;;
	esac
}

# logs NODE: what the node wrote since it started.
logs() {
	case $platform in
	compose) docker logs "$1" 2>&1 ;;
	swarm) docker service logs --raw "$1" 2>&1 ;;
	kubernetes) kubectl -n "$ns" logs "$1" 2>&1 ;;
	esac
}

# run_in SERVICE ARGS…: runs n8n-secrets ARGS… in one container of SERVICE.
run_in() {
	_s=$1
	shift
	case $platform in
	compose) docker compose -f "$file" exec -T "$_s" n8n-secrets "$@" ;;
	swarm)
		_c=$(docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_$_s" | head -n 1)
		if [ -z "$_c" ]; then
			echo "(no task of ${stack}_$_s on this node: run verify.sh on a node that has one)"
			return 0
		fi
		docker exec "$_c" n8n-secrets "$@"
		;;
	kubernetes) kubectl -n "$ns" exec "deployment/$_s" -- n8n-secrets "$@" ;;
	esac
}

# fingerprint_in_logs: the last fingerprint logged (JSON or text logs).
fingerprint_in_logs() {
	sed -n -e 's/.*"n8n_key_fingerprint":"\([0-9a-f]\{16\}\)".*/\1/p' \
		-e 's/.*n8n_key_fingerprint=\([0-9a-f]\{16\}\).*/\1/p' | tail -n 1
}

status=0
seen=""
fail() {
	echo "FAIL: $*"
	status=1
}
note() {
	if [ -z "$seen" ]; then
		seen=$1
	elif [ "$seen" != "$1" ]; then
		fail "$2 has key fingerprint $1, another node has $seen"
	fi
}

echo "== key fingerprints logged at start"
for s in $SERVICES; do
	n=0
	for node in $(nodes "$s"); do
		n=$((n + 1))
		fp=$(logs "$node" | fingerprint_in_logs)
		if [ -z "$fp" ]; then
			fail "$s $node: no n8n_key_fingerprint in its log (not started by n8n-secrets, or the log was rotated)"
			continue
		fi
		echo "$s $node $fp"
		note "$fp" "$s $node"
	done
	[ "$n" -gt 0 ] || fail "$s: no running node"
done
if [ -n "$EXPECT_FINGERPRINT" ] && [ -n "$seen" ] && [ "$seen" != "$EXPECT_FINGERPRINT" ]; then
	fail "the nodes have key fingerprint $seen, EXPECT_FINGERPRINT is $EXPECT_FINGERPRINT"
fi

for s in $SERVICES; do
	role=$(role_of "$s")
	echo "== $s: n8n-secrets check --role $role"
	if ! run_in "$s" check --role "$role"; then
		fail "$s: n8n-secrets check failed"
	fi
	fp=$(run_in "$s" fingerprint) || {
		fail "$s: n8n-secrets fingerprint failed"
		continue
	}
	case $fp in
	"(no task"*) continue ;;
	esac
	echo "$s: the store's key has fingerprint $fp"
	if [ -n "$seen" ] && [ "$fp" != "$seen" ]; then
		fail "$s: the store's key ($fp) is not the one the nodes run with ($seen): restart them, or put the old key back"
	fi
done

if [ "$status" -eq 0 ]; then
	echo "ok: every node runs with key fingerprint $seen"
	echo "pin it: N8N_SECRETS_EXPECT_KEY_FINGERPRINT=$seen"
fi
exit "$status"
