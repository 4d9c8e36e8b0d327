#!/usr/bin/env bash
# `buf lint` of packages/proto, and `buf breaking` (WIRE rules: the wire
# protocol is add-only) against the same package at the base commit of the
# change under test (scripts/lib/base-ref.sh: the merge-base with main on a
# branch, the previous commit on main).
#   bash scripts/check-proto.sh
#   OPF_BASE_REF=<tag or commit> bash scripts/check-proto.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib/base-ref.sh
source scripts/lib/base-ref.sh
BUF="$ROOT/packages/proto/node_modules/.bin/buf"

(cd packages/proto && "$BUF" lint)
echo "buf lint: ok"

resolve_base_ref
if [[ -z "$BASE_REF" ]]; then
  echo "buf breaking: no earlier commit to compare with"
  exit 0
fi
if ! git cat-file -e "${BASE_REF}:packages/proto/buf.yaml" 2>/dev/null; then
  echo "buf breaking: packages/proto/buf.yaml does not exist at ${BASE_REF}; nothing to compare"
  exit 0
fi
# The base's proto files, extracted with git (a worktree's .git is a file,
# which buf's git input does not read).
against="$(mktemp -d)"
trap 'rm -rf "$against"' EXIT
git archive "$BASE_REF" packages/proto/buf.yaml packages/proto/proto | tar -x -C "$against"
echo "buf breaking against $(git rev-parse --short "$BASE_REF"): ${BASE_REASON}"
(cd packages/proto && "$BUF" breaking --against "$against/packages/proto")
echo "buf breaking: ok (no wire-incompatible change)"
