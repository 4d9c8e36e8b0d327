import { credentials } from "@grpc/grpc-js";
import { GreeterServiceClient, GreeterServiceService } from "@operator-plugin-framework/proto/example";
import {
  type SimpleRequest,
  TestServiceClient,
  TestServiceService,
} from "@operator-plugin-framework/proto/testing";
import type { PluginHandle } from "@operator-plugin-framework/server";
import { BurstPipe, EchoPipe, FloorClient } from "./floor.js";
import { BIG } from "./limits.js";

/**
 * direct, floor: baselines over grpc-js. tunnel: the operator calls the plugin
 * with the generated client (`handle.client(Ctor)`); call: the same through
 * `handle.call()` (and `handle.service()` for streaming); proxy: the tunnel
 * with the plugin behind the fake kube-rbac-proxy; observed: the tunnel
 * with metrics and tracing on at both ends, every trace recorded; sampled:
 * the same with 10 % of traces recorded (ParentBased(TraceIdRatioBased)).
 */
export type VariantName = "direct" | "tunnel" | "call" | "proxy" | "observed" | "sampled" | "floor";

/** One way of reaching the benchmark services, seen from the caller. */
export interface Variant {
  readonly name: VariantName;
  /** A function making one unary round trip with these payload sizes. */
  unary(requestBytes: number, responseBytes: number): () => Promise<void>;
  /** Receives up to `count` server-streamed messages of about 64 bytes within `maxMs`; resolves with how many arrived. */
  stream(count: number, maxMs: number): Promise<number>;
  /** Receives `chunks` server-streamed messages of `chunkBytes` each (the mixed-load transfer). */
  transfer?(chunks: number, chunkBytes: number): Promise<void>;
  close(): void;
}

const zeros = Buffer.alloc(4 * 1024 * 1024);

function simpleRequest(requestBytes: number, responseBytes: number): SimpleRequest {
  return {
    responseSize: responseBytes,
    payload: { body: zeros.subarray(0, requestBytes) },
    responseStatus: undefined,
    sleepMs: 0,
  };
}

type Tester = InstanceType<typeof TestServiceClient>;
type Greeter = InstanceType<typeof GreeterServiceClient>;

/** A variant that uses generated ts-proto clients, whatever channel is under them. */
export function generatedVariant(name: VariantName, tester: Tester, greeter: Greeter): Variant {
  return {
    name,
    unary(requestBytes, responseBytes) {
      const request = simpleRequest(requestBytes, responseBytes);
      return () =>
        new Promise<void>((resolve, reject) => {
          tester.unaryCall(request, (err) => (err ? reject(err) : resolve()));
        });
    },
    stream(count, maxMs) {
      return new Promise<number>((resolve, reject) => {
        let received = 0;
        const call = greeter.countGreetings({ name: "", count });
        // Bounded in time too: at maxMs, cancel and count what arrived.
        const timer = setTimeout(() => {
          call.removeAllListeners("error").on("error", () => {});
          call.cancel();
          resolve(received);
        }, maxMs);
        call.on("data", () => received++);
        call.on("error", (err) => {
          clearTimeout(timer);
          reject(err);
        });
        call.on("end", () => {
          clearTimeout(timer);
          if (received === count) resolve(received);
          else reject(new Error(`stream ended after ${received} of ${count} messages`));
        });
      });
    },
    transfer(chunks, chunkBytes) {
      return new Promise<void>((resolve, reject) => {
        const responseParameters = Array.from({ length: chunks }, () => ({
          size: chunkBytes,
          intervalUs: 0,
        }));
        const call = tester.streamingOutputCall({
          responseParameters,
          payload: undefined,
          responseStatus: undefined,
        });
        call.on("data", () => {});
        call.on("error", reject);
        call.on("end", resolve);
      });
    },
    close() {
      tester.close();
      greeter.close();
    },
  };
}

/** The generated clients of a direct grpc-js connection. */
export function directVariant(target: string): Variant {
  const insecure = credentials.createInsecure();
  return generatedVariant(
    "direct",
    new TestServiceClient(target, insecure, BIG),
    new GreeterServiceClient(target, insecure, BIG),
  );
}

/** The generated clients of a plugin, made from its handle. */
export function handleVariant(
  name: "tunnel" | "proxy" | "observed" | "sampled",
  handle: PluginHandle,
): Variant {
  return generatedVariant(
    name,
    handle.client(TestServiceClient, BIG),
    handle.client(GreeterServiceClient, BIG),
  );
}

/** `handle.call()` for unary calls, `handle.service()` for streaming: the promise API. */
export function callVariant(handle: PluginHandle): Variant {
  const greeter = handle.service(GreeterServiceService);
  return {
    name: "call",
    unary(requestBytes, responseBytes) {
      const request = simpleRequest(requestBytes, responseBytes);
      return async () => {
        await handle.call(TestServiceService.unaryCall, request);
      };
    },
    async stream(count, maxMs) {
      let received = 0;
      const signal = AbortSignal.timeout(maxMs);
      try {
        for await (const _ of greeter.countGreetings({ name: "", count }, { signal })) received++;
      } catch (err) {
        if (!signal.aborted) throw err;
      }
      if (!signal.aborted && received !== count)
        throw new Error(`stream ended after ${received} of ${count} messages`);
      return received;
    },
    close() {},
  };
}

/** Raw messages on one long-lived grpc-js bidi stream to the callee's floor service. */
export function floorVariant(target: string): Variant {
  const client = new FloorClient(target, credentials.createInsecure(), BIG);
  const echo = new EchoPipe(client.echo());
  return {
    name: "floor",
    unary(requestBytes) {
      // One message each way; the echo is as large as the request.
      const message = Buffer.alloc(requestBytes);
      return () => echo.ping(message);
    },
    // A fresh stream per run, so a run cut short cannot spill into the next.
    stream: (count, maxMs) => new BurstPipe(client.burst()).receive(count, 64, maxMs),
    close() {
      echo.close();
      client.close();
    },
  };
}
