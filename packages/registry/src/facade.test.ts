import { getEventListeners } from "node:events";
import {
  InterceptingCall,
  type Interceptor,
  makeGenericClientConstructor,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";
import { describe, expect, it } from "vitest";
import { EchoService, FakeSession } from "./fake-session.test-support.js";
import type { PluginClientOptions } from "./plugin-handle.js";
import { addSession, createPluginRegistry } from "./registry.js";

function pluginWith(session: FakeSession) {
  const registry = createPluginRegistry();
  addSession(registry, session);
  return registry.get(session.name);
}

const passThrough: Interceptor = (options, nextCall) => new InterceptingCall(nextCall(options));

async function failureOf(run: () => Promise<unknown>): Promise<unknown> {
  return run().then(
    () => expect.unreachable("the call succeeded"),
    (reason: unknown) => reason,
  );
}

async function drain(iterable: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const message of iterable) out.push(message);
  return out;
}

const withAndWithoutInterceptors: [string, PluginClientOptions][] = [
  ["without interceptors", {}],
  ["with an interceptor", { interceptors: [passThrough] }],
];

describe("facade errors: one class on every path", () => {
  for (const [label, options] of withAndWithoutInterceptors) {
    it(`every kind of call rejects with PluginFrameworkError carrying code, details and trailers (${label})`, async () => {
      const session = new FakeSession("s");
      session.script = {
        status: { code: status.NOT_FOUND, details: "no such greeting", trailers: { "x-trailer": "t" } },
      };
      const echo = pluginWith(session).service(EchoService, options);
      const request = { text: "x" };
      const failures = {
        unary: await failureOf(() => echo.unary(request)),
        clientStream: await failureOf(() => echo.clientStream([request])),
        serverStream: await failureOf(() => drain(echo.serverStream(request))),
        bidi: await failureOf(() => drain(echo.bidi([request]))),
      };
      for (const [kind, err] of Object.entries(failures)) {
        expect(err, kind).toBeInstanceOf(PluginFrameworkError);
        const error = err as PluginFrameworkError;
        expect({ code: error.code, details: error.details }, kind).toEqual({
          code: status.NOT_FOUND,
          details: "no such greeting",
        });
        expect(error.metadata.get("x-trailer"), kind).toEqual(["t"]);
      }
    });
  }

  it("keeps the grpc-js ServiceError as the cause when the call went through a grpc-js Client", async () => {
    const session = new FakeSession("s");
    session.script = { status: { code: status.PERMISSION_DENIED, details: "no" } };
    const echo = pluginWith(session).service(EchoService);
    const err = (await failureOf(() => drain(echo.serverStream({ text: "x" })))) as PluginFrameworkError;
    expect(err.cause).toBeInstanceOf(Error);
    expect(err.cause).not.toBeInstanceOf(PluginFrameworkError);
    expect(err.cause).toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it("fails a client stream with the error its request source threw", async () => {
    const session = new FakeSession("s");
    session.script = { hang: true };
    const echo = pluginWith(session).service(EchoService);
    const boom = new Error("could not read the next request");
    async function* requests() {
      yield { text: "first" };
      throw boom;
    }
    for (const run of [() => echo.clientStream(requests()), () => drain(echo.bidi(requests()))]) {
      const err = (await failureOf(run)) as PluginFrameworkError;
      expect(err).toBeInstanceOf(PluginFrameworkError);
      expect(err).toMatchObject({ code: status.CANCELLED, details: boom.message, cause: boom });
    }
    expect(session.open.size).toBe(0);
  });

  it("closes the request source of a call that fails while the source waits for room", async () => {
    const session = new FakeSession("s");
    session.script = { stallThenFail: { after: 1, code: status.RESOURCE_EXHAUSTED, details: "full" } };
    const echo = pluginWith(session).service(EchoService);
    for (const run of [
      (requests: AsyncIterable<{ text: string }>) => echo.clientStream(requests),
      (requests: AsyncIterable<{ text: string }>) => drain(echo.bidi(requests)),
    ]) {
      let closed!: () => void;
      const sourceClosed = new Promise<void>((resolve) => {
        closed = resolve;
      });
      async function* endless() {
        try {
          for (;;) yield { text: "more" };
        } finally {
          closed();
        }
      }
      await expect(run(endless())).rejects.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
      await sourceClosed;
    }
  });

  it("keeps grpc-js's ServiceError on the generated-client path, as documented", async () => {
    const session = new FakeSession("s");
    session.script = { status: { code: status.NOT_FOUND, details: "no such greeting" } };
    const Echo = makeGenericClientConstructor(EchoService, "Echo");
    const client = pluginWith(session).client(Echo);
    const err = await new Promise<ServiceError | null>((resolve) =>
      client.unary!({ text: "x" }, (error: ServiceError | null) => resolve(error)),
    );
    expect(err).not.toBeInstanceOf(PluginFrameworkError);
    expect(err).toMatchObject({ code: status.NOT_FOUND, details: "no such greeting" });
    client.close();
  });
});

describe("facade cancellation: one abort listener per signal", () => {
  it("shares one listener among many calls, and cancels them all on abort", async () => {
    const session = new FakeSession("s");
    session.script = { hang: true };
    const handle = pluginWith(session);
    const echo = handle.service(EchoService, { interceptors: [passThrough] });
    const controller = new AbortController();
    const { signal } = controller;
    const calls = [
      ...Array.from({ length: 20 }, () => handle.call(EchoService.unary, { text: "x" }, { signal })),
      echo.unary({ text: "x" }, { signal }),
      echo.clientStream([{ text: "x" }], { signal }),
      drain(echo.serverStream({ text: "x" }, { signal })),
      drain(echo.bidi([{ text: "x" }], { signal })),
    ];
    await expect.poll(() => session.open.size).toBe(24);
    expect(getEventListeners(signal, "abort")).toHaveLength(1);
    controller.abort();
    const results = await Promise.allSettled(calls);
    for (const result of results) {
      expect(result.status).toBe("rejected");
      const reason = (result as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(PluginFrameworkError);
      expect(reason.code).toBe(status.CANCELLED);
    }
    expect(session.open.size).toBe(0);
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
  });

  it("leaves no listener on a long-lived signal once its calls end", async () => {
    const session = new FakeSession("s");
    session.script = { messages: [{ text: "ok" }] };
    const handle = pluginWith(session);
    const echo = handle.service(EchoService, { interceptors: [passThrough] });
    const signal = new AbortController().signal;
    for (let round = 0; round < 3; round++) {
      const replies = await Promise.all([
        handle.call(EchoService.unary, { text: "x" }, { signal }),
        echo.unary({ text: "x" }, { signal }),
        echo.clientStream([{ text: "x" }], { signal }),
        drain(echo.serverStream({ text: "x" }, { signal })),
        drain(echo.bidi([{ text: "x" }], { signal })),
      ]);
      expect(replies).toEqual([
        { text: "ok" },
        { text: "ok" },
        { text: "ok" },
        [{ text: "ok" }],
        [{ text: "ok" }],
      ]);
      expect(getEventListeners(signal, "abort")).toHaveLength(0);
    }
  });

  it("rejects at once, without starting a call, for an already-aborted signal", async () => {
    const session = new FakeSession("s");
    const handle = pluginWith(session);
    const echo = handle.service(EchoService);
    const reason = new Error("shutting down");
    const signal = AbortSignal.abort(reason);
    const failures = [
      await failureOf(() => handle.call(EchoService.unary, { text: "x" }, { signal })),
      await failureOf(() => drain(echo.serverStream({ text: "x" }, { signal }))),
      await failureOf(() => echo.clientStream([], { signal })),
    ];
    for (const err of failures) expect(err).toMatchObject({ code: status.CANCELLED, cause: reason });
    expect(session.calls).toHaveLength(0);
  });
});
