#!/usr/bin/env bash
# Renders every kustomization under examples/deploy with `kubectl kustomize`
# (offline, no cluster needed) and checks that the output holds the objects
# and the security-relevant settings the deploy README promises.
# Exits non-zero when kubectl is missing, a kustomization fails to render or
# a check fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deploy="$root/examples/deploy"

if ! command -v kubectl >/dev/null 2>&1; then
  cat >&2 <<'EOF'
check-manifests: kubectl not found; it renders the kustomizations (`kubectl kustomize`).
Install it, e.g. on Debian/Ubuntu:
  sudo apt-get update && sudo apt-get install -y kubernetes-client
or see https://kubernetes.io/docs/tasks/tools/
EOF
  exit 2
fi

failures=0
checks=0
fail() {
  echo "FAIL [$1] $2" >&2
  failures=$((failures + 1))
}

# Objects of each kind a kustomization must render, and nothing else.
expected_kinds() {
  case "$1" in
    .) echo "CustomResourceDefinition=1 Namespace=2 ServiceAccount=3 Deployment=3 Service=2 ClusterRole=5 ClusterRoleBinding=5 Role=2 RoleBinding=2 PodDisruptionBudget=1 NetworkPolicy=1" ;;
    operator) echo "Namespace=1 ServiceAccount=1 Deployment=1 Service=2 ClusterRole=1 ClusterRoleBinding=1 Role=2 RoleBinding=2 PodDisruptionBudget=1 NetworkPolicy=1" ;;
    crd) echo "CustomResourceDefinition=1" ;;
    plugin | overlays/aws | overlays/gcp) echo "ServiceAccount=1 Deployment=1 ClusterRole=2 ClusterRoleBinding=2" ;;
    overlays/plugins) echo "Namespace=1 ServiceAccount=2 Deployment=2 ClusterRole=4 ClusterRoleBinding=4" ;;
    cert-manager) echo "ClusterIssuer=2 Certificate=2 Bundle=1" ;;
    *) return 1 ;;
  esac
}

# Prints the one rendered document of the given kind and name.
document() {
  local rendered="$1" kind="$2" name="$3"
  awk -v kind="kind: $kind" -v name="  name: $name" '
    BEGIN { RS = "\n---\n" }
    { hasKind = 0; hasName = 0; n = split($0, lines, "\n")
      for (i = 1; i <= n; i++) { if (lines[i] == kind) hasKind = 1; if (lines[i] == name) hasName = 1 }
      if (hasKind && hasName) print }' <<<"$rendered"
}

# Passes when the text holds the fixed string.
expect_text() {
  local where="$1" text="$2" needle="$3"
  checks=$((checks + 1))
  grep -qF -- "$needle" <<<"$text" || fail "$where" "missing: $needle"
}

# Passes when the line after the one matching $2 holds $3.
expect_after() {
  local where="$1" text="$2" anchor="$3" next="$4"
  checks=$((checks + 1))
  grep -A1 -xF -- "$anchor" <<<"$text" | tail -n 1 | grep -qxF -- "$next" || fail "$where" "expected \"$next\" after \"$anchor\""
}

declare -A rendered
while IFS= read -r file; do
  dir="$(dirname "${file#"$deploy"/}")"
  [[ "$file" == "$deploy/kustomization.yaml" ]] && dir="."
  if ! output="$(kubectl kustomize "$deploy/$dir" 2>&1)"; then
    fail "$dir" "kubectl kustomize failed: $output"
    continue
  fi
  rendered[$dir]="$output"
  if ! kinds="$(expected_kinds "$dir")"; then
    fail "$dir" "no expectations in scripts/check-manifests.sh for this kustomization"
    continue
  fi
  total=0
  for spec in $kinds; do
    kind="${spec%%=*}" want="${spec#*=}"
    got="$(grep -cx -- "kind: $kind" <<<"$output" || true)"
    checks=$((checks + 1))
    [[ "$got" == "$want" ]] || fail "$dir" "expected $want $kind, got $got"
    total=$((total + want))
  done
  all="$(grep -c '^kind: ' <<<"$output" || true)"
  checks=$((checks + 1))
  [[ "$all" == "$total" ]] || fail "$dir" "expected $total objects, got $all: $(grep '^kind: ' <<<"$output" | sort | uniq -c | tr -s ' \n' ' ')"
  # A "default" namespace left in a binding subject means a plugin's
  # ServiceAccount would be granted in the wrong namespace.
  # Every overlay renders correctly on its own, not only through overlays/plugins.
  if [[ "$dir" == "." || "$dir" == operator || "$dir" == overlays/* ]]; then
    checks=$((checks + 1))
    ! grep -qx -- "  namespace: default" <<<"$output" || fail "$dir" "an object or subject is left in namespace default"
  fi
  # Security contexts, probes, PodDisruptionBudget, anti-affinity,
  # NetworkPolicy and the CA Bundle, parsed (scripts/lib/check-workloads.mjs).
  if workload_report="$(node "$root/scripts/lib/check-workloads.mjs" <<<"$output")"; then :; else
    grep '^FAIL' <<<"$workload_report" | sed "s|^FAIL \[|FAIL [$dir: |" >&2
    failures=$((failures + $(grep -c '^FAIL' <<<"$workload_report")))
  fi
  checks=$((checks + $(sed -n 's/^checks //p' <<<"$workload_report")))
done < <(find "$deploy" -name kustomization.yaml | sort)

for dir in . crd operator overlays/plugins cert-manager; do
  [[ -n "${rendered[$dir]:-}" ]] || fail "$dir" "kustomization missing or not rendered"
done

all="${rendered[.]:-}"
if [[ -n "$all" ]]; then
  operator="$(document "$all" Deployment example-operator)"
  for arg in \
    "--secure-listen-address=0.0.0.0:8443" \
    "--upstream=http://127.0.0.1:9443/" \
    "--upstream-force-h2c" \
    "--auth-header-fields-enabled" \
    "--auth-token-audiences=operator-plugin-framework" \
    "--allow-paths=/pluginframework.v1.PluginFrameworkService/PluginStream" \
    "--tls-cert-file=/etc/kube-rbac-proxy/tls/tls.crt" \
    "--tls-private-key-file=/etc/kube-rbac-proxy/tls/tls.key"; do
    expect_text "operator deployment" "$operator" "- $arg"
  done
  expect_text "operator deployment" "$operator" "secretName: example-operator-proxy-tls"
  expect_after "operator deployment" "$operator" "        - name: OPERATOR_LISTEN" "          value: 127.0.0.1:9443"
  expect_text "operator deployment" "$operator" "serviceAccountName: example-operator"
  crd="$(document "$all" CustomResourceDefinition dnsrecords.example.pluginframework.io)"
  expect_after "DNSRecord CRD" "$crd" "    subresources:" "      status: {}"
  expect_after "operator deployment" "$operator" "        - name: POD_NAME" "          valueFrom:"
  expect_text "headless service" "$(document "$all" Service example-operator-headless)" "clusterIP: None"
  proxy_role="$(document "$all" ClusterRole example-operator-kube-rbac-proxy)"
  expect_after "proxy ClusterRole" "$proxy_role" "  - tokenreviews" "  verbs:"
  expect_after "proxy ClusterRole" "$proxy_role" "  - subjectaccessreviews" "  verbs:"
  expect_text "proxy ClusterRole" "$proxy_role" "  - create"
  proxy_binding="$(document "$all" ClusterRoleBinding example-operator-kube-rbac-proxy)"
  expect_text "proxy ClusterRoleBinding" "$proxy_binding" "  name: example-operator"
  expect_text "proxy ClusterRoleBinding" "$proxy_binding" "  namespace: operators"

  for plugin in aws gcp; do
    deployment="$(document "$all" Deployment "$plugin-plugin")"
    expect_text "$plugin deployment" "$deployment" "namespace: plugins"
    expect_after "$plugin deployment" "$deployment" "        - name: PLUGIN_NAME" "          value: $plugin"
    expect_text "$plugin deployment" "$deployment" "serviceAccountName: $plugin-plugin"
    expect_after "$plugin deployment" "$deployment" "        - name: OPERATOR_TARGET" \
      "          value: dns+https://example-operator-headless.operators.svc:8443"
    expect_text "$plugin deployment" "$deployment" "audience: operator-plugin-framework"
    expect_after "$plugin deployment" "$deployment" "        - name: PLUGIN_TOKEN_FILE" \
      "          value: /var/run/secrets/pluginframework.io/serviceaccount/token"
    expect_text "$plugin deployment" "$deployment" "mountPath: /var/run/secrets/pluginframework.io/serviceaccount"
    stream="$(document "$all" ClusterRole "$plugin-plugin-stream")"
    expect_after "$plugin stream ClusterRole" "$stream" "- nonResourceURLs:" \
      "  - /pluginframework.v1.PluginFrameworkService/PluginStream"
    expect_after "$plugin stream ClusterRole" "$stream" "  verbs:" "  - create"
    register="$(document "$all" ClusterRole "$plugin-plugin-register")"
    expect_after "$plugin register ClusterRole" "$register" "  - pluginframework.io" "  resourceNames:"
    expect_after "$plugin register ClusterRole" "$register" "  resourceNames:" "  - $plugin"
    expect_after "$plugin register ClusterRole" "$register" "  - plugins" "  verbs:"
    expect_after "$plugin register ClusterRole" "$register" "  verbs:" "  - register"
    for binding in stream register; do
      text="$(document "$all" ClusterRoleBinding "$plugin-plugin-$binding")"
      expect_after "$plugin $binding binding" "$text" "  name: $plugin-plugin" "  namespace: plugins"
      expect_text "$plugin $binding binding" "$text" "  name: $plugin-plugin-$binding"
    done
  done
fi

if ((failures > 0)); then
  echo "check-manifests: $failures of $checks checks failed" >&2
  exit 1
fi
echo "check-manifests: ${#rendered[@]} kustomizations rendered, $checks checks passed"
