#!/bin/sh
# awssm-put.sh SECRET_ID [KEY] [--generate]
#
# Writes a new version of an AWS Secrets Manager secret with the AWS CLI.
# With KEY the secret is a JSON object: KEY gets the new value, the other
# keys are kept (needs jq). Without KEY the whole SecretString is replaced.
# The new value is read from stdin (one trailing newline dropped), or
# generated with --generate (32 letters and digits). It prints the new
# version id, never the value.
#
# put-secret-value moves the AWSCURRENT label to the new version and
# AWSPREVIOUS to the one before: a node can be pointed back at the old value
# with awssm://SECRET_ID?version-stage=AWSPREVIOUS#KEY while you roll back.
#
#   printf %s "$new" | ./awssm-put.sh prod/n8n/db password
#   ./awssm-put.sh prod/n8n/redis password --generate
#
# AWS settings: the CLI's usual ones (AWS_PROFILE, AWS_REGION, …).
set -eu
umask 077

usage() {
	echo "usage: $0 SECRET_ID [KEY] [--generate]  (new value on stdin unless --generate)" >&2
	exit 64
}
[ $# -ge 1 ] || usage
id=$1
shift
key=""
generate=false
for a in "$@"; do
	case $a in
	--generate) generate=true ;;
	-*) usage ;;
	*) key=$a ;;
	esac
done

if $generate; then
	value=$(head -c 96 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | cut -c1-32)
else
	value=$(cat)
fi
[ -n "$value" ] || {
	echo "$0: empty value" >&2
	exit 65
}

# The value travels on stdin and in the environment of jq, never in argv.
if [ -n "$key" ]; then
	current=$(aws secretsmanager get-secret-value --secret-id "$id" --query SecretString --output text)
	new=$(printf '%s' "$current" | NEW_VALUE=$value jq -c --arg k "$key" '.[$k] = env.NEW_VALUE')
	unset current
else
	new=$value
fi
unset value
version=$(printf '%s' "$new" | aws secretsmanager put-secret-value --secret-id "$id" \
	--secret-string file:///dev/stdin --query VersionId --output text)
unset new
echo "$id${key:+#$key}: written as version $version (now AWSCURRENT)"
