import {
  type ClientUnaryCall,
  InterceptingCall,
  type Interceptor,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { EchoService, FakeSession, jsonMethod } from "./fake-session.test-support.js";
import type { PluginClientOptions } from "./plugin-handle.js";
import { addSession, createPluginRegistry } from "./registry.js";

const Echo = makeGenericClientConstructor(EchoService, "Echo");
type EchoClient = InstanceType<typeof Echo> & {
  unary(...args: unknown[]): ClientUnaryCall;
  Unary(...args: unknown[]): ClientUnaryCall;
};
const passThrough: Interceptor = (options, nextCall) => new InterceptingCall(nextCall(options));

function clientOf(session: FakeSession, options: PluginClientOptions = {}): EchoClient {
  const registry = createPluginRegistry();
  addSession(registry, session);
  return registry.get(session.name).client(Echo, options) as EchoClient;
}

interface Outcome {
  error: ServiceError | null;
  value: unknown;
  events: string[];
  status?: number;
}

/** One unary call with grpc-js's callback API; resolves once the call's "status" event fired. */
function callOnce(client: EchoClient, ...args: unknown[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = { error: null, value: undefined, events: [] };
    const call = client.unary({ text: "hi" }, ...args, (error: ServiceError | null, value: unknown) => {
      outcome.events.push("callback");
      outcome.error = error;
      outcome.value = value;
    });
    call.on("metadata", () => outcome.events.push("metadata"));
    call.on("status", (s: { code: number }) => {
      outcome.events.push("status");
      outcome.status = s.code;
      resolve(outcome);
    });
  });
}

/** What a user can compare between two outcomes (the error's stack is not part of it). */
function visible(outcome: Outcome) {
  const { error } = outcome;
  return {
    value: outcome.value,
    events: outcome.events,
    status: outcome.status,
    error: error && {
      message: error.message,
      code: error.code,
      details: error.details,
      trailers: error.metadata.getMap(),
      isError: error instanceof Error,
    },
  };
}

/** The same call on the direct path and on grpc-js's own path (forced by an interceptor). */
async function bothPaths(script: FakeSession["script"], ...args: unknown[]) {
  const direct = new FakeSession("direct");
  const grpc = new FakeSession("grpc");
  direct.script = script;
  grpc.script = script;
  return {
    direct: visible(await callOnce(clientOf(direct), ...args)),
    grpc: visible(await callOnce(clientOf(grpc, { interceptors: [passThrough] }), ...args)),
  };
}

describe("generated clients without interceptors: the direct unary path", () => {
  it("is taken only when the client has no interceptors", () => {
    expect(Object.hasOwn(clientOf(new FakeSession("a")), "unary")).toBe(true);
    expect(Object.hasOwn(clientOf(new FakeSession("b"), { interceptors: [passThrough] }), "unary")).toBe(
      false,
    );
  });

  it("answers like grpc-js: value, then metadata, callback and status events in order", async () => {
    const { direct, grpc } = await bothPaths({ messages: [{ text: "ok" }] });
    expect(direct).toEqual(grpc);
    expect(direct.value).toEqual({ text: "ok" });
    expect(direct.events).toEqual(["metadata", "callback", "status"]);
  });

  it("fails like grpc-js: same message, code, details and trailers", async () => {
    const { direct, grpc } = await bothPaths({
      status: { code: status.NOT_FOUND, details: "no such greeting", trailers: { "x-trailer": "t" } },
    });
    expect(direct).toEqual(grpc);
    expect(direct.error).toMatchObject({ code: status.NOT_FOUND, trailers: { "x-trailer": "t" } });
    expect(direct.error?.message).toBe("5 NOT_FOUND: no such greeting");
  });

  it("reports UNIMPLEMENTED for an OK status without a response", async () => {
    const { direct, grpc } = await bothPaths({ messages: [] });
    expect(direct).toEqual(grpc);
    expect(direct.error).toMatchObject({ code: status.UNIMPLEMENTED, details: "No message received" });
  });

  it("takes metadata and options in every order grpc-js does", async () => {
    const session = new FakeSession("s");
    const client = clientOf(session);
    const metadata = new Metadata();
    metadata.set("x-k", "v");
    expect((await callOnce(client, metadata)).value).toEqual({ text: "ok" });
    expect((await callOnce(client, {})).value).toEqual({ text: "ok" });
    expect((await callOnce(client, metadata, {})).value).toEqual({ text: "ok" });
    expect(() => client.unary({ text: "x" }, metadata, {})).toThrow("Incorrect arguments passed");
  });

  it("cancel() ends the call with CANCELLED", async () => {
    const session = new FakeSession("s");
    session.script = { hang: true };
    const client = clientOf(session);
    const outcome = new Promise<ServiceError | null>((resolve) => {
      const call = client.unary({ text: "x" }, (error: ServiceError | null) => resolve(error));
      call.cancel();
    });
    expect(await outcome).toMatchObject({ code: status.CANCELLED, details: "Cancelled on client" });
  });

  it("fails with INTERNAL when the request cannot be serialized or the response parsed", async () => {
    const broken = {
      ...jsonMethod("Unary", false, false),
      requestSerialize: () => {
        throw new Error("cannot encode");
      },
    };
    const unparsable = {
      ...jsonMethod("Unary", false, false),
      responseDeserialize: () => {
        throw new Error("cannot decode");
      },
    };
    for (const [method, details] of [
      [broken, "Request message serialization failure: cannot encode"],
      [unparsable, "Response message parsing error: cannot decode"],
    ] as const) {
      const Ctor = makeGenericClientConstructor({ unary: method }, "Echo");
      const registry = createPluginRegistry();
      addSession(registry, new FakeSession("s"));
      const client = registry.get("fake").client(Ctor) as EchoClient;
      expect((await callOnce(client)).error).toMatchObject({ code: status.INTERNAL, details });
    }
  });

  it("keeps the alias grpc-js adds under the method's original name", async () => {
    const client = clientOf(new FakeSession("s"));
    expect(client.Unary).toBe(client.unary);
  });
});
