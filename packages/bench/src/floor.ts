import {
  type ChannelCredentials,
  type Client,
  type ClientDuplexStream,
  type ClientOptions,
  makeGenericClientConstructor,
  type ServerDuplexStream,
  type ServiceDefinition,
} from "@grpc/grpc-js";

// The physical floor of the tunnel: raw, already-serialized messages on one
// long-lived grpc-js bidi stream. No protobuf, no per-call HTTP/2 stream.

const identity = (b: Buffer) => b;
const bidi = (path: string) => ({
  path,
  requestStream: true,
  responseStream: true,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});

/** Echo: every message comes back. Burst: a 8-byte request (count, size) is answered by `count` messages of `size` bytes. */
export const floorServiceDefinition = {
  echo: bidi("/bench.v1.Floor/Echo"),
  burst: bidi("/bench.v1.Floor/Burst"),
} satisfies ServiceDefinition;

const zeros = Buffer.alloc(4 * 1024 * 1024);

export const floorService = {
  echo(call: ServerDuplexStream<Buffer, Buffer>) {
    call.on("data", (message: Buffer) => call.write(message));
    call.on("end", () => call.end());
    call.on("error", () => {});
  },
  burst(call: ServerDuplexStream<Buffer, Buffer>) {
    let cancelled = false;
    call.on("cancelled", () => {
      cancelled = true;
    });
    call.on("data", (request: Buffer) => {
      const total = request.readUInt32BE(0);
      const message = zeros.subarray(0, request.readUInt32BE(4));
      let sent = 0;
      const pump = () => {
        while (sent < total && !cancelled) {
          sent++;
          if (!call.write(message)) {
            call.once("drain", pump);
            return;
          }
        }
      };
      pump();
    });
    call.on("end", () => call.end());
    call.on("error", () => {});
  },
};

/** A client of the floor service; both methods open one long-lived bidi stream. */
export type FloorClient = Client & {
  echo(): ClientDuplexStream<Buffer, Buffer>;
  burst(): ClientDuplexStream<Buffer, Buffer>;
};

export const FloorClient = makeGenericClientConstructor(
  floorServiceDefinition,
  "bench.v1.Floor",
) as unknown as new (
  address: string,
  creds: ChannelCredentials,
  options?: ClientOptions,
) => FloorClient;

/** One echo stream used as a pipe: `ping()` resolves when its echo arrives (echoes come back in order). */
export class EchoPipe {
  private readonly waiting: ((err?: Error) => void)[] = [];
  private head = 0;

  constructor(private readonly stream: ClientDuplexStream<Buffer, Buffer>) {
    stream.on("data", () => this.waiting[this.head++]?.());
    stream.on("error", (err: Error) => {
      for (let i = this.head; i < this.waiting.length; i++) this.waiting[i]?.(err);
    });
  }

  ping(message: Buffer): Promise<void> {
    if (this.head > 4096) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.push((err) => (err ? reject(err) : resolve()));
      this.stream.write(message);
    });
  }

  close(): void {
    this.stream.end();
  }
}

/** Burst on its own stream: `receive(count, size, maxMs)` resolves with the messages that arrived, all `count` or those within `maxMs`. */
export class BurstPipe {
  constructor(private readonly stream: ClientDuplexStream<Buffer, Buffer>) {}

  receive(count: number, size: number, maxMs: number): Promise<number> {
    const request = Buffer.alloc(8);
    request.writeUInt32BE(count, 0);
    request.writeUInt32BE(size, 4);
    let received = 0;
    return new Promise<number>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.stream
          .removeAllListeners("data")
          .removeAllListeners("error")
          .on("error", () => {});
        this.stream.cancel();
        err ? reject(err) : resolve(received);
      };
      const timer = setTimeout(done, maxMs);
      this.stream.on("data", () => {
        if (++received === count) done();
      });
      this.stream.on("error", done);
      this.stream.write(request);
    });
  }
}
