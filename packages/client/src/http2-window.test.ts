import { once } from "node:events";
import { createServer, type Http2Session, type Settings } from "node:http2";
import type { AddressInfo } from "node:net";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { quietLogger } from "@operator-plugin-framework/wire";
import { describe, expect, it } from "vitest";
import { connectPlugin } from "./connect-plugin.js";
import { noopGreeter } from "./test-support/noop-greeter.js";
import { service } from "./typed-service.js";

const services = [service(GreeterServiceService, noopGreeter)];

/** The windows the first connection to a bare HTTP/2 server is granted by the plugin: stream (SETTINGS) and connection. */
async function windowsGrantedByPlugin(grpcOptions?: Record<string, number>) {
  const server = createServer();
  server.on("stream", (stream) => stream.respond({ ":status": 503 }, { endStream: true }));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const connection = connectPlugin({
    name: "windows",
    target: `http://127.0.0.1:${port}`,
    services,
    logger: quietLogger,
    grpcOptions,
  });
  try {
    const [session] = (await once(server, "session")) as [Http2Session];
    const [settings] = (await once(session, "remoteSettings")) as [Settings];
    // grpc-js widens the connection window as it connects, before any later frame such as a ping's ack.
    await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
    return { stream: settings.initialWindowSize, connection: session.state.remoteWindowSize };
  } finally {
    await connection.close();
    server.close();
  }
}

describe("the plugin's HTTP/2 windows", () => {
  it("grants the operator 1 MiB for the stream and the connection, not Node's 64 KiB", async () => {
    expect(await windowsGrantedByPlugin()).toEqual({ stream: 1024 * 1024, connection: 1024 * 1024 });
  });

  it("lets grpcOptions choose another size", async () => {
    expect(await windowsGrantedByPlugin({ "grpc-node.flow_control_window": 200_000 })).toEqual({
      stream: 200_000,
      connection: 200_000,
    });
  });
});
