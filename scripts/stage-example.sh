#!/usr/bin/env bash
# Stages what an example's image holds, in OUT_DIR:
#   bash scripts/stage-example.sh operator|plugin OUT_DIR
# - the workspace packages it depends on, built (dist/);
# - the example compiled to JavaScript (dist/, tsconfig.build.json): no tsx at run time;
# - `pnpm deploy --prod`: its production dependencies only, workspace packages copied in.
# The Dockerfiles run this script, and CI runs it too (scripts/check-example-images.sh),
# so what CI starts with plain `node` is what the image contains.
set -euo pipefail

example="${1:?usage: stage-example.sh operator|plugin OUT_DIR}"
out="${2:?usage: stage-example.sh operator|plugin OUT_DIR}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PNPM=(npx -y pnpm@10.34.8)
package="@operator-plugin-framework-examples/${example}"

cd "$ROOT"
# The workspace packages the example depends on (turbo would need pnpm on PATH).
# OPF_PACKAGES_BUILT=1 (CI, after its build step) skips rebuilding them.
if [[ "${OPF_PACKAGES_BUILT:-}" != "1" ]]; then
  "${PNPM[@]}" --filter "${package}^..." run build
fi
rm -rf "examples/${example}/dist"
node_modules/.bin/tsc -p "examples/${example}/tsconfig.build.json"
rm -rf "$out"
# --legacy: pnpm 10's default deploy needs inject-workspace-packages, which
# would turn every workspace link into a copy during development.
# auto-install-peers=false: otherwise the deploy resolves auth's optional peer
# @kubernetes/client-node (54 MB) into the plugin image, which never loads it.
"${PNPM[@]}" --filter "$package" deploy --legacy --prod --config.auto-install-peers=false "$out" >/dev/null
# The image needs the compiled entry point, the manifest and node_modules.
rm -rf "$out/src" "$out/tsconfig.build.json"
find "$out/dist" -name '*.map' -delete
echo "staged ${package} in ${out}: $(du -sh "$out" | cut -f1)"
