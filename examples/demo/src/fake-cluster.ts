import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { startFakeKubeApi } from "@operator-plugin-framework/testkit/kube";
import { startFakeKubeRbacProxy } from "@operator-plugin-framework/testkit/proxy";
import { createTestCertificates } from "@operator-plugin-framework/testkit/tls";

const STREAM_PATH = "/pluginframework.v1.PluginFrameworkService/PluginStream";
const NAMESPACE = "plugins";
/** The audience of the plugins' projected tokens (`--auth-token-audiences`), as in examples/deploy. */
const AUDIENCE = "operator-plugin-framework";
/** The operator pod's ServiceAccount, used by both the operator and its proxy sidecar. */
const OPERATOR_USER = "system:serviceaccount:operators:example-operator";
/** Where the operator's Lease and the DNSRecords live. */
export const OPERATOR_NAMESPACE = "operators";

/** The stand-in for a cluster: a fake Kubernetes API, and the files the processes read. */
export interface DemoCluster {
  /** `https://127.0.0.1:PORT` of the fake API. */
  apiUrl: string;
  /** A kubeconfig for the operator's ServiceAccount (it may create SubjectAccessReviews). */
  kubeconfigFile: string;
  /** The CA (PEM file) that signed the proxy's certificate. */
  caFile: string;
  /** A cluster administrator's client configuration: what `kubectl` would use. */
  adminKubeConfig(): KubeConfig;
  /** A file holding the ServiceAccount token of `plugins/<name>`, as a projected token would. */
  tokenFile(name: string): string;
  /** Starts a kube-rbac-proxy (the testkit's fake) in front of one operator replica; resolves with its URL. */
  startProxy(operatorAddress: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the testkit's fake Kubernetes API with the RBAC a real cluster would
 * have from examples/deploy: each plugin ServiceAccount may open the plugin
 * stream (non-resource path, verb `create`) and `register` only the plugin
 * named after it (`resourceNames`); the operator's ServiceAccount may create
 * TokenReviews and SubjectAccessReviews, hold its Lease, and watch DNSRecords,
 * their finalizers and their status. The DNSRecord type is served as if
 * examples/deploy/crd were applied.
 */
export async function startDemoCluster(serviceAccounts: string[]): Promise<DemoCluster> {
  const dir = mkdtempSync(join(tmpdir(), "opf-demo-"));
  // Removed on every exit path, like the child processes.
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.on("exit", removeDir);

  const kube = await startFakeKubeApi();
  kube.resources.register({
    group: "example.pluginframework.io",
    version: "v1alpha1",
    plural: "dnsrecords",
    kind: "DNSRecord",
  });
  const operatorToken = randomBytes(24).toString("base64url");
  kube.tokens.set(operatorToken, { user: OPERATOR_USER });
  for (const resource of ["tokenreviews", "subjectaccessreviews"]) {
    const group = resource === "tokenreviews" ? "authentication.k8s.io" : "authorization.k8s.io";
    kube.rules.allow({ user: OPERATOR_USER, resourceAttributes: { group, resource, verb: "create" } });
  }
  // examples/deploy/operator/leader-election-rbac.yaml and dnsrecord-rbac.yaml.
  const namespaced = [
    [
      "coordination.k8s.io",
      "leases",
      undefined,
      ["get", "list", "watch", "create", "update", "patch", "delete"],
    ],
    ["example.pluginframework.io", "dnsrecords", undefined, ["get", "list", "watch", "update", "patch"]],
    ["example.pluginframework.io", "dnsrecords", "status", ["get", "update", "patch"]],
  ] as const;
  for (const [group, resource, subresource, verbs] of namespaced) {
    for (const verb of verbs) {
      kube.rules.allow({
        user: OPERATOR_USER,
        resourceAttributes: {
          group,
          resource,
          verb,
          namespace: OPERATOR_NAMESPACE,
          ...(subresource ? { subresource } : {}),
        },
      });
    }
  }
  for (const name of serviceAccounts) {
    const user = `system:serviceaccount:${NAMESPACE}:${name}`;
    const token = randomBytes(24).toString("base64url");
    kube.tokens.set(token, {
      user,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${NAMESPACE}`, "system:authenticated"],
      audiences: [AUDIENCE],
    });
    writeFileSync(join(dir, `${name}.token`), token, { mode: 0o600 });
    kube.rules.allow({ user, nonResourceAttributes: { path: STREAM_PATH, verb: "create" } });
    kube.rules.allow({
      user,
      resourceAttributes: { group: "pluginframework.io", resource: "plugins", verb: "register", name },
    });
  }
  const kubeconfigFile = join(dir, "operator.kubeconfig");
  await kube.writeKubeconfig(kubeconfigFile, { token: operatorToken });

  const certs = await createTestCertificates({ hosts: ["127.0.0.1", "localhost"] });
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, certs.ca.cert);
  const proxies: Awaited<ReturnType<typeof startFakeKubeRbacProxy>>[] = [];

  return {
    apiUrl: kube.url,
    kubeconfigFile,
    caFile,
    adminKubeConfig: () => kube.kubeConfig(),
    tokenFile: (name) => join(dir, `${name}.token`),
    async startProxy(operatorAddress) {
      // The sidecar's flags in examples/deploy: TokenReview with the audience,
      // SubjectAccessReview on the path, identity headers, only the stream's path.
      const proxy = await startFakeKubeRbacProxy({
        upstream: `http://${operatorAddress}`,
        tls: certs.server,
        kube: { url: kube.url, caPem: kube.caPem, token: operatorToken },
        audiences: [AUDIENCE],
        allowPaths: [STREAM_PATH],
        authHeaderFields: true,
      });
      proxies.push(proxy);
      return proxy.url;
    },
    async close() {
      await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
      await kube.close();
      removeDir();
      process.off("exit", removeDir);
    },
  };
}
