#!/usr/bin/env bash
# check-sizes.sh [DIR]: fails when a file tracked by git in DIR (default:
# the repository this script is in) is larger than 1 MiB and is not test
# data (a path with a testdata/ folder in it). A build output committed by
# mistake (the 27 MB n8n-secrets binary once was) is caught before it
# lands; history cannot be rewritten, so the only fix is never to add it.
set -euo pipefail
dir=${1:-"$(dirname "$0")/../.."}
cd "$dir"
limit=$((1024 * 1024))
status=0
while IFS= read -r -d '' path; do
	case "/$path" in
	*/testdata/*) continue ;;
	esac
	# A file deleted in the work tree but still tracked has no size here.
	[ -f "$path" ] || continue
	size=$(stat -c %s -- "$path")
	if [ "$size" -gt "$limit" ]; then
		echo "check-sizes: $path: $size bytes, more than 1 MiB and not test data (a build output? git rm --cached it; test data goes under a testdata/ folder)" >&2
		status=1
	fi
done < <(git ls-files -z)
exit $status
