#!/bin/sh
# vault-kubernetes-auth.sh: the Vault side of vault-auth.yaml, with curl
# against Vault's HTTP API (the vault CLI equivalents are in the comments).
# Run it once, with a token allowed to manage auth methods and policies:
#
#   VAULT_ADDR=https://vault.example.com VAULT_TOKEN=… \
#   K8S_HOST=https://kubernetes.default.svc ./vault-kubernetes-auth.sh
#
# It writes:
#   - the policy n8n-read: read on <KV_MOUNT>/data/<SECRET_PREFIX>/*, nothing
#     else (vault policy write n8n-read -);
#   - Kubernetes auth at auth/<AUTH_MOUNT> (vault auth enable kubernetes),
#     configured with the API server Vault calls to review tokens
#     (vault write auth/kubernetes/config kubernetes_host=…
#     [kubernetes_ca_cert=@ca.crt disable_local_ca_jwt=true]);
#   - the role <ROLE>, for the ServiceAccount <SERVICE_ACCOUNT> in
#     <NAMESPACE> only, with that policy and 5-minute tokens (n8n-secrets
#     revokes its token before n8n starts anyway).
#
# Settings: VAULT_ADDR, VAULT_TOKEN (required), VAULT_CACERT, K8S_HOST
# (required), K8S_CA_FILE (the API server's CA, when Vault runs outside the
# cluster; unset: Vault runs in it and uses its own service account), NAMESPACE (n8n), SERVICE_ACCOUNT (n8n), ROLE (n8n),
# AUTH_MOUNT (kubernetes), KV_MOUNT (secret), SECRET_PREFIX (n8n).
#
# The secrets themselves (once; never in a shell history):
#   vault kv put secret/n8n/core encryption_key=-  <key-file
#   vault kv put secret/n8n/db password=-          <db-password-file
#   vault kv put secret/n8n/redis password=-       <redis-password-file
set -eu

: "${VAULT_ADDR:?set VAULT_ADDR}"
: "${VAULT_TOKEN:?set VAULT_TOKEN}"
: "${K8S_HOST:?set K8S_HOST, the Kubernetes API server as Vault reaches it}"
NAMESPACE=${NAMESPACE:-n8n}
SERVICE_ACCOUNT=${SERVICE_ACCOUNT:-n8n}
ROLE=${ROLE:-n8n}
AUTH_MOUNT=${AUTH_MOUNT:-kubernetes}
KV_MOUNT=${KV_MOUNT:-secret}
SECRET_PREFIX=${SECRET_PREFIX:-n8n}
POLICY=${POLICY:-n8n-read}

# vault METHOD PATH [JSON]: fails on anything but 2xx; the token and the
# body reach curl on stdin, not in its argv.
vault() {
	_out=$(
		{
			printf 'header = "X-Vault-Token: %s"\n' "$VAULT_TOKEN"
			if [ -n "${3:-}" ]; then
				printf 'data-binary = "%s"\n' "$(printf '%s' "$3" | sed 's/\\/\\\\/g; s/"/\\"/g')"
			fi
		} | curl -sS --max-time 15 ${VAULT_CACERT:+--cacert "$VAULT_CACERT"} -X "$1" -K - \
			-w '\n%{http_code}' "${VAULT_ADDR%/}/v1/$2"
	)
	_code=$(printf '%s\n' "$_out" | tail -n 1)
	case $_code in
	2??) printf '%s\n' "$_out" | sed '$d' ;;
	*)
		echo "vault-kubernetes-auth: $1 $2: HTTP $_code: $(printf '%s\n' "$_out" | sed '$d' | sed -n 's/.*"errors":\[\([^]]*\)\].*/\1/p' | cut -c1-300)" >&2
		return 1
		;;
	esac
}

echo "policy $POLICY: read on $KV_MOUNT/data/$SECRET_PREFIX/*"
vault PUT "sys/policies/acl/$POLICY" \
	"{\"policy\":\"path \\\"$KV_MOUNT/data/$SECRET_PREFIX/*\\\" {\\n  capabilities = [\\\"read\\\"]\\n}\\n\"}" >/dev/null

if vault GET sys/auth | grep -q "\"$AUTH_MOUNT/\""; then
	echo "auth/$AUTH_MOUNT: already enabled"
else
	echo "auth/$AUTH_MOUNT: enabling Kubernetes auth"
	vault POST "sys/auth/$AUTH_MOUNT" '{"type":"kubernetes"}' >/dev/null
fi

# Vault in the cluster: it reviews tokens with its own service account
# (which needs the system:auth-delegator ClusterRole; the Vault Helm chart
# binds it). Vault outside the cluster (K8S_CA_FILE set): it trusts that CA
# and reviews each login with the pod's own token, so the n8n
# ServiceAccount needs system:auth-delegator (apply
# vault-tokenreview-rbac.yaml, which binds it; only in that case).
if [ -n "${K8S_CA_FILE:-}" ]; then
	# PEM lines joined with \n, as JSON wants them.
	ca=$(awk '{ printf "%s\\n", $0 }' "$K8S_CA_FILE")
	config="{\"kubernetes_host\":\"$K8S_HOST\",\"kubernetes_ca_cert\":\"$ca\",\"disable_local_ca_jwt\":true}"
else
	config="{\"kubernetes_host\":\"$K8S_HOST\"}"
fi
echo "auth/$AUTH_MOUNT/config: API server $K8S_HOST"
vault POST "auth/$AUTH_MOUNT/config" "$config" >/dev/null

echo "auth/$AUTH_MOUNT/role/$ROLE: ServiceAccount $NAMESPACE/$SERVICE_ACCOUNT, policy $POLICY"
vault POST "auth/$AUTH_MOUNT/role/$ROLE" \
	"{\"bound_service_account_names\":[\"$SERVICE_ACCOUNT\"],\"bound_service_account_namespaces\":[\"$NAMESPACE\"],\"token_policies\":[\"$POLICY\"],\"token_ttl\":\"5m\",\"token_max_ttl\":\"15m\"}" >/dev/null
echo "done: set VAULT_AUTH_METHOD=kubernetes and VAULT_AUTH_ROLE=$ROLE on the n8n pods"
