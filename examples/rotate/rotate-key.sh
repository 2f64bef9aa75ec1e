#!/bin/sh
# rotate-key.sh [--rewrap-only] compose [COMPOSE_FILE] | swarm STACK | kubernetes [NAMESPACE]
#
# Rotates n8n's encryption key (N8N_ENCRYPTION_KEY) of the examples in
# ../compose, ../swarm and ../kubernetes (vault-auth.yaml): every value n8n
# encrypted (credentials, MFA secrets, encrypted settings, 2.x data keys) is
# re-encrypted under a new key by `n8n-secrets rekey`.
#
#   1. a new random key (32 bytes, base64), written as a new version of the
#      secret the nodes read: compose and kubernetes, a new version of
#      secret/n8n/core#encryption_key in Vault (vault-kv-patch.sh); swarm, a
#      new Docker secret n8n_encryption_key_v<N+1>. The key passes through
#      a pipe, never a command line, a file or the output;
#   2. stop every node: main, workers, webhook processors (none may write
#      with the old key while the database changes: rekey refuses to run
#      while one holds the database);
#   3. `n8n-secrets rekey --from <old version> --to <new version> --apply`,
#      once, in a one-off container with the main's settings: one
#      transaction, every value or none. With --rewrap-only (n8n 2.x
#      databases whose values are all under data keys; routine rotations,
#      not after a leak) only deployment_key is re-wrapped, in a tiny
#      transaction; rekey refuses it on any other database. If it fails,
#      nothing was written:
#      the old key is made current again (compose, kubernetes: its value
#      becomes the newest version; swarm: the services still name the old
#      secret) and the nodes start with it;
#   4. pin the new key's fingerprint (N8N_SECRETS_EXPECT_KEY_FINGERPRINT):
#      compose, .env next to the compose file (N8N_KEY_FINGERPRINT); swarm,
#      the services' environment; kubernetes, the ConfigMap n8n-env. A node
#      given another key refuses to start (exit 78). compose only: the
#      main's volume keeps n8n's settings file (~/.n8n/config), which holds
#      the old key; it is removed, and n8n writes it again from the new key
#      (`rekey --update-settings-file`, run where that volume is mounted,
#      would rewrite it with the new key instead);
#   5. start the main, then the workers and webhook processors, each
#      waited for (compose up --wait: healthy when the service has a
#      healthcheck; Swarm: running; Kubernetes: rollout status, ready);
#   6. `n8n-secrets verify-key` on every node (each decrypts what the
#      database holds with the key it runs with), then verify.sh (the same
#      fingerprint everywhere, the pinned one).
#
# n8n is down from 2 to 5: a rotation of the encryption key cannot be done
# with zero downtime (../README.md, "The encryption key", has the
# measured window). Run it in a quiet moment.
#
# Settings:
#   compose: VAULT_ADDR (http://127.0.0.1:8200), and the root token that
#     vault-init keeps (demo) unless VAULT_TOKEN is set.
#   swarm: ENCRYPTION_KEY_VERSION, the version the stack runs now (1), and
#     DB_PASSWORD_VERSION (1), for the one-off rekey task.
#   kubernetes: VAULT_ADDR and VAULT_TOKEN (a token that may patch and read
#     secret/n8n/core); REKEY_JOB, the Job manifest (../kubernetes/rekey-job.yaml).
#   N8N_SERVICES: the n8n services, main first ("n8n n8n-worker n8n-webhook").
set -eu
umask 077

here=$(cd "$(dirname "$0")" && pwd)
SERVICES=${N8N_SERVICES:-"n8n n8n-worker n8n-webhook"}
KV_PATH=secret/n8n/core
KV_KEY=encryption_key

usage() {
	echo "usage: $0 [--rewrap-only] compose [COMPOSE_FILE] | swarm STACK | kubernetes [NAMESPACE]" >&2
	exit 64
}
rewrap=false
if [ "${1:-}" = --rewrap-only ]; then
	rewrap=true
	shift
fi
[ $# -ge 1 ] || usage
platform=$1
shift
case $platform in
compose)
	file=${1:-compose.yaml}
	[ -f "$file" ] || {
		echo "$0: run it from examples/compose (no $file here)" >&2
		exit 64
	}
	;;
swarm)
	[ $# -ge 1 ] || usage
	stack=$1
	;;
kubernetes)
	ns=${1:-n8n}
	job=${REKEY_JOB:-$here/../kubernetes/rekey-job.yaml}
	;;
*) usage ;;
esac

say() { echo "== $*"; }
now() { date +%s; }
dc() { docker compose -f "$file" "$@"; }

# newkey: 32 random bytes, base64 (what `n8n-secrets keygen` prints).
newkey() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }

# fingerprint: reads a key on stdin, prints its fingerprint as n8n-secrets
# computes it (n8n/fingerprint.go): the first 16 hex digits of
# SHA-256("n8n-secrets/encryption-key-fingerprint/v1" NUL key).
fingerprint() {
	{
		printf 'n8n-secrets/encryption-key-fingerprint/v1\000'
		cat
	} | if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi | cut -c1-16
}

# main: the first service (the main runs the migrations; it starts first).
main=${SERVICES%% *}

# ---- 0. an earlier run interrupted? ------------------------------------------

# A run stopped between its steps (Ctrl-C during the wait for the pods, a
# lost CI runner) leaves the nodes stopped and, in the store, a new key
# version nothing is encrypted with. Run again, this script would take
# that version for the database's, write yet another, and on failure make
# the unused one current and start the nodes with 0 replicas. So every
# node must be running before anything is written.
interrupted() {
	echo "$0: $1: an earlier rotation stopped it and did not finish? Nothing was changed now." >&2
	echo "  Find the key version the database is under (n8n-secrets verify-key with N8N_ENCRYPTION_KEY=vault://$KV_PATH?version=N#$KV_KEY," >&2
	echo "  or the Docker secret the stack named), make it current (vault-kv-patch.sh $KV_PATH $KV_KEY --from-version N; on Swarm," >&2
	echo "  ENCRYPTION_KEY_VERSION=N), start every node, then run this again." >&2
	exit 1
}
for s in $SERVICES; do
	case $platform in
	compose) [ -n "$(dc ps -q "$s")" ] || interrupted "service $s is not running (0 replicas)" ;;
	swarm)
		n=$(docker service inspect --format '{{.Spec.Mode.Replicated.Replicas}}' "${stack}_$s")
		[ "$n" != 0 ] || interrupted "service ${stack}_$s has 0 replicas"
		;;
	kubernetes)
		n=$(kubectl -n "$ns" get "deployment/$s" -o 'jsonpath={.spec.replicas}')
		[ "$n" != 0 ] || interrupted "deployment/$s has 0 replicas"
		;;
	esac
done

# ---- 1. the new key -------------------------------------------------------

# The key is generated here and goes straight into the store's client; its
# fingerprint is computed from the same pipe (tee to a FIFO would need a
# file: the key is held in a variable of this shell for the two reads, as
# vault-kv-patch.sh holds a value).
key=$(newkey)
fp=$(printf '%s' "$key" | fingerprint)
case $platform in
compose | kubernetes)
	if [ "$platform" = compose ]; then
		# The root token that vault-init keeps (demo only), without printing it.
		VAULT_TOKEN=${VAULT_TOKEN:-$(dc run --rm -T --no-deps --entrypoint cat vault-init /state/root_token)}
		VAULT_ADDR=${VAULT_ADDR:-http://127.0.0.1:8200}
	fi
	: "${VAULT_ADDR:?set VAULT_ADDR}" "${VAULT_TOKEN:?set VAULT_TOKEN}"
	export VAULT_ADDR VAULT_TOKEN
	say "Vault: the new key as a new version of $KV_PATH#$KV_KEY"
	out=$(printf '%s' "$key" | "$here/vault-kv-patch.sh" "$KV_PATH" "$KV_KEY")
	echo "$out"
	new=$(printf '%s\n' "$out" | sed -n 's/.* written as version \([0-9][0-9]*\)$/\1/p')
	case $new in
	'' | 1)
		echo "$0: Vault did not report a new version of $KV_PATH" >&2
		exit 1
		;;
	esac
	old=$((new - 1))
	from="vault://$KV_PATH?version=$old#$KV_KEY"
	to="vault://$KV_PATH?version=$new#$KV_KEY"
	;;
swarm)
	old=${ENCRYPTION_KEY_VERSION:-1}
	new=$((old + 1))
	say "Docker: the new key as the secret n8n_encryption_key_v$new"
	printf '%s' "$key" | docker secret create "n8n_encryption_key_v$new" - >/dev/null
	from=file:n8n_encryption_key_old
	to=file:n8n_encryption_key_new
	;;
esac
unset key
echo "new key: version $new, fingerprint $fp (the database is under version $old)"

# ---- 2. stop every node ---------------------------------------------------

t_stop=$(now)
say "stop every n8n node"
case $platform in
compose)
	# shellcheck disable=SC2086 # one word per service
	dc stop $SERVICES
	;;
swarm)
	replicas=""
	for s in $SERVICES; do
		replicas="$replicas $s=$(docker service inspect --format '{{.Spec.Mode.Replicated.Replicas}}' "${stack}_$s")"
		docker service scale --detach=false "${stack}_$s=0" >/dev/null
	done
	;;
kubernetes)
	replicas=""
	for s in $SERVICES; do
		replicas="$replicas $s=$(kubectl -n "$ns" get "deployment/$s" -o 'jsonpath={.spec.replicas}')"
		kubectl -n "$ns" scale "deployment/$s" --replicas=0
	done
	# Until every n8n pod is gone (terminating pods still hold the database).
	i=0
	while [ -n "$(kubectl -n "$ns" get pods -o name -l app.kubernetes.io/name=n8n)" ]; do
		i=$((i + 1))
		[ "$i" -le 300 ] || {
			echo "$0: n8n pods still running after 10 minutes; nothing was changed in the database" >&2
			exit 1
		}
		sleep 2
	done
	;;
esac

# ---- 3. rekey ---------------------------------------------------------------

t_rekey=$(now)
say "n8n-secrets rekey --from $from --to $to --apply --rewrap-only=$rewrap"
status=0
case $platform in
compose)
	dc run --rm -T --no-deps --entrypoint n8n-secrets "$main" rekey --from "$from" --to "$to" --apply --rewrap-only="$rewrap" || status=$?
	;;
swarm)
	# A one-off task with the main's image and database settings, and both
	# key versions as secrets.
	image=$(docker service inspect --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' "${stack}_$main")
	set --
	for kv in $(docker service inspect --format '{{range .Spec.TaskTemplate.ContainerSpec.Env}}{{println .}}{{end}}' "${stack}_$main" | grep '^DB_'); do
		set -- "$@" --env "$kv"
	done
	owner=uid=1000,gid=1000,mode=0400
	docker service create --name "${stack}_n8n-rekey" --detach=false --quiet \
		--restart-condition none --network "${stack}_default" \
		--secret "source=n8n_encryption_key_v$old,target=n8n_encryption_key_old,$owner" \
		--secret "source=n8n_encryption_key_v$new,target=n8n_encryption_key_new,$owner" \
		--secret "source=n8n_db_password_v${DB_PASSWORD_VERSION:-1},target=n8n_db_password,$owner" \
		"$@" --entrypoint n8n-secrets "$image" rekey --from "$from" --to "$to" --apply --rewrap-only="$rewrap" >/dev/null || true
	docker service logs --raw "${stack}_n8n-rekey" 2>&1 || true
	state=$(docker service ps --format '{{.CurrentState}}' "${stack}_n8n-rekey" | head -n 1)
	docker service rm "${stack}_n8n-rekey" >/dev/null
	case $state in Complete*) ;; *) status=1 ;; esac
	;;
kubernetes)
	kubectl -n "$ns" delete job n8n-rekey --ignore-not-found
	sed -e "s/{name: REKEY_FROM_VERSION, value: \"[0-9]*\"}/{name: REKEY_FROM_VERSION, value: \"$old\"}/" \
		-e "s/{name: REKEY_TO_VERSION, value: \"[0-9]*\"}/{name: REKEY_TO_VERSION, value: \"$new\"}/" \
		-e "s/{name: REKEY_REWRAP_ONLY, value: \"[a-z]*\"}/{name: REKEY_REWRAP_ONLY, value: \"$rewrap\"}/" "$job" |
		kubectl -n "$ns" apply -f -
	i=0
	while :; do
		case $(kubectl -n "$ns" get job n8n-rekey -o 'jsonpath={.status.succeeded}/{.status.failed}') in
		1/*) break ;;
		*/[1-9]*)
			status=1
			break
			;;
		esac
		i=$((i + 1))
		[ "$i" -le 900 ] || {
			status=1
			echo "$0: the rekey job did not finish in 30 minutes" >&2
			break
		}
		sleep 2
	done
	kubectl -n "$ns" logs job/n8n-rekey || true
	kubectl -n "$ns" delete job n8n-rekey
	;;
esac
t_rekeyed=$(now)

if [ "$status" -ne 0 ]; then
	echo "$0: rekey failed (exit $status): nothing was written, the database is still under version $old" >&2
	case $platform in
	compose | kubernetes)
		say "Vault: the old key becomes the newest version again"
		"$here/vault-kv-patch.sh" "$KV_PATH" "$KV_KEY" --from-version "$old"
		;;
	swarm) echo "the services still read n8n_encryption_key_v$old; remove n8n_encryption_key_v$new" ;;
	esac
	fp=""
fi

# ---- 4. pin the fingerprint -------------------------------------------------

if [ -n "$fp" ]; then
	say "pin N8N_SECRETS_EXPECT_KEY_FINGERPRINT=$fp"
	case $platform in
	compose)
		env=$(dirname "$file")/.env
		touch "$env"
		grep -v '^N8N_KEY_FINGERPRINT=' "$env" >"$env.new" || true
		echo "N8N_KEY_FINGERPRINT=$fp" >>"$env.new"
		mv "$env.new" "$env"
		say "remove n8n's settings file, which holds the old key (n8n writes it again)"
		dc run --rm -T --no-deps --entrypoint rm "$main" -f /home/node/.n8n/config
		;;
	swarm) ;; # with the new secret, in 5
	kubernetes)
		kubectl -n "$ns" patch configmap n8n-env --type merge \
			-p "{\"data\":{\"N8N_SECRETS_EXPECT_KEY_FINGERPRINT\":\"$fp\"}}"
		;;
	esac
fi

# ---- 5. start -----------------------------------------------------------------

t_start=$(now)
say "start the main, then the other nodes"
for s in $SERVICES; do
	case $platform in
	compose) dc up -d --wait --no-deps --force-recreate "$s" ;;
	swarm)
		# shellcheck disable=SC2086 # one word per service
		n=$(printf '%s\n' $replicas | sed -n "s/^$s=//p")
		if [ -n "$fp" ]; then
			docker service update --detach=false --quiet \
				--secret-rm n8n_encryption_key \
				--secret-add "source=n8n_encryption_key_v$new,target=n8n_encryption_key,uid=1000,gid=1000,mode=0400" \
				--env-add "N8N_SECRETS_EXPECT_KEY_FINGERPRINT=$fp" --replicas "$n" "${stack}_$s" >/dev/null
		else
			docker service scale --detach=false "${stack}_$s=$n" >/dev/null
		fi
		;;
	kubernetes)
		# shellcheck disable=SC2086 # one word per service
		n=$(printf '%s\n' $replicas | sed -n "s/^$s=//p")
		kubectl -n "$ns" scale "deployment/$s" --replicas="$n"
		kubectl -n "$ns" rollout status "deployment/$s" --timeout=10m
		;;
	esac
done
t_started=$(now)

# ---- 6. verify ------------------------------------------------------------------

say "n8n-secrets verify-key on every node"
failed=0
for s in $SERVICES; do
	case $platform in
	compose) nodes=$(dc ps -q "$s") ;;
	swarm) nodes=$(docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_$s") ;;
	kubernetes)
		case $s in
		"$main") c=main ;;
		*worker*) c=worker ;;
		*) c=webhook ;;
		esac
		nodes=$(kubectl -n "$ns" get pods -o name --field-selector=status.phase=Running \
			-l "app.kubernetes.io/name=n8n,app.kubernetes.io/component=$c")
		;;
	esac
	[ -n "$nodes" ] || {
		echo "FAIL: $s: no running node"
		failed=1
	}
	for node in $nodes; do
		echo "-- $s $node"
		case $platform in
		compose | swarm) docker exec "$node" n8n-secrets verify-key || failed=1 ;;
		kubernetes) kubectl -n "$ns" exec "$node" -- n8n-secrets verify-key || failed=1 ;;
		esac
	done
done
case $platform in
compose) EXPECT_FINGERPRINT=$fp "$here/verify.sh" compose "$file" || failed=1 ;;
swarm) EXPECT_FINGERPRINT=$fp "$here/verify.sh" swarm "$stack" || failed=1 ;;
kubernetes) EXPECT_FINGERPRINT=$fp "$here/verify.sh" kubernetes "$ns" || failed=1 ;;
esac

echo "== down for $((t_started - t_stop)) s: stop $((t_rekey - t_stop)) s, rekey $((t_rekeyed - t_rekey)) s, start $((t_started - t_start)) s (until the platform reported the nodes up)"
if [ "$status" -ne 0 ]; then
	echo "the key was NOT rotated: the nodes run with version $old again" >&2
	exit 1
fi
if [ "$failed" -ne 0 ]; then
	echo "the database is under version $new, but a node failed verification: see above" >&2
	exit 1
fi
case $platform in
swarm)
	echo "ok: deploy with ENCRYPTION_KEY_VERSION=$new N8N_KEY_FINGERPRINT=$fp from now on;"
	echo "    docker secret rm n8n_encryption_key_v$old once you keep no backup under it"
	;;
*) echo "ok: every node runs with the key of version $new, fingerprint $fp" ;;
esac
