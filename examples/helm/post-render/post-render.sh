#!/bin/sh
# A Helm post-renderer for the charts whose values cannot set the n8n
# containers' command (n8n-hosting, community-charts): it reads the
# rendered chart on stdin, applies the kustomization of the chart's folder
# in examples/helm (CHART: n8n-hosting or community-charts) and prints the
# result. From examples/helm:
#
#   helm template n8n CHART-REF -f CHART/values.yaml | post-render/post-render.sh CHART
#
#   Helm 4 (post-renderers are plugins; a local install is a link here):
#   helm plugin install post-render
#   helm install n8n CHART-REF -f CHART/values.yaml \
#     --post-renderer n8n-secrets-kustomize --post-renderer-args CHART
#
#   Helm 3:
#   helm install n8n CHART-REF -f CHART/values.yaml \
#     --post-renderer post-render/post-render.sh --post-renderer-args CHART
#
# It runs `kubectl kustomize` (kustomize is part of kubectl), or
# `kustomize build` when KUSTOMIZE=kustomize.
set -eu
# The folder of the charts' kustomizations, through the plugin's link.
here=$(CDPATH='' cd -P -- "$(dirname -- "$0")" && pwd -P)
here=$(dirname -- "$here")
chart=${1:?usage: post-render.sh CHART (n8n-hosting or community-charts)}
case $chart in
*/* | .*) echo "post-render.sh: CHART is a folder name here, not a path" >&2; exit 64 ;;
esac
[ -f "$here/$chart/kustomization.yaml" ] || { echo "post-render.sh: $chart has no kustomization.yaml" >&2; exit 64; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/rendered.yaml"
cp "$here/$chart/kustomization.yaml" "$here/$chart/n8n-secrets-command.yaml" "$tmp/"
if [ "${KUSTOMIZE:-}" = kustomize ]; then
	kustomize build "$tmp"
else
	kubectl kustomize "$tmp"
fi
