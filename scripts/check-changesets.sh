#!/usr/bin/env bash
# Fails when the change under test (see scripts/lib/base-ref.sh) touches what a
# public package ships without a changeset for that package:
#   bash scripts/check-changesets.sh
#   OPF_BASE_REF=v1.2.0 bash scripts/check-changesets.sh
# 1. `changeset status --since=BASE`: a change to a versionable package needs
#    at least one changeset added since BASE (`changeset add --empty` when it
#    needs no release);
# 2. each changed public package must be in that release plan, so a changeset
#    for `client` does not cover a change to `server`.
# What counts as a change: src/ (tests excluded), proto/ and package.json, the
# same as changedFilePatterns in .changeset/config.json.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib/base-ref.sh
source scripts/lib/base-ref.sh
PUBLIC_PACKAGES=(proto wire registry server client auth testkit cli)

resolve_base_ref
if [[ -z "$BASE_REF" ]]; then
  echo "check-changesets: no earlier commit to compare with; nothing to check"
  exit 0
fi
echo "comparing with $(git rev-parse --short "$BASE_REF"): ${BASE_REASON}"

# `changeset version` deletes the changesets it consumed and bumps versions: a
# release commit has no changeset by design.
if git diff --name-only --diff-filter=D "$BASE_REF" HEAD -- .changeset | grep -q '\.md$' &&
  ! git diff --name-only --diff-filter=A "$BASE_REF" HEAD -- .changeset | grep -q '\.md$'; then
  echo "check-changesets: the change consumes changesets (a release); nothing to check"
  exit 0
fi

plan="$(mktemp)"
trap 'rm -f "$plan"' EXIT
node_modules/.bin/changeset status --since="$BASE_REF" --output="$plan"

missing=()
for pkg in "${PUBLIC_PACKAGES[@]}"; do
  changed="$(git diff --name-only "$BASE_REF" HEAD -- "packages/$pkg/src" "packages/$pkg/proto" \
    "packages/$pkg/package.json" ':(exclude)*.test.ts' ':(exclude)*.test-support.ts')"
  [[ -n "$changed" ]] || continue
  name="@operator-plugin-framework/$pkg"
  if node -e 'const p=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); process.exit(p.releases.some(r=>r.name===process.argv[2])?0:1)' \
    "$plan" "$name"; then
    echo "  ok      $name changed and has a changeset"
  else
    echo "  MISSING $name changed with no changeset naming it:"
    sed 's/^/            /' <<<"$changed" | head -n 5
    missing+=("$name")
  fi
done
if ((${#missing[@]} > 0)); then
  echo "Add one: npm run changeset (pick ${missing[*]}), or \`npx changeset add --empty\` if users see no change." >&2
  exit 1
fi
echo "check-changesets: ok"
