import {
  Client,
  type ClientOptions,
  credentials,
  Metadata,
  type MethodDefinition,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/proto/wire";
import type { SessionPicker } from "./balancer.js";
import { PoolChannel } from "./pool-channel.js";
import type { PluginSession } from "./session.js";

/** Options of a typed client made from a plugin handle. */
export interface PluginClientOptions
  extends Omit<ClientOptions, "channelOverride" | "channelFactoryOverride"> {
  /**
   * Send every call of this client to the same session while it lives
   * (rendezvous hashing on the key). Default: none, calls are spread.
   */
  affinityKey?: string;
}

/** Options of one promise-style call. */
export interface CallOptions {
  /** Time allowed for the call, in milliseconds. Default: no deadline. */
  timeoutMs?: number;
  /** Absolute deadline; the earlier of this and `timeoutMs` applies. Default: none. */
  deadline?: Date;
  /** Aborting cancels the call; it then fails with CANCELLED. */
  signal?: AbortSignal;
  /** Request metadata. */
  metadata?: Metadata;
}

/** The constructor shape of ts-proto (`outputServices=grpc-js`) and makeGenericClientConstructor clients. */
export type ClientConstructor<C> = new (address: string, creds: any, options?: Partial<ClientOptions>) => C;

/**
 * A plugin by name: the live sessions (replicas) that share it, and the way to
 * call them. Calls made through a handle pick a live session when they start,
 * so a handle and the clients made from it stay valid while replicas come,
 * go and reconnect.
 */
export class PluginHandle {
  private generic: Client | undefined;

  constructor(
    readonly name: string,
    private readonly live: () => readonly PluginSession[],
    private readonly pick: SessionPicker,
  ) {}

  /** The plugin's sessions now, one per connected replica. */
  get sessions(): readonly PluginSession[] {
    return this.live();
  }

  /**
   * A typed client for one of the plugin's services: the same generated class
   * you would use for a direct connection; interceptors, metadata, deadlines
   * and `cancel()` behave as with grpc-js.
   *
   * @example
   * const greeter = registry.get("aws").client(GreeterServiceClient);
   * greeter.sayHello({ name: "x" }, { deadline: Date.now() + 1000 }, (err, res) => {});
   */
  client<C>(ctor: ClientConstructor<C>, options: PluginClientOptions = {}): C {
    const { affinityKey, ...clientOptions } = options;
    const channel = new PoolChannel(this.name, this.live, this.pick, affinityKey);
    return new ctor(`plugin:${this.name}`, credentials.createInsecure(), {
      ...clientOptions,
      channelOverride: channel,
    });
  }

  /**
   * One unary call, promise style.
   *
   * @example
   * const reply = await registry.get("aws").call(GreeterServiceService.sayHello, { name: "x" }, { timeoutMs: 1000 });
   */
  call<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options: CallOptions = {}): Promise<Res> {
    if (method.requestStream || method.responseStream) {
      throw new TypeError(`${method.path} is a streaming method; use client() for it`);
    }
    const client = this.genericClient();
    return new Promise<Res>((resolve, reject) => {
      const { signal } = options;
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      const call = client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        options.metadata ?? new Metadata(),
        { deadline: deadlineOf(options) },
        (err: ServiceError | null, value?: Res) => {
          signal?.removeEventListener("abort", onAbort);
          if (err) reject(err);
          else resolve(value as Res);
        },
      );
      const onAbort = () => call.cancel();
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private genericClient(): Client {
    this.generic ??= this.client(Client);
    return this.generic;
  }
}

function deadlineOf(options: CallOptions): Date | number {
  let deadline = options.deadline ? options.deadline.getTime() : Number.POSITIVE_INFINITY;
  if (options.timeoutMs !== undefined) deadline = Math.min(deadline, Date.now() + options.timeoutMs);
  return deadline;
}

function abortError(signal: AbortSignal): Error {
  return new PluginFrameworkError(status.CANCELLED, "Cancelled on client", { cause: signal.reason });
}
