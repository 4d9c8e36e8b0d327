import { BlockList, isIP } from "node:net";
import { status } from "@grpc/grpc-js";
import type { PluginNameAuthorizer, StreamAuthenticator } from "@operator-plugin-framework/auth";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";
import { formatListenAddress, type ListenAddress } from "./listen-address.js";

/** The auth-related options of a plugin server, as given. */
export interface AuthOptions {
  authenticator: StreamAuthenticator | "none" | undefined;
  authorizeName: PluginNameAuthorizer | undefined;
  listen: readonly ListenAddress[];
}

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/**
 * True for a literal loopback address (127.0.0.0/8, ::1, or an IPv4-mapped
 * 127.x). A host name, even "localhost", is not: what it resolves to is
 * decided outside the operator's configuration.
 */
export function isLoopbackHost(host: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  const address = mapped ? mapped[1]! : host;
  const version = isIP(address);
  if (version === 0) return false;
  return loopback.check(address, version === 4 ? "ipv4" : "ipv6");
}

/**
 * Refuses configurations that would let one plugin act as another, before
 * the server listens. Throws INVALID_ARGUMENT saying what is wrong and how
 * to fix it.
 *
 * - An authenticator that believes its peer's identity headers (the
 *   `proxyHeaderAuthenticator`) may only listen on loopback or a unix socket,
 *   where nothing but the proxy sidecar can connect, unless it names the
 *   proxy addresses it trusts (`trustProxyHeadersFrom`): it then refuses
 *   streams from every other peer itself.
 * - An authenticator requires an explicit name policy (`authorizeName`):
 *   without one, any authenticated plugin could register another's name and
 *   take its calls. `allowAllNames()` is the explicit opt-out. The server
 *   refuses rather than default to SubjectAccessReview because it has no
 *   Kubernetes client of its own (proxy-header mode needs none).
 */
export function checkAuthOptions(options: AuthOptions): void {
  const { authenticator } = options;
  if (authenticator === undefined || authenticator === "none") return;
  const trust = authenticator.trustsPeerHeaders;
  if (trust !== undefined && trust.trustedFrom.length === 0) {
    const exposed = options.listen.filter(
      (address) => address.kind === "tcp" && !isLoopbackHost(address.host),
    );
    if (exposed.length > 0) {
      const where = exposed.map((address) => formatListenAddress(address)).join(", ");
      const headers = trust.headers.join(" and ");
      throw new PluginFrameworkError(
        status.INVALID_ARGUMENT,
        `refusing to listen on ${where} with the ${authenticator.mode} authenticator: it believes the ` +
          `${headers} headers of whoever connects, so any client that reaches ${where} directly could forge ` +
          "them and register any plugin name. Listen on 127.0.0.1:PORT, [::1]:PORT or unix:///path behind " +
          `kube-rbac-proxy; or, for a proxy that connects from another address, name it with ${trust.option} ` +
          '(e.g. ["10.0.0.5"]): streams from any other non-loopback peer are then refused',
      );
    }
  }
  if (options.authorizeName === undefined) {
    throw new PluginFrameworkError(
      status.INVALID_ARGUMENT,
      `the ${authenticator.mode} authenticator is set but no authorizeName: any authenticated plugin could ` +
        "register any name, including another plugin's, and take its calls. Bind names to identities with " +
        "authorizeName: subjectAccessReviewNameAuthorizer({ kubeConfig }) (RBAC on plugins.pluginframework.io) " +
        "or nameAuthorizer(policy), or pass authorizeName: allowAllNames() to allow every identity every name",
    );
  }
}
