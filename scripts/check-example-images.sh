#!/usr/bin/env bash
# Proves what the example images contain, without a container engine: stages
# the operator and the plugin exactly as their Dockerfiles do
# (scripts/stage-example.sh), then runs both from a temporary directory outside
# the repository with plain `node` and checks the plugin registers, the operator
# reconciles a DNSRecord against a fake Kubernetes API, and that both probe
# endpoints answer (scripts/image-smoke/run-examples.mjs). Needs the testkit
# built (packages/testkit/dist), as CI does before this step.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/opf-image-smoke.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

bash "$ROOT/scripts/stage-example.sh" operator "$WORK/operator"
bash "$ROOT/scripts/stage-example.sh" plugin "$WORK/plugin"

for dir in "$WORK/operator" "$WORK/plugin"; do
  if [[ -n "$(find "$dir/node_modules" -maxdepth 2 -name 'tsx*' -print -quit)" ]]; then
    echo "FAILED: $(basename "$dir") stages tsx: it must run compiled JavaScript" >&2
    exit 1
  fi
  if [[ -n "$(find "$dir" -name '*.ts' ! -name '*.d.ts' -not -path '*/node_modules/*' -print -quit)" ]]; then
    echo "FAILED: $(basename "$dir") stages TypeScript sources" >&2
    exit 1
  fi
done
# pnpm's layout keeps packages in node_modules/.pnpm/<name>@<version>/.
if [[ -n "$(find "$WORK/plugin/node_modules" -maxdepth 2 -name '@kubernetes*' -print -quit)" ]]; then
  echo "FAILED: the plugin image would hold @kubernetes/*" >&2
  exit 1
fi

echo "image contents: operator $(du -sh "$WORK/operator" | cut -f1), plugin $(du -sh "$WORK/plugin" | cut -f1)"
# The harness runs from the repository (it uses the built testkit's fake
# Kubernetes API); the examples it starts run from $WORK with plain node.
node "$ROOT/scripts/image-smoke/run-examples.mjs" "$WORK/operator" "$WORK/plugin"
