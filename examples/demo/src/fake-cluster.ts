import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeKubeApi } from "@operator-plugin-framework/testkit/kube";
import { startFakeKubeRbacProxy } from "@operator-plugin-framework/testkit/proxy";
import { createTestCertificates } from "@operator-plugin-framework/testkit/tls";

const STREAM_PATH = "/pluginframework.v1.PluginFrameworkService/PluginStream";
const NAMESPACE = "plugins";
/** The audience of the plugins' projected tokens (`--auth-token-audiences`), as in examples/deploy. */
const AUDIENCE = "operator-plugin-framework";
/** The operator pod's ServiceAccount, used by both the operator and its proxy sidecar. */
const OPERATOR_USER = "system:serviceaccount:operators:example-operator";

/** The stand-in for a cluster: a fake Kubernetes API, and the files the processes read. */
export interface DemoCluster {
  /** `https://127.0.0.1:PORT` of the fake API. */
  apiUrl: string;
  /** A kubeconfig for the operator's ServiceAccount (it may create SubjectAccessReviews). */
  kubeconfigFile: string;
  /** The CA (PEM file) that signed the proxy's certificate. */
  caFile: string;
  /** A file holding the ServiceAccount token of `plugins/<name>`, as a projected token would. */
  tokenFile(name: string): string;
  /** Starts kube-rbac-proxy (the testkit's fake) in front of the operator; resolves with its URL. */
  startProxy(operatorAddress: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the testkit's fake Kubernetes API with the RBAC a real cluster would
 * have from examples/deploy: each plugin ServiceAccount may open the plugin
 * stream (non-resource path, verb `create`) and `register` only the plugin
 * named after it (`resourceNames`); the operator's ServiceAccount may create
 * TokenReviews and SubjectAccessReviews.
 */
export async function startDemoCluster(serviceAccounts: string[]): Promise<DemoCluster> {
  const dir = mkdtempSync(join(tmpdir(), "opf-demo-"));
  // Removed on every exit path, like the child processes.
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.on("exit", removeDir);

  const kube = await startFakeKubeApi();
  const operatorToken = randomBytes(24).toString("base64url");
  kube.tokens.set(operatorToken, { user: OPERATOR_USER });
  for (const resource of ["tokenreviews", "subjectaccessreviews"]) {
    const group = resource === "tokenreviews" ? "authentication.k8s.io" : "authorization.k8s.io";
    kube.rules.allow({ user: OPERATOR_USER, resourceAttributes: { group, resource, verb: "create" } });
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
  let proxy: Awaited<ReturnType<typeof startFakeKubeRbacProxy>> | undefined;

  return {
    apiUrl: kube.url,
    kubeconfigFile,
    caFile,
    tokenFile: (name) => join(dir, `${name}.token`),
    async startProxy(operatorAddress) {
      // The sidecar's flags in examples/deploy: TokenReview with the audience,
      // SubjectAccessReview on the path, identity headers, only the stream's path.
      proxy = await startFakeKubeRbacProxy({
        upstream: `http://${operatorAddress}`,
        tls: certs.server,
        kube: { url: kube.url, caPem: kube.caPem, token: operatorToken },
        audiences: [AUDIENCE],
        allowPaths: [STREAM_PATH],
        authHeaderFields: true,
      });
      return proxy.url;
    },
    async close() {
      await proxy?.close();
      await kube.close();
      removeDir();
      process.off("exit", removeDir);
    },
  };
}
