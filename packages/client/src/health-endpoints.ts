import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { status } from "@grpc/grpc-js";
import type { ConnectionState, PluginConnection } from "./plugin-connection.js";

/** Options of {@link serveHealthEndpoints}. */
export interface HealthEndpointsOptions {
  /** Port to listen on; 0 picks a free one. Default 8081, controller-runtime's probe port. */
  port?: number;
  /** Address to listen on. Default "0.0.0.0", since the kubelet probes the pod IP. */
  host?: string;
}

/** The running endpoints; see {@link serveHealthEndpoints}. */
export interface HealthEndpoints extends AsyncDisposable {
  /** "host:port" as bound, port resolved. */
  readonly address: string;
  /** Stops listening. */
  close(): Promise<void>;
}

/**
 * Serves the plugin Deployment's probes over plain HTTP:
 * - `GET /readyz`: 200 while the plugin is registered with at least one
 *   operator, else 503 with each operator address's state and reason;
 * - `GET /livez`: 200 until the connection is closed. Not being able to reach
 *   the operator is not a reason to restart the plugin, so it never fails for that.
 *
 * Opt-in, and the only HTTP server the client package starts.
 *
 * @example
 * const connection = connectPlugin({ ... });
 * await using health = await serveHealthEndpoints(connection, { port: 8081 });
 */
export async function serveHealthEndpoints(
  connection: PluginConnection,
  options: HealthEndpointsOptions = {},
): Promise<HealthEndpoints> {
  let closed = false;
  // Why each operator address last failed, until it registers: a retry in
  // progress ("connecting") must not hide the reason.
  const lastFailure = new Map<string, string>();
  const unsubscribe = connection.onState((state) => {
    if (state.state === "reconnecting" || state.state === "rejected") {
      lastFailure.set(state.target, `${status[state.code] ?? state.code}: ${state.details}`);
    } else if (state.state === "registered") {
      lastFailure.delete(state.target);
    }
    if (state.state === "closed" && [...connection.states.values()].every((s) => s.state === "closed")) {
      closed = true;
    }
  });
  const server = createServer((request, response) =>
    answer(request, response, connection, closed, lastFailure),
  );
  // Probes are tiny; a slow or idle client must not hold a socket.
  server.headersTimeout = 5_000;
  server.requestTimeout = 5_000;
  server.keepAliveTimeout = 1_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 8081, options.host ?? "0.0.0.0", () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    unsubscribe();
    throw err;
  }
  const { address, port } = server.address() as AddressInfo;
  const close = async () => {
    unsubscribe();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    address: `${address.includes(":") ? `[${address}]` : address}:${port}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function answer(
  request: IncomingMessage,
  response: ServerResponse,
  connection: PluginConnection,
  closed: boolean,
  lastFailure: ReadonlyMap<string, string>,
) {
  const path = (request.url ?? "/").split("?")[0];
  if (request.method !== "GET" && request.method !== "HEAD")
    return reply(response, 405, "method not allowed\n");
  if (path === "/livez")
    return closed ? reply(response, 503, "connection closed\n") : reply(response, 200, "ok\n");
  if (path === "/readyz") {
    if (connection.isRegistered) return reply(response, 200, "ok\n");
    const lines = [...connection.states.entries()].map(([target, state]) => {
      const failure = lastFailure.get(target);
      return `${target}: ${describe(state)}${failure && state.state === "connecting" ? `; last failure: ${failure}` : ""}`;
    });
    return reply(response, 503, `not registered with any operator\n${lines.join("\n")}\n`);
  }
  return reply(response, 404, "not found; try /readyz or /livez\n");
}

function describe(state: ConnectionState): string {
  switch (state.state) {
    case "connecting":
      return `connecting (attempt ${state.attempt})`;
    case "reconnecting":
    case "rejected":
      return `${state.state}, retrying in ${state.delayMs} ms: ${status[state.code] ?? state.code}: ${state.details}`;
    default:
      return state.state;
  }
}

function reply(response: ServerResponse, code: number, body: string): void {
  response.writeHead(code, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  response.end(body);
}
