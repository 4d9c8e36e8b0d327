import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { createTestCertificates } from "../tls/index.js";
import { createAccessRules } from "./access-rules.js";
import { ApiError, readJsonBody, sendJson, sendStatus } from "./api-status.js";
import { handleCustomResource } from "./custom-handler.js";
import { type CustomRoute, resolveCustomRoute } from "./custom-routes.js";
import { createFaultInjector } from "./faults.js";
import { buildKubeconfig } from "./kubeconfig.js";
import { createLeaseStore } from "./leases.js";
import { createObjectStore } from "./object-store.js";
import { type Route, resolveRoute } from "./routes.js";
import { reviewAccess } from "./subject-access-review.js";
import { reviewToken } from "./token-review.js";
import { createTokenRegistry } from "./token-store.js";
import type { FakeKubeApi, FakeKubeApiOptions, FakeKubeApiRequestCounts } from "./types.js";
import type { ActiveWatch } from "./watch-stream.js";

/** The audience of a token issued for the API server itself. */
export const defaultApiAudiences = ["https://kubernetes.default.svc"];

const bearer = /^Bearer\s+(\S+)\s*$/i;

/**
 * Starts a fake Kubernetes API server on `https://127.0.0.1:<ephemeral>`,
 * with a CA generated for it. It serves TokenReview, SubjectAccessReview and
 * namespaced Leases with the real JSON shapes and HTTP status codes, so the
 * real `@kubernetes/client-node` works against it. Custom resources
 * registered with `resources.register` get list, watch, CRUD, patch, the
 * status subresource and finalizers; `faults` fails or hangs chosen requests.
 *
 * Callers authenticate like on a real API server: a bearer token that is the
 * administrator's (group `system:masters`, allowed everything) or one set
 * with `tokens.set` whose audiences include the API's own; other callers are
 * authorized against `rules` (e.g. `create` on `tokenreviews` in group
 * `authentication.k8s.io`).
 *
 * @example
 * await using api = await startFakeKubeApi();
 * api.tokens.set("plugin-token", { user: "system:serviceaccount:plugins:aws", audiences: ["operator"] });
 * api.rules.allow({ user: "system:serviceaccount:plugins:aws", nonResourceAttributes: { path: "/x", verb: "create" } });
 * const kc = api.kubeConfig();
 */
export async function startFakeKubeApi(options: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
  const now = options.now ?? Date.now;
  const apiAudiences = options.apiAudiences ?? defaultApiAudiences;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const adminToken = options.adminToken ?? randomBytes(24).toString("base64url");
  const tokens = createTokenRegistry({ apiAudiences, now });
  tokens.set(adminToken, {
    user: options.adminUser ?? "kubernetes-admin",
    groups: ["system:masters", "system:authenticated"],
  });
  const rules = createAccessRules();
  const leases = createLeaseStore({ now });
  const objects = createObjectStore({ now, historySize: options.watchHistorySize ?? 1000 });
  const watches = new Set<ActiveWatch>();
  const faults = createFaultInjector(watches);
  const counts: FakeKubeApiRequestCounts = { tokenreviews: 0, subjectaccessreviews: 0, leases: 0 };
  let failure: number | undefined;

  const certs = await createTestCertificates({ hosts: ["127.0.0.1", "localhost", "::1"] });
  const sockets = new Set<Socket>();
  const server = createServer({ cert: certs.server.cert, key: certs.server.key }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const error = err instanceof ApiError ? err : new ApiError(500, "Internal error occurred");
      if (!res.headersSent) sendStatus(res, error);
      else res.destroy();
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  // A client that sends garbage or drops mid-handshake must not take the server down.
  server.on("clientError", (_err, socket) => socket.destroy());
  server.on("tlsClientError", () => {});

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "https://fake");
    let route: Route | CustomRoute = resolveRoute(method, url.pathname);
    if (route.kind === "not-found") route = resolveCustomRoute(method, url, objects.lookup) ?? route;
    if (route.kind === "tokenreviews" || route.kind === "subjectaccessreviews" || route.kind === "leases") {
      counts[route.kind] += 1;
    }
    if (failure !== undefined) throw new ApiError(failure, `fake API failure injected: HTTP ${failure}`);

    const match = bearer.exec(req.headers.authorization ?? "");
    const caller = match === null ? undefined : tokens.check(match[1]!, apiAudiences);
    if (caller === undefined || !caller.ok) throw new ApiError(401, "Unauthorized");

    if (route.kind === "not-found")
      throw new ApiError(404, "the server could not find the requested resource");
    if (route.kind === "method-not-allowed") {
      throw new ApiError(405, "the server does not allow this method on the requested resource");
    }
    const attributes = route.attributes;
    if (await faults.intercept(res, attributes, caller.token.user)) return;
    const decision = rules.decide({
      user: caller.token.user,
      groups: caller.token.groups,
      resourceAttributes: attributes,
    });
    if (!decision.allowed) {
      const scope =
        attributes.namespace === undefined
          ? "at the cluster scope"
          : `in the namespace "${attributes.namespace}"`;
      throw new ApiError(
        403,
        `${attributes.resource}.${attributes.group} is forbidden: User "${caller.token.user}" cannot ${attributes.verb} resource "${attributes.resource}" in API group "${attributes.group}" ${scope}`,
      );
    }

    switch (route.kind) {
      case "tokenreviews":
        sendJson(res, 201, reviewToken(await readJsonBody(req, maxBodyBytes), tokens, apiAudiences));
        return;
      case "subjectaccessreviews":
        sendJson(res, 201, reviewAccess(await readJsonBody(req, maxBodyBytes), rules));
        return;
      case "custom":
        await handleCustomResource(route, req, res, { store: objects, maxBodyBytes, watches });
        return;
      case "leases": {
        const namespace = route.attributes.namespace;
        const result =
          method === "GET"
            ? route.name === undefined
              ? leases.list(namespace)
              : leases.get(namespace, route.name)
            : method === "DELETE"
              ? leases.delete(namespace, route.name!)
              : method === "POST"
                ? leases.create(namespace, await readJsonBody(req, maxBodyBytes))
                : leases.replace(namespace, route.name!, await readJsonBody(req, maxBodyBytes));
        sendJson(res, result.httpStatus, result.body);
        return;
      }
    }
  }

  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfigText = (opts?: { token?: string }) =>
    buildKubeconfig({ url, caPem: certs.ca.cert, token: opts?.token ?? adminToken });

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      const stopped = once(server, "close");
      const socketsClosed = [...sockets].map((socket) => once(socket, "close"));
      faults.clear();
      for (const watch of [...watches]) watch.destroy();
      server.close();
      for (const socket of sockets) socket.destroy();
      await Promise.all([stopped, ...socketsClosed]);
    })();
    return closed;
  };

  return {
    url,
    caPem: certs.ca.cert,
    adminToken,
    tokens: { set: tokens.set, revoke: tokens.revoke },
    rules: { allow: rules.allow, clear: rules.clear },
    resources: {
      register: objects.register,
      compactHistory: objects.compactHistory,
      resourceVersion: objects.resourceVersion,
    },
    faults: {
      failNext: faults.failNext,
      hangNext: faults.hangNext,
      dropWatches: faults.dropWatches,
      clear: faults.clear,
    },
    requests: Object.defineProperties({} as FakeKubeApiRequestCounts & { reset(): void }, {
      tokenreviews: { get: () => counts.tokenreviews, enumerable: true },
      subjectaccessreviews: { get: () => counts.subjectaccessreviews, enumerable: true },
      leases: { get: () => counts.leases, enumerable: true },
      reset: {
        value: () => {
          counts.tokenreviews = 0;
          counts.subjectaccessreviews = 0;
          counts.leases = 0;
        },
      },
    }),
    setFailure(httpStatus) {
      failure = httpStatus;
    },
    connections: () => sockets.size,
    kubeConfig(opts) {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfigText(opts));
      return kc;
    },
    kubeconfigText,
    async writeKubeconfig(path, opts) {
      await writeFile(path, kubeconfigText(opts), { mode: 0o600 });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
