# Sourced by scripts/publish-smoke.sh and scripts/local-registry.sh.
#
# start_local_registry DIR: installs verdaccio into DIR/verdaccio (never into
# the workspace), starts it on a free loopback port with its storage in DIR,
# creates a user and writes DIR/npmrc, which points the
# @operator-plugin-framework scope at the registry and holds the user's token.
# Every other package still comes from the user's own registry: verdaccio has
# no uplink, so nothing published here can be shadowed by, or leak to, npmjs.
# Sets REGISTRY_URL, REGISTRY_PID and REGISTRY_NPMRC.
#
# publish_workspace ROOT: `pnpm publish -r` of every public package in ROOT,
# which rewrites workspace: ranges to the versions being published and applies
# publishConfig (exports without the opf-source condition).

VERDACCIO_VERSION="6.8.0"
OPF_PNPM_VERSION="${OPF_PNPM_VERSION:-10.34.8}"
OPF_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

start_local_registry() {
  local dir="$1"
  mkdir -p "$dir/verdaccio" "$dir/storage"
  # verdaccio 6.8's node-fetch 3 does not load on Node 20: pin 2.7.0.
  cat >"$dir/verdaccio/package.json" <<JSON
{
  "name": "opf-local-registry",
  "private": true,
  "dependencies": { "verdaccio": "${VERDACCIO_VERSION}" },
  "overrides": { "node-fetch": "2.7.0" }
}
JSON
  echo "[registry] installing verdaccio@${VERDACCIO_VERSION} into $dir/verdaccio"
  npm install --prefix "$dir/verdaccio" --no-audit --no-fund --loglevel=error >/dev/null

  local port
  port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  REGISTRY_URL="http://127.0.0.1:${port}/"
  cat >"$dir/config.yaml" <<YAML
storage: $dir/storage
auth:
  htpasswd:
    file: $dir/htpasswd
    max_users: 10
uplinks: {}
packages:
  "@operator-plugin-framework/*":
    access: \$all
    publish: \$authenticated
    unpublish: \$authenticated
  "**":
    access: \$all
    publish: \$authenticated
log: { type: stdout, format: pretty, level: warn }
YAML
  "$dir/verdaccio/node_modules/.bin/verdaccio" --config "$dir/config.yaml" --listen "127.0.0.1:${port}" \
    >"$dir/verdaccio.log" 2>&1 &
  REGISTRY_PID=$!

  # Node's fetch, not curl: CI promises only Node and npm.
  local token
  if ! token="$(REGISTRY_URL="$REGISTRY_URL" REGISTRY_PID="$REGISTRY_PID" node "$OPF_SCRIPTS_DIR/lib/registry-user.mjs")"; then
    echo "[registry] verdaccio's log:" >&2
    cat "$dir/verdaccio.log" >&2
    return 1
  fi
  REGISTRY_NPMRC="$dir/npmrc"
  cat >"$REGISTRY_NPMRC" <<NPMRC
@operator-plugin-framework:registry=${REGISTRY_URL}
//127.0.0.1:${port}/:_authToken=${token}
NPMRC
  echo "[registry] verdaccio ${VERDACCIO_VERSION} on ${REGISTRY_URL} (pid ${REGISTRY_PID})"
}

stop_local_registry() {
  if [[ -n "${REGISTRY_PID:-}" ]] && kill -0 "$REGISTRY_PID" 2>/dev/null; then
    kill "$REGISTRY_PID" 2>/dev/null || true
    wait "$REGISTRY_PID" 2>/dev/null || true
  fi
}

publish_workspace() {
  local root="$1"
  (
    cd "$root"
    NPM_CONFIG_USERCONFIG="$REGISTRY_NPMRC" npx -y "pnpm@${OPF_PNPM_VERSION}" publish -r \
      --registry "$REGISTRY_URL" --no-git-checks --access public --report-summary
    node -e '
      const s = require(process.argv[1]);
      for (const p of s.publishedPackages) console.log(`[registry] published ${p.name}@${p.version}`);
    ' "$root/pnpm-publish-summary.json"
    rm -f "$root/pnpm-publish-summary.json"
  )
}
