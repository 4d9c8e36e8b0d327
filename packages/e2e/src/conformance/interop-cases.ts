import {
  type ClientReadableStream,
  Metadata,
  type ServiceError,
  type StatusObject,
  status,
} from "@grpc/grpc-js";
import type {
  StreamingOutputCallResponse,
  TestServiceClient,
  UnimplementedServiceClient,
} from "@operator-plugin-framework/proto/testing";

/** The clients a case runs with: direct to grpc-js, or through the tunnel. */
export interface InteropClients {
  test: TestServiceClient;
  unimplemented: UnimplementedServiceClient;
}

/** What a case observed; compared between direct and tunnel runs. */
export type Outcome = Record<string, unknown>;

const ECHO_KEYS = ["x-grpc-test-echo-initial", "x-grpc-test-echo-trailing-bin"];

function pick(metadata: Metadata | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const key of ECHO_KEYS) {
    const values = metadata?.get(key) ?? [];
    if (values.length)
      out[key] = values.map((v) => (Buffer.isBuffer(v) ? `0x${v.toString("hex")}` : String(v)));
  }
  return out;
}

function summarizeError(err: ServiceError | null): { code: number; details: string } {
  return err ? { code: err.code, details: err.details } : { code: 0, details: "OK" };
}

function unary(
  client: TestServiceClient,
  request: Parameters<TestServiceClient["unaryCall"]>[0],
  metadata = new Metadata(),
  deadline?: number,
): Promise<Outcome> {
  return new Promise((resolve) => {
    let initial: Metadata | undefined;
    let trailing: Metadata | undefined;
    const call = client.unaryCall(request, metadata, deadline ? { deadline } : {}, (err, response) => {
      setImmediate(() =>
        resolve({
          ...summarizeError(err),
          responseSize: response?.payload?.body.length ?? null,
          initial: pick(initial),
          trailing: pick(trailing ?? err?.metadata),
        }),
      );
    });
    call.on("metadata", (m: Metadata) => {
      initial = m;
    });
    call.on("status", (s: StatusObject) => {
      trailing = s.metadata;
    });
  });
}

function collect(stream: ClientReadableStream<StreamingOutputCallResponse>): Promise<Outcome> {
  return new Promise((resolve) => {
    const sizes: number[] = [];
    let initial: Metadata | undefined;
    stream.on("metadata", (m: Metadata) => {
      initial = m;
    });
    stream.on("data", (r: StreamingOutputCallResponse) => sizes.push(r.payload?.body.length ?? 0));
    stream.on("error", () => {});
    stream.on("status", (s: StatusObject) =>
      resolve({
        code: s.code,
        details: s.details,
        sizes,
        initial: pick(initial),
        trailing: pick(s.metadata),
      }),
    );
  });
}

const payload = (size: number) => ({ body: Buffer.alloc(size) });
const params = (...sizes: number[]) => sizes.map((size) => ({ size, intervalUs: 0 }));
const SPECIAL = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";

/** The gRPC interop test cases, each returning what it saw. */
export const interopCases: Record<string, (clients: InteropClients) => Promise<Outcome>> = {
  empty_unary: ({ test }) =>
    new Promise((resolve) =>
      test.emptyCall({}, (err, res) => resolve({ ...summarizeError(err), response: res ?? null })),
    ),

  large_unary: ({ test }) => unary(test, { responseSize: 314159, payload: payload(271828), sleepMs: 0 }),

  client_streaming: ({ test }) =>
    new Promise((resolve) => {
      const call = test.streamingInputCall((err, res) =>
        resolve({ ...summarizeError(err), aggregated: res?.aggregatedPayloadSize ?? null }),
      );
      for (const size of [27182, 8, 1828, 45904]) call.write({ payload: payload(size) });
      call.end();
    }),

  server_streaming: ({ test }) =>
    collect(test.streamingOutputCall({ responseParameters: params(31415, 9, 2653, 58979) })),

  ping_pong: ({ test }) =>
    new Promise((resolve) => {
      const call = test.fullDuplexCall();
      const requests = [
        [31415, 27182],
        [9, 8],
        [2653, 1828],
        [58979, 45904],
      ] as const;
      const sizes: number[] = [];
      let i = 0;
      const send = () =>
        call.write({ responseParameters: params(requests[i]![0]), payload: payload(requests[i]![1]) });
      call.on("data", (r: StreamingOutputCallResponse) => {
        sizes.push(r.payload?.body.length ?? 0);
        if (++i < requests.length) send();
        else call.end();
      });
      call.on("error", () => {});
      call.on("status", (s: StatusObject) => resolve({ code: s.code, sizes }));
      send();
    }),

  empty_stream: ({ test }) =>
    new Promise((resolve) => {
      const call = test.fullDuplexCall();
      let messages = 0;
      call.on("data", () => messages++);
      call.on("status", (s: StatusObject) => resolve({ code: s.code, messages }));
      call.end();
    }),

  cancel_after_begin: ({ test }) =>
    new Promise((resolve) => {
      const call = test.streamingInputCall((err) => resolve(summarizeError(err)));
      call.cancel();
    }),

  cancel_after_first_response: ({ test }) =>
    new Promise((resolve) => {
      const call = test.fullDuplexCall();
      let messages = 0;
      call.on("data", () => {
        messages++;
        call.cancel();
      });
      call.on("error", (err: ServiceError) => resolve({ ...summarizeError(err), messages }));
      call.write({ responseParameters: params(31415), payload: payload(27182) });
    }),

  timeout_on_sleeping_server: ({ test }) =>
    new Promise((resolve) => {
      const call = test.fullDuplexCall({ deadline: Date.now() + 1 });
      call.on("error", (err: ServiceError) => resolve({ code: err.code }));
      call.on("data", () => {});
      call.write({ responseParameters: [], payload: payload(27182) });
    }),

  timeout_on_sleeping_unary: ({ test }) =>
    unary(
      test,
      { responseSize: 1, payload: payload(1), sleepMs: 2_000 },
      new Metadata(),
      Date.now() + 100,
    ).then((o) => ({
      code: o.code,
    })),

  custom_metadata_unary: ({ test }) => {
    const metadata = new Metadata();
    metadata.set("x-grpc-test-echo-initial", "test_initial_metadata_value");
    metadata.set("x-grpc-test-echo-trailing-bin", Buffer.from([0xab, 0xab, 0xab]));
    return unary(test, { responseSize: 314159, payload: payload(271828), sleepMs: 0 }, metadata);
  },

  custom_metadata_streaming: ({ test }) => {
    const metadata = new Metadata();
    metadata.set("x-grpc-test-echo-initial", "test_initial_metadata_value");
    metadata.set("x-grpc-test-echo-trailing-bin", Buffer.from([0xab, 0xab, 0xab]));
    const call = test.fullDuplexCall(metadata);
    const outcome = collect(call as unknown as ClientReadableStream<StreamingOutputCallResponse>);
    call.write({ responseParameters: params(314159), payload: payload(271828) });
    call.end();
    return outcome;
  },

  status_code_and_message_unary: ({ test }) =>
    unary(test, {
      responseSize: 0,
      payload: undefined,
      sleepMs: 0,
      responseStatus: { code: 2, message: "test status message" },
    }),

  status_code_and_message_streaming: ({ test }) => {
    const call = test.fullDuplexCall();
    const outcome = collect(call as unknown as ClientReadableStream<StreamingOutputCallResponse>);
    call.write({ responseParameters: [], responseStatus: { code: 2, message: "test status message" } });
    call.end();
    return outcome;
  },

  special_status_message: ({ test }) =>
    unary(test, {
      responseSize: 0,
      payload: undefined,
      sleepMs: 0,
      responseStatus: { code: 2, message: SPECIAL },
    }),

  unimplemented_method: ({ test }) =>
    new Promise((resolve) => test.unimplementedCall({}, (err) => resolve(summarizeError(err)))),

  unimplemented_service: ({ unimplemented }) =>
    new Promise((resolve) => unimplemented.unimplementedCall({}, (err) => resolve(summarizeError(err)))),
};

/** What each case must show, so a comparison of two broken runs cannot pass. */
export const expectedOutcomes: Record<string, Outcome> = {
  empty_unary: { code: status.OK, response: {} },
  large_unary: { code: status.OK, responseSize: 314159 },
  client_streaming: { code: status.OK, aggregated: 74922 },
  server_streaming: { code: status.OK, sizes: [31415, 9, 2653, 58979] },
  ping_pong: { code: status.OK, sizes: [31415, 9, 2653, 58979] },
  empty_stream: { code: status.OK, messages: 0 },
  cancel_after_begin: { code: status.CANCELLED },
  cancel_after_first_response: { code: status.CANCELLED, messages: 1 },
  timeout_on_sleeping_server: { code: status.DEADLINE_EXCEEDED },
  timeout_on_sleeping_unary: { code: status.DEADLINE_EXCEEDED },
  custom_metadata_unary: {
    code: status.OK,
    responseSize: 314159,
    initial: { "x-grpc-test-echo-initial": ["test_initial_metadata_value"] },
    trailing: { "x-grpc-test-echo-trailing-bin": ["0xababab"] },
  },
  custom_metadata_streaming: {
    code: status.OK,
    sizes: [314159],
    initial: { "x-grpc-test-echo-initial": ["test_initial_metadata_value"] },
    trailing: { "x-grpc-test-echo-trailing-bin": ["0xababab"] },
  },
  status_code_and_message_unary: { code: status.UNKNOWN, details: "test status message" },
  status_code_and_message_streaming: { code: status.UNKNOWN, details: "test status message" },
  special_status_message: { code: status.UNKNOWN, details: SPECIAL },
  unimplemented_method: {
    code: status.UNIMPLEMENTED,
    details: "The server does not implement the method unimplementedCall",
  },
  unimplemented_service: {
    code: status.UNIMPLEMENTED,
    details: "The server does not implement the method /testing.v1.UnimplementedService/UnimplementedCall",
  },
};
