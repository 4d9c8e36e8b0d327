#!/usr/bin/env bash
# Try the packages without a public registry: builds the workspace, starts a
# throwaway npm registry (verdaccio) on loopback, publishes every public
# package to it and keeps running until Ctrl-C. Point a project at it with the
# npmrc it prints:
#
#   bash scripts/local-registry.sh
#   # in another terminal, in your project:
#   NPM_CONFIG_USERCONFIG=/tmp/opf-registry.XXXXXX/npmrc npm install @operator-plugin-framework/client
#
# Only the @operator-plugin-framework scope comes from the local registry;
# everything else still comes from your usual one.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/local-registry.sh
source "$ROOT/scripts/lib/local-registry.sh"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/opf-registry.XXXXXX")"
trap 'stop_local_registry; rm -rf "$WORK"' EXIT
trap 'exit 0' INT TERM

(cd "$ROOT" && npm run build)
start_local_registry "$WORK"
publish_workspace "$ROOT"

cat <<EOF2

The packages are on ${REGISTRY_URL}. In your project:

  NPM_CONFIG_USERCONFIG=${REGISTRY_NPMRC} npm install @operator-plugin-framework/client

or copy these lines into the project's .npmrc:

$(sed 's/^/  /' "$REGISTRY_NPMRC")

Ctrl-C stops the registry and deletes its storage.
EOF2
wait "$REGISTRY_PID"
