import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProxyIdentity } from "@operator-plugin-framework/testkit/proxy";
import { startFakeKubeRbacProxy } from "@operator-plugin-framework/testkit/proxy";
import { createTestCertificates } from "@operator-plugin-framework/testkit/tls";

const STREAM_PATH = "/pluginframework.v1.PluginFrameworkService/PluginStream";
const NAMESPACE = "plugins";

/** The kube-rbac-proxy stand-in in front of the operator, and what plugins need to reach it. */
export interface DemoProxy {
  /** `https://127.0.0.1:PORT`. */
  url: string;
  /** The CA (PEM file) that signed the proxy's certificate. */
  caFile: string;
  /** A file holding the ServiceAccount token of `plugins/<name>`, as a projected token would. */
  tokenFile(name: string): string;
  close(): Promise<void>;
}

/**
 * Starts the testkit's fake kube-rbac-proxy on loopback: TLS in, h2c to the
 * operator, bearer tokens reviewed against a fixed table of ServiceAccounts,
 * and the identity forwarded in `x-remote-user` / `x-remote-groups`.
 */
export async function startDemoProxy(operatorAddress: string, serviceAccounts: string[]): Promise<DemoProxy> {
  const dir = mkdtempSync(join(tmpdir(), "opf-demo-"));
  // Removed on every exit path, like the child processes.
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.on("exit", removeDir);
  const tokens = new Map<string, ProxyIdentity>();
  for (const name of serviceAccounts) {
    const token = randomBytes(24).toString("base64url");
    tokens.set(token, {
      user: `system:serviceaccount:${NAMESPACE}:${name}`,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${NAMESPACE}`, "system:authenticated"],
    });
    writeFileSync(join(dir, `${name}.token`), token, { mode: 0o600 });
  }
  const certs = await createTestCertificates({ hosts: ["127.0.0.1", "localhost"] });
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, certs.ca.cert);
  const proxy = await startFakeKubeRbacProxy({
    upstream: `http://${operatorAddress}`,
    tls: certs.server,
    authenticate: async (token) => tokens.get(token),
    // The RBAC rule a real cluster would have: ServiceAccounts of the plugin
    // namespace may `create` on the stream's non-resource path.
    authorize: async ({ verb, path, groups }) =>
      verb === "create" && path === STREAM_PATH && groups.includes(`system:serviceaccounts:${NAMESPACE}`),
    allowPaths: [STREAM_PATH],
    authHeaderFields: true,
  });
  return {
    url: proxy.url,
    caFile,
    tokenFile: (name) => join(dir, `${name}.token`),
    async close() {
      await proxy.close();
      removeDir();
      process.off("exit", removeDir);
    },
  };
}
