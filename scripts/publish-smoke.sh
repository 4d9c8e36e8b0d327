#!/usr/bin/env bash
# The release path, end to end, against a real (throwaway) npm registry:
#
#   bash scripts/publish-smoke.sh          # CI runs this after `turbo run build`
#   OPF_KEEP_SMOKE_DIR=1 bash scripts/publish-smoke.sh   # keep the temp dir to look around
#
# 1. starts verdaccio on loopback (scripts/lib/local-registry.sh) and publishes
#    every public package with `pnpm publish -r`, which rewrites workspace:
#    ranges and applies publishConfig;
# 2. in fresh directories outside the repo, with plain npm:
#    - plugin role: npm install client auth; no @kubernetes/* may be installed;
#    - operator role: npm install server registry auth cli @kubernetes/client-node@^1.4
#      (and runs the installed `opf --help`);
#    prints each role's install size and fails above its budget;
# 3. checks every installed package (scripts/publish-smoke/inspect-installed.cjs):
#    no opf-source condition or src/ in what was published, require() == import();
# 4. runs the operator role's process, which starts the plugin role's process:
#    the plugin registers and the operator calls it;
# 5. copies examples/template out of the repo, installs it from the registry,
#    generates its code with buf and ts-proto, type-checks it and runs its test.
# The packages must be built first (`npm run build`); missing dist/ fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/local-registry.sh
source "$ROOT/scripts/lib/local-registry.sh"

PUBLIC_PACKAGES=(proto wire registry server client auth testkit cli)
# Install sizes (node_modules, KiB) that a change must not silently grow past.
# Measured with Node 20 and npm 10: plugin role ~17 MiB, operator role ~86 MiB
# (@kubernetes/client-node and its dependencies are most of it).
PLUGIN_BUDGET_KIB="${OPF_PLUGIN_BUDGET_KIB:-20480}"
OPERATOR_BUDGET_KIB="${OPF_OPERATOR_BUDGET_KIB:-102400}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/opf-publish-smoke.XXXXXX")"
cleanup() {
  stop_local_registry
  if [[ "${OPF_KEEP_SMOKE_DIR:-}" == "1" ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

for pkg in "${PUBLIC_PACKAGES[@]}"; do
  if [[ ! -f "$ROOT/packages/$pkg/dist/index.js" ]]; then
    echo "packages/$pkg is not built: run \`npm run build\` first" >&2
    exit 1
  fi
done

echo "==> local registry"
start_local_registry "$WORK/registry"
publish_workspace "$ROOT"

# Plain npm, as a user would, in directories outside the repo. The scope comes
# from the local registry, everything else from the usual one.
npm_in() {
  local dir="$1"
  shift
  (cd "$dir" && NPM_CONFIG_USERCONFIG="$REGISTRY_NPMRC" npm "$@" --no-audit --no-fund --loglevel=error)
}

new_project() {
  local dir="$1"
  mkdir -p "$dir"
  printf '{ "name": "%s", "version": "1.0.0", "private": true }\n' "$(basename "$dir")" >"$dir/package.json"
}

size_kib() {
  du -sk "$1/node_modules" | cut -f1
}

failures=0
fail() {
  echo "FAILED: $*" >&2
  failures=$((failures + 1))
}

echo
echo "==> plugin role: npm install client auth"
PLUGIN_DIR="$WORK/plugin-role"
new_project "$PLUGIN_DIR"
npm_in "$PLUGIN_DIR" install @operator-plugin-framework/client @operator-plugin-framework/auth
if [[ -d "$PLUGIN_DIR/node_modules/@kubernetes" ]]; then
  fail "the plugin role installed $(ls "$PLUGIN_DIR/node_modules/@kubernetes" | sed 's/^/@kubernetes\//' | tr '\n' ' ')"
  npm_in "$PLUGIN_DIR" explain @kubernetes/client-node || true
else
  echo "no @kubernetes/* installed"
fi

echo
echo "==> operator role: npm install server registry auth cli @kubernetes/client-node@^1.4"
OPERATOR_DIR="$WORK/operator-role"
new_project "$OPERATOR_DIR"
npm_in "$OPERATOR_DIR" install @operator-plugin-framework/server @operator-plugin-framework/registry \
  @operator-plugin-framework/auth @operator-plugin-framework/cli "@kubernetes/client-node@^1.4"
if (cd "$OPERATOR_DIR" && npx --no-install opf --help) | grep -q '^usage: opf'; then
  echo "npx opf --help: ok"
else
  fail "the installed opf command does not print its usage"
fi

echo
echo "==> install sizes"
plugin_kib="$(size_kib "$PLUGIN_DIR")"
operator_kib="$(size_kib "$OPERATOR_DIR")"
printf '  plugin role:   %6d KiB node_modules (budget %s KiB)\n' "$plugin_kib" "$PLUGIN_BUDGET_KIB"
printf '  operator role: %6d KiB node_modules (budget %s KiB)\n' "$operator_kib" "$OPERATOR_BUDGET_KIB"
((plugin_kib <= PLUGIN_BUDGET_KIB)) || fail "the plugin role's install grew past its budget"
((operator_kib <= OPERATOR_BUDGET_KIB)) || fail "the operator role's install grew past its budget"

echo
echo "==> published manifests, files and CommonJS require() of every entry point"
checked=()
for dir in "$PLUGIN_DIR" "$OPERATOR_DIR"; do
  echo "$(basename "$dir"):"
  cp "$ROOT/scripts/publish-smoke/inspect-installed.cjs" "$dir/"
  if output="$(cd "$dir" && node inspect-installed.cjs)"; then :; else fail "$(basename "$dir"): published package checks"; fi
  sed '$d' <<<"$output"
  read -r -a found <<<"$(tail -n 1 <<<"$output")"
  checked+=("${found[@]}")
done

echo
echo "==> smoke: the operator role's process calls the plugin role's process"
cp "$ROOT/scripts/publish-smoke/echo-service.mjs" "$ROOT/scripts/publish-smoke/plugin.mjs" "$PLUGIN_DIR/"
cp "$ROOT/scripts/publish-smoke/echo-service.mjs" "$ROOT/scripts/publish-smoke/operator.mjs" "$OPERATOR_DIR/"
(cd "$OPERATOR_DIR" && node operator.mjs "$PLUGIN_DIR") || fail "operator/plugin smoke test"

echo
echo "==> template: examples/template outside the repo, from the registry"
TEMPLATE_DIR="$WORK/my-service"
cp -R "$ROOT/examples/template" "$TEMPLATE_DIR"
rm -rf "$TEMPLATE_DIR/node_modules" "$TEMPLATE_DIR/src/gen" "$TEMPLATE_DIR/dist"
if npm_in "$TEMPLATE_DIR" install &&
  npm_in "$TEMPLATE_DIR" run generate &&
  npm_in "$TEMPLATE_DIR" run typecheck &&
  npm_in "$TEMPLATE_DIR" test; then
  echo "template: generated, type-checked and tested"
else
  fail "examples/template outside the repo"
fi
echo "template:"
cp "$ROOT/scripts/publish-smoke/inspect-installed.cjs" "$TEMPLATE_DIR/"
if output="$(cd "$TEMPLATE_DIR" && node inspect-installed.cjs)"; then :; else fail "template: published package checks"; fi
sed '$d' <<<"$output"
read -r -a found <<<"$(tail -n 1 <<<"$output")"
checked+=("${found[@]}")

echo
for pkg in "${PUBLIC_PACKAGES[@]}"; do
  [[ " ${checked[*]} " == *" $pkg "* ]] || fail "@operator-plugin-framework/$pkg was installed by no role, so nothing checked it"
done

if ((failures > 0)); then
  echo "publish-smoke: $failures check(s) failed" >&2
  exit 1
fi
echo "publish-smoke: ok (plugin role ${plugin_kib} KiB, operator role ${operator_kib} KiB)"
