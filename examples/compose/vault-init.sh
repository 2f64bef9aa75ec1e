#!/bin/sh
# vault-init.sh: the one-shot init service of the compose example. It talks
# to Vault's HTTP API with curl only (no vault CLI, no jq), so it runs in a
# small curl image, on a workstation, or in a test against a real Vault.
#
# It is idempotent; run it again at any time:
#   1. waits for Vault; initialises it (1 key share) and unseals it when it
#      is new or sealed, keeping the unseal key and root token in STATE_DIR
#      (a demo shortcut: in production use auto-unseal and no stored root
#      token);
#   2. mounts KV v2 at KV_MOUNT (secret) unless it is mounted already;
#   3. seeds the n8n secrets, each only when absent (a check-and-set write
#      with cas=0, so an existing key is never replaced):
#        <KV_MOUNT>/<PREFIX>/core   encryption_key   (n8n's encryption key)
#        <KV_MOUNT>/<PREFIX>/db     password         (Postgres)
#        <KV_MOUNT>/<PREFIX>/redis  password         (Redis)
#   4. writes the policy POLICY_NAME: read on <KV_MOUNT>/data/<PREFIX>/*
#      and nothing else;
#   5. enables AppRole and writes the role APPROLE_NAME with that policy,
#      then writes its role id and a new secret id as the files
#      vault_role_id and vault_secret_id into OUT_DIR, where n8n-secrets
#      finds them (its secrets dir, N8N_SECRETS_DIR). The secret id is
#      short-lived: it expires after SECRET_ID_TTL (1h) and serves
#      SECRET_ID_NUM_USES logins (30), so that a copy taken from a node
#      (by a workflow's Execute Command node, say) is soon worthless. The
#      previous secret id (the one in OUT_DIR) is destroyed: each run
#      rotates it;
#   6. copies the current Postgres and Redis passwords from Vault into
#      POSTGRES_SECRET_DIR/postgres_password and
#      REDIS_SECRET_DIR/redis_password when those are set: the backing
#      services read their password from there, so they always hold the
#      value Vault has.
#
# Settings (environment):
#   VAULT_ADDR           Vault's address (required)
#   VAULT_TOKEN          a token allowed to do all of the above; when unset,
#                        STATE_DIR/root_token is used
#   STATE_DIR            where an initialisation keeps unseal_key and
#                        root_token (required only to initialise or unseal)
#   OUT_DIR              where to write vault_role_id and vault_secret_id
#                        (required)
#   CREDS_OWNER          uid:gid to own the files in OUT_DIR (n8n runs as
#                        node, 1000:1000); unset: leave the owner alone
#   POSTGRES_SECRET_DIR, REDIS_SECRET_DIR   optional, see 6.
#   KV_MOUNT (secret), SECRET_PREFIX (n8n), POLICY_NAME (n8n-read),
#   APPROLE_NAME (n8n)
#   SECRET_ID_TTL (1h), SECRET_ID_NUM_USES (30): the life of a secret id.
#                        One `docker compose up` logs in 4 times (main, two
#                        workers, webhook), verify.sh 6 times, roll.sh 4:
#                        30 leaves room for a few restarts. Past either
#                        limit a node that restarts cannot log in (exit 77,
#                        AUTH_FAILED) until this script runs again
#                        (`docker compose up -d` runs it).
#   TOKEN_TTL (5m), TOKEN_MAX_TTL (15m): the life of the login tokens
#                        (n8n-secrets revokes its own before n8n starts)
#   SEED_ENCRYPTION_KEY_FROM  a file holding an existing n8n encryption key
#                        to seed instead of a new random one (to move an
#                        existing instance); ignored once the key exists
#
# It never prints a secret value, and keeps tokens and values out of the
# argv of the commands it runs (curl reads them from its stdin with -K -).
set -eu
umask 077

: "${VAULT_ADDR:?set VAULT_ADDR, e.g. http://vault:8200}"
: "${OUT_DIR:?set OUT_DIR: the directory for vault_role_id and vault_secret_id}"
VAULT_ADDR=${VAULT_ADDR%/}
KV_MOUNT=${KV_MOUNT:-secret}
SECRET_PREFIX=${SECRET_PREFIX:-n8n}
POLICY_NAME=${POLICY_NAME:-n8n-read}
APPROLE_NAME=${APPROLE_NAME:-n8n}
STATE_DIR=${STATE_DIR:-}
CREDS_OWNER=${CREDS_OWNER:-}
POSTGRES_SECRET_DIR=${POSTGRES_SECRET_DIR:-}
REDIS_SECRET_DIR=${REDIS_SECRET_DIR:-}
SEED_ENCRYPTION_KEY_FROM=${SEED_ENCRYPTION_KEY_FROM:-}
SECRET_ID_TTL=${SECRET_ID_TTL:-1h}
SECRET_ID_NUM_USES=${SECRET_ID_NUM_USES:-30}
TOKEN_TTL=${TOKEN_TTL:-5m}
TOKEN_MAX_TTL=${TOKEN_MAX_TTL:-15m}
TOKEN=${VAULT_TOKEN:-}
NL='
'

log() { printf 'vault-init: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# api METHOD PATH [JSON]: calls Vault and sets CODE (the HTTP status) and
# BODY. The token and the body reach curl on stdin, never in its argv.
api() {
	_out=$(
		{
			printf 'header = "X-Vault-Token: %s"\n' "$TOKEN"
			if [ -n "${3:-}" ]; then
				printf 'data-binary = "%s"\n' "$(printf '%s' "$3" | sed 's/\\/\\\\/g; s/"/\\"/g')"
			fi
		} | curl -sS --max-time 10 -X "$1" -K - -w "\\n%{http_code}" "$VAULT_ADDR/v1/$2"
	) || _out="${NL}000"
	CODE=${_out##*"$NL"}
	BODY=${_out%"$NL"*}
}

# must METHOD PATH [JSON]: api, failing on anything but 2xx. Vault's
# errors name paths and problems, never values.
must() {
	api "$@"
	case $CODE in
	2??) ;;
	*) die "$1 $2: HTTP $CODE: $(printf '%s' "$BODY" | sed -n 's/.*"errors":\[\([^]]*\)\].*/\1/p' | cut -c1-300)" ;;
	esac
}

# field NAME: the first "NAME":"value" string in BODY. Good for Vault's
# flat answers and the values this script writes (no quotes in them).
field() {
	printf '%s' "$BODY" | sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}

# random key (base64 of 32 random bytes, like n8n-secrets keygen) and
# password (32 letters and digits: safe in URLs and config files).
random_key() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }
random_password() { head -c 96 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | cut -c1-32; }

# safe VALUE: whether VALUE can go into JSON as it is.
safe() {
	case $1 in
	*[\"\\]* | '') return 1 ;;
	esac
	[ "$(printf '%s' "$1" | tr -d '\000-\037\177')" = "$1" ]
}

# write_file DIR NAME VALUE [OWNER]: writes atomically, mode 0400.
write_file() {
	mkdir -p "$1"
	_tmp="$1/.$2.tmp.$$"
	printf '%s' "$3" >"$_tmp"
	chmod 0400 "$_tmp"
	if [ -n "${4:-}" ]; then chown "$4" "$_tmp"; fi
	mv -f "$_tmp" "$1/$2"
}

# 1. Reach Vault, initialise and unseal it when needed.
i=0
while :; do
	api GET sys/health
	case $CODE in
	000) ;;
	*) break ;;
	esac
	i=$((i + 1))
	[ "$i" -lt 60 ] || die "Vault at $VAULT_ADDR did not answer for 60s"
	sleep 1
done
if [ "$CODE" = 501 ]; then
	[ -n "$STATE_DIR" ] || die "Vault is not initialised: set STATE_DIR to initialise it"
	log "initialising Vault (1 key share; unseal key and root token kept in $STATE_DIR)"
	must PUT sys/init '{"secret_shares":1,"secret_threshold":1}'
	keys=$(printf '%s' "$BODY" | sed -n 's/.*"keys_base64":\["\([^"]*\)".*/\1/p')
	root=$(field root_token)
	if [ -z "$keys" ] || [ -z "$root" ]; then die "sys/init: unexpected answer"; fi
	write_file "$STATE_DIR" unseal_key "$keys"
	write_file "$STATE_DIR" root_token "$root"
	api GET sys/health
fi
if [ "$CODE" = 503 ]; then
	if [ -z "$STATE_DIR" ] || [ ! -r "$STATE_DIR/unseal_key" ]; then die "Vault is sealed and there is no STATE_DIR/unseal_key"; fi
	log "unsealing Vault"
	must PUT sys/unseal "{\"key\":\"$(cat "$STATE_DIR/unseal_key")\"}"
	i=0
	until api GET sys/health && [ "$CODE" = 200 ]; do
		i=$((i + 1))
		[ "$i" -lt 30 ] || die "Vault not active 30s after unsealing (HTTP $CODE)"
		sleep 1
	done
fi
if [ -z "$TOKEN" ]; then
	if [ -z "$STATE_DIR" ] || [ ! -r "$STATE_DIR/root_token" ]; then die "set VAULT_TOKEN, or STATE_DIR holding root_token"; fi
	TOKEN=$(cat "$STATE_DIR/root_token")
fi
must GET auth/token/lookup-self

# 2. KV v2 at KV_MOUNT.
api GET "sys/mounts/$KV_MOUNT"
if [ "$CODE" = 200 ]; then
	case $BODY in
	*'"type":"kv"'*'"version":"2"'* | *'"version":"2"'*'"type":"kv"'*) ;;
	*) die "$KV_MOUNT/ is mounted but is not KV version 2" ;;
	esac
else
	log "mounting KV v2 at $KV_MOUNT/"
	must POST "sys/mounts/$KV_MOUNT" '{"type":"kv","options":{"version":"2"}}'
fi
# A new KV v2 mount upgrades itself for a moment before it takes writes.
i=0
until api GET "$KV_MOUNT/config" && [ "$CODE" = 200 ]; do
	i=$((i + 1))
	[ "$i" -lt 60 ] || die "$KV_MOUNT/ not ready (HTTP $CODE)"
	sleep 0.5 2>/dev/null || sleep 1
done

# 3. Seed each secret once. cas=0 makes the write fail if the path already
# holds a version, so two runs at once cannot replace a key either.
seed() { # NAME KEY VALUE
	api GET "$KV_MOUNT/data/$SECRET_PREFIX/$1"
	if [ "$CODE" = 200 ]; then
		[ -n "$(field "$2")" ] || die "$KV_MOUNT/$SECRET_PREFIX/$1 exists but has no key $2"
		log "$KV_MOUNT/$SECRET_PREFIX/$1 exists: kept"
		return
	fi
	api POST "$KV_MOUNT/data/$SECRET_PREFIX/$1" "{\"options\":{\"cas\":0},\"data\":{\"$2\":\"$3\"}}"
	case $CODE in
	2??) log "$KV_MOUNT/$SECRET_PREFIX/$1: seeded $2" ;;
	400) log "$KV_MOUNT/$SECRET_PREFIX/$1 has versions already (written meanwhile, or the latest deleted): kept" ;;
	*) die "writing $KV_MOUNT/$SECRET_PREFIX/$1: HTTP $CODE" ;;
	esac
}
if [ -n "$SEED_ENCRYPTION_KEY_FROM" ]; then
	key=$(cat "$SEED_ENCRYPTION_KEY_FROM")
	safe "$key" || die "$SEED_ENCRYPTION_KEY_FROM: the key must be one line without quotes or backslashes"
else
	key=$(random_key)
fi
seed core encryption_key "$key"
seed db password "$(random_password)"
seed redis password "$(random_password)"
unset key

# 4. Least privilege: read the n8n secrets, nothing else. (The default
# policy, which every token has, lets n8n-secrets revoke its own token.)
must PUT "sys/policies/acl/$POLICY_NAME" \
	"{\"policy\":\"# n8n nodes: read the n8n secrets, nothing else.\\npath \\\"$KV_MOUNT/data/$SECRET_PREFIX/*\\\" {\\n  capabilities = [\\\"read\\\"]\\n}\\n\"}"

# 5. AppRole. Tokens are short-lived: n8n-secrets revokes its token before
# it execs n8n anyway. A secret id lives SECRET_ID_TTL and serves
# SECRET_ID_NUM_USES logins (every node logs in at each start); each run of
# this script issues a new one and destroys the previous one.
case $SECRET_ID_NUM_USES in
'' | *[!0-9]*) die "SECRET_ID_NUM_USES must be a whole number" ;;
esac
for v in "$SECRET_ID_TTL" "$TOKEN_TTL" "$TOKEN_MAX_TTL"; do
	case $v in
	'' | *[!0-9smh]*) die "SECRET_ID_TTL, TOKEN_TTL and TOKEN_MAX_TTL must be durations such as 90s, 5m or 1h" ;;
	esac
done
api GET sys/auth
case $BODY in
*'"approle/"'*) ;;
*)
	log "enabling AppRole auth"
	must POST sys/auth/approle '{"type":"approle"}'
	;;
esac
must POST "auth/approle/role/$APPROLE_NAME" \
	"{\"token_policies\":[\"$POLICY_NAME\"],\"token_ttl\":\"$TOKEN_TTL\",\"token_max_ttl\":\"$TOKEN_MAX_TTL\",\"secret_id_ttl\":\"$SECRET_ID_TTL\",\"secret_id_num_uses\":$SECRET_ID_NUM_USES}"
must GET "auth/approle/role/$APPROLE_NAME/role-id"
role_id=$(field role_id)
must POST "auth/approle/role/$APPROLE_NAME/secret-id"
secret_id=$(field secret_id)
if [ -z "$role_id" ] || [ -z "$secret_id" ]; then die "AppRole $APPROLE_NAME: no role id or secret id in the answer"; fi
old=""
if [ -r "$OUT_DIR/vault_secret_id" ]; then old=$(cat "$OUT_DIR/vault_secret_id"); fi
write_file "$OUT_DIR" vault_role_id "$role_id" "$CREDS_OWNER"
write_file "$OUT_DIR" vault_secret_id "$secret_id" "$CREDS_OWNER"
if [ -n "$old" ] && [ "$old" != "$secret_id" ] && safe "$old"; then
	api POST "auth/approle/role/$APPROLE_NAME/secret-id/destroy" "{\"secret_id\":\"$old\"}"
fi
unset old secret_id
log "AppRole $APPROLE_NAME: role id and a new secret id written to $OUT_DIR"

# 6. The backing services' copies of their passwords.
copy_password() { # NAME DIR FILE
	[ -n "$2" ] || return 0
	must GET "$KV_MOUNT/data/$SECRET_PREFIX/$1"
	pw=$(field password)
	[ -n "$pw" ] || die "$KV_MOUNT/$SECRET_PREFIX/$1 has no password"
	write_file "$2" "$3" "$pw"
	log "$KV_MOUNT/$SECRET_PREFIX/$1: password copied to $2/$3"
}
copy_password db "$POSTGRES_SECRET_DIR" postgres_password
copy_password redis "$REDIS_SECRET_DIR" redis_password
unset pw
log "done"
