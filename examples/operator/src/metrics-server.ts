import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** A running `/metrics` endpoint. */
export interface MetricsServer {
  /** "host:port", the port resolved. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Serves `registry` as Prometheus text on `GET /metrics` at `listen`
 * ("0.0.0.0:8080", "127.0.0.1:0"), on a port of its own as controller-runtime
 * does: Prometheus scrapes the pod IP, while the plugin port stays loopback
 * behind kube-rbac-proxy. Anything else is 404.
 */
export async function serveMetrics(listen: string, registry: Registry): Promise<MetricsServer> {
  const colon = listen.lastIndexOf(":");
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, "");
  const port = Number(listen.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--metrics-listen needs "host:port" (such as 0.0.0.0:8080), got "${listen}"`);
  }
  const server = createServer((request, response) => {
    if (request.method !== "GET" || request.url?.split("?")[0] !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found; try GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { "content-type": registry.contentType }).end(text),
      (err: unknown) => response.writeHead(500, { "content-type": "text/plain" }).end(`${String(err)}\n`),
    );
  });
  server.listen(port, host);
  await once(server, "listening");
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
