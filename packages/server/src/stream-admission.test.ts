import { credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import type {
  PluginIdentity,
  PluginNameAuthorizer,
  StreamAuthenticator,
} from "@operator-plugin-framework/auth";
import { PluginFrameworkServiceClient, type PluginStreamMessage } from "@operator-plugin-framework/proto";
import { quietLogger } from "@operator-plugin-framework/wire";
import { describe, expect, it } from "vitest";
import { createPluginServer } from "./plugin-server.js";

const never = <T>() => new Promise<T>(() => {});
const someone: PluginIdentity = { user: "someone", groups: [] };

/** Opens a plugin stream, optionally registers, and resolves with how the server ended it. */
async function streamOutcome(
  options: { authenticator: StreamAuthenticator; authorizeName: PluginNameAuthorizer },
  sendRegister: boolean,
): Promise<{ code: status; details: string }> {
  await using server = createPluginServer({
    listen: "127.0.0.1:0",
    registerTimeoutMs: 2_000, // long enough for register to arrive first on a loaded machine
    logger: quietLogger,
    ...options,
  });
  const [address] = await server.ready();
  const client = new PluginFrameworkServiceClient(address!, credentials.createInsecure());
  try {
    const stream = client.pluginStream(new Metadata());
    const ended = new Promise<{ code: status; details: string }>((resolve) => {
      stream.on("error", (err: ServiceError) => resolve({ code: err.code, details: err.details }));
      stream.on("status", (s) => resolve({ code: s.code, details: s.details }));
    });
    stream.on("data", () => {});
    if (sendRegister) {
      const register: PluginStreamMessage = {
        payload: {
          $case: "register",
          value: {
            name: "aws",
            version: "v1",
            protocolRevision: 1,
            services: [],
            settings: undefined,
            labels: {},
            fileDescriptorSet: Buffer.alloc(0),
          },
        },
      };
      stream.write(register);
    }
    return await ended;
  } finally {
    client.close();
  }
}

describe("a stream not admitted within registerTimeoutMs", () => {
  const hangingAuthenticator: StreamAuthenticator = { mode: "token-review", authenticate: never };
  const instantAuthenticator: StreamAuthenticator = { mode: "test", authenticate: async () => someone };

  it("without register: DEADLINE_EXCEEDED, no register message", async () => {
    const outcome = await streamOutcome(
      { authenticator: instantAuthenticator, authorizeName: async () => ({ allowed: true }) },
      false,
    );
    expect(outcome).toEqual({
      code: status.DEADLINE_EXCEEDED,
      details: "no register message within 2000 ms",
    });
  });

  it("with register but authentication pending: UNAVAILABLE naming the authenticator", async () => {
    const outcome = await streamOutcome(
      { authenticator: hangingAuthenticator, authorizeName: async () => ({ allowed: true }) },
      true,
    );
    expect(outcome.code).toBe(status.UNAVAILABLE);
    expect(outcome.details).toMatch(
      /^register for plugin "aws" arrived, but authenticating the stream \(token-review\) did not finish within 2000 ms/,
    );
  });

  it("with register but the name policy pending: UNAVAILABLE naming that check", async () => {
    const outcome = await streamOutcome({ authenticator: instantAuthenticator, authorizeName: never }, true);
    expect(outcome.code).toBe(status.UNAVAILABLE);
    expect(outcome.details).toMatch(
      /^register for plugin "aws" arrived, but authorizing that name did not finish within 2000 ms/,
    );
  });
});
