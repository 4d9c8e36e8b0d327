// The proxy role: the testkit's fake kube-rbac-proxy in its own process, as
// the sidecar container is in the operator's pod. TLS + bearer token in, h2c out.
import { type FakeKubeRbacProxy, startFakeKubeRbacProxy } from "@operator-plugin-framework/testkit/proxy";
import type { Handlers } from "./worker-protocol.js";

export function createProxyRole(): Handlers {
  let proxy: FakeKubeRbacProxy | undefined;
  return {
    /** Starts the proxy in front of `upstream`; resolves with its URL. */
    async startProxy(args: { upstream: string; tls: { cert: string; key: string } }): Promise<string> {
      proxy = await startFakeKubeRbacProxy({
        upstream: args.upstream,
        tls: args.tls,
        authenticate: async () => ({ user: "system:serviceaccount:bench:plugin", groups: [] }),
        authorize: async () => true,
      });
      return proxy.url;
    },
    async close(): Promise<void> {
      await proxy?.close();
    },
  };
}
