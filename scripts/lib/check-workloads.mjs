// Structural checks of rendered manifests that text matching cannot do well:
//   kubectl kustomize examples/deploy | node scripts/lib/check-workloads.mjs
// Prints one "FAIL [where] what" line per failed check and "checks N" last;
// exits 1 when a check failed. Used by scripts/check-manifests.sh.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
// js-yaml comes with @kubernetes/client-node, which the workspace installs
// for the operator example: no YAML parser of our own to add.
const fromOperator = createRequire(join(root, "examples/operator/package.json"));
const fromKube = createRequire(fromOperator.resolve("@kubernetes/client-node"));
const yaml = fromKube("js-yaml");

const docs = yaml.loadAll(readFileSync(0, "utf8")).filter(Boolean);
const pluginsLabel = "pluginframework.io/plugins";
let checks = 0;
let failures = 0;
function expect(where, ok, what) {
  checks++;
  if (!ok) {
    failures++;
    console.log(`FAIL [${where}] ${what}`);
  }
}
const find = (kind, name) => docs.find((d) => d.kind === kind && d.metadata?.name === name);
const imageUser = (example) => {
  const match = /^USER (\d+):(\d+)$/m.exec(
    readFileSync(join(root, `examples/${example}/Dockerfile`), "utf8"),
  );
  return match ? { user: Number(match[1]), group: Number(match[2]) } : undefined;
};

// Every container of every Deployment: the restricted Pod Security Standard and more.
for (const deployment of docs.filter((d) => d.kind === "Deployment")) {
  const pod = deployment.spec.template.spec;
  const podContext = pod.securityContext ?? {};
  for (const container of pod.containers) {
    const where = `${deployment.metadata.name}/${container.name}`;
    const context = { ...podContext, ...(container.securityContext ?? {}) };
    expect(where, context.readOnlyRootFilesystem === true, "readOnlyRootFilesystem: true");
    expect(where, context.allowPrivilegeEscalation === false, "allowPrivilegeEscalation: false");
    expect(where, context.privileged !== true, "not privileged");
    expect(where, context.capabilities?.drop?.includes("ALL"), 'capabilities.drop: ["ALL"]');
    expect(where, (context.capabilities?.add ?? []).length === 0, "no added capabilities");
    expect(where, context.seccompProfile?.type === "RuntimeDefault", "seccompProfile RuntimeDefault");
    expect(where, context.runAsNonRoot === true, "runAsNonRoot: true");
    expect(
      where,
      Number.isInteger(context.runAsUser) && context.runAsUser > 0,
      "a numeric non-root runAsUser",
    );
    expect(where, container.readinessProbe !== undefined, "a readinessProbe");
    expect(where, container.resources?.limits?.memory !== undefined, "a memory limit");
    // Our images: the manifests' user is the Dockerfile's USER.
    const example = container.image?.includes("operator-plugin-framework-operator")
      ? "operator"
      : container.image?.includes("operator-plugin-framework-plugin")
        ? "plugin"
        : undefined;
    if (example) {
      const user = imageUser(example);
      expect(where, user !== undefined, `examples/${example}/Dockerfile has a numeric USER uid:gid`);
      expect(
        where,
        user && context.runAsUser === user.user && context.runAsGroup === user.group,
        `runAsUser/runAsGroup match examples/${example}/Dockerfile's USER ${user?.user}:${user?.group}`,
      );
      checkHealthProbes(where, example, container);
    }
  }
}

/**
 * Our containers are probed on the health port they serve: the operator's
 * gRPC health (OPERATOR_HEALTH_LISTEN) with `grpc` probes, the plugin's
 * /readyz and /livez (PLUGIN_HEALTH_PORT) with `httpGet` probes.
 */
function checkHealthProbes(where, example, container) {
  const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
  const served =
    example === "operator"
      ? Number(/:(\d+)$/.exec(env.OPERATOR_HEALTH_LISTEN ?? "")?.[1])
      : Number(env.PLUGIN_HEALTH_PORT);
  const setting = example === "operator" ? "OPERATOR_HEALTH_LISTEN" : "PLUGIN_HEALTH_PORT";
  expect(where, Number.isInteger(served) && served > 0, `${setting} sets the health port`);
  // A probe port may be a number or the name of a containerPort.
  const portOf = (port) =>
    typeof port === "string" ? container.ports?.find((p) => p.name === port)?.containerPort : port;
  const probes = { readinessProbe: "/readyz", livenessProbe: "/livez" };
  for (const [kind, path] of Object.entries(probes)) {
    const probe = container[kind];
    if (example === "operator") {
      expect(where, probe?.grpc !== undefined && !probe.exec, `${kind} is a grpc probe`);
      expect(where, portOf(probe?.grpc?.port) === served, `${kind} dials the health port ${served}`);
      expect(where, !probe?.grpc?.service, `${kind} checks the server ("" service)`);
    } else {
      expect(where, probe?.httpGet?.path === path && !probe.exec, `${kind} is httpGet ${path}`);
      expect(where, portOf(probe?.httpGet?.port) === served, `${kind} gets the health port ${served}`);
      expect(where, (probe?.httpGet?.scheme ?? "HTTP") === "HTTP", `${kind} uses plain HTTP`);
    }
  }
}

const operator = find("Deployment", "example-operator");
if (operator) {
  const pod = operator.spec.template.spec;
  const labels = operator.spec.selector.matchLabels;
  for (const name of ["operator", "kube-rbac-proxy"]) {
    const container = pod.containers.find((c) => c.name === name);
    expect(`example-operator/${name}`, container?.livenessProbe !== undefined, "a livenessProbe");
  }
  const terms = pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  expect(
    "operator anti-affinity",
    terms.some(
      (t) =>
        t.podAffinityTerm.topologyKey === "kubernetes.io/hostname" &&
        JSON.stringify(t.podAffinityTerm.labelSelector?.matchLabels) === JSON.stringify(labels),
    ),
    "replicas prefer different nodes (podAntiAffinity on kubernetes.io/hostname, same labels)",
  );
  const budget = find("PodDisruptionBudget", "example-operator");
  expect("operator PodDisruptionBudget", budget !== undefined, "exists");
  expect(
    "operator PodDisruptionBudget",
    budget && JSON.stringify(budget.spec.selector.matchLabels) === JSON.stringify(labels),
    "selects the operator's pods",
  );
  expect(
    "operator PodDisruptionBudget",
    budget && budget.spec.minAvailable >= 1 && budget.spec.minAvailable < operator.spec.replicas,
    `minAvailable at least 1 and below the ${operator.spec.replicas} replicas (else no node can drain)`,
  );
  const policy = find("NetworkPolicy", "example-operator");
  expect("operator NetworkPolicy", policy !== undefined, "exists");
  if (policy) {
    expect(
      "operator NetworkPolicy",
      JSON.stringify(policy.spec.podSelector.matchLabels) === JSON.stringify(labels),
      "selects the operator's pods",
    );
    expect("operator NetworkPolicy", policy.spec.policyTypes?.includes("Ingress"), "policyTypes has Ingress");
    const rules = policy.spec.ingress ?? [];
    expect(
      "operator NetworkPolicy",
      rules.length > 0 &&
        rules.every(
          (rule) =>
            (rule.from ?? []).length > 0 &&
            rule.from.every(
              (peer) => peer.namespaceSelector?.matchLabels?.[pluginsLabel] === "true" && !peer.ipBlock,
            ) &&
            rule.ports?.length === 1 &&
            rule.ports[0].port === 8443 &&
            (rule.ports[0].protocol ?? "TCP") === "TCP",
        ),
      `every ingress rule admits only namespaces labelled ${pluginsLabel}=true, only to TCP 8443`,
    );
  }
}

// Plugin namespaces carry the label the NetworkPolicy and the CA Bundle select.
for (const deployment of docs.filter((d) => d.kind === "Deployment" && d.metadata.name.endsWith("-plugin"))) {
  const namespace = find("Namespace", deployment.metadata.namespace);
  if (namespace) {
    expect(
      `namespace ${namespace.metadata.name}`,
      namespace.metadata.labels?.[pluginsLabel] === "true",
      `labelled ${pluginsLabel}: "true"`,
    );
  }
  const ca = deployment.spec.template.spec.volumes?.find((v) => v.name === "operator-ca");
  expect(
    deployment.metadata.name,
    ca?.configMap?.name === "operator-ca",
    'mounts the ConfigMap "operator-ca"',
  );
}

// The CA distribution (cert-manager kustomization): trust-manager keeps every
// plugin namespace's ConfigMap current, from a CA that keeps its key.
const bundle = find("Bundle", "operator-ca");
if (bundle) {
  expect("CA Bundle", bundle.spec.target?.configMap?.key === "ca.crt", "writes key ca.crt");
  expect(
    "CA Bundle",
    bundle.spec.target?.namespaceSelector?.matchLabels?.[pluginsLabel] === "true",
    `targets namespaces labelled ${pluginsLabel}=true`,
  );
  const source = bundle.spec.sources?.find((s) => s.secret)?.secret;
  expect("CA Bundle", source?.key === "ca.crt", "reads only ca.crt of the CA Secret");
  const ca = docs.find((d) => d.kind === "Certificate" && d.spec.isCA);
  expect("CA Certificate", ca?.spec.secretName === source?.name, "is the Secret the Bundle reads");
  expect(
    "CA Certificate",
    ca?.metadata.namespace === "cert-manager",
    "lives in trust-manager's trust namespace",
  );
  expect("CA Certificate", ca?.spec.privateKey?.rotationPolicy === "Never", "keeps its key across renewals");
}

console.log(`checks ${checks}`);
process.exitCode = failures > 0 ? 1 : 0;
