import {
  type ChannelCredentials,
  Client,
  type ClientOptions,
  credentials,
  type MethodDefinition,
} from "@grpc/grpc-js";
import {
  type CallOptions,
  createFacade,
  type MethodShape,
  type ServiceFacade,
  unaryOnChannel,
} from "@operator-plugin-framework/wire";
import type { SessionPicker } from "./balancer.js";
import { installDirectUnary } from "./direct-unary.js";
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

/** The constructor shape of ts-proto (`outputServices=grpc-js`) and makeGenericClientConstructor clients. */
export type ClientConstructor<C> = new (
  address: string,
  credentials: ChannelCredentials,
  options?: Partial<ClientOptions>,
) => C;

/**
 * A plugin by name: the live sessions (replicas) that share it, and the way to
 * call them. Calls made through a handle pick a live session when they start,
 * so a handle and the clients made from it stay valid while replicas come,
 * go and reconnect. Get one from `registry.get(name)`.
 */
export interface PluginHandle {
  readonly name: string;
  /**
   * The plugin's sessions now, one per connected replica (for a handle from a
   * selector or `byService`, only those that match it).
   */
  readonly sessions: readonly PluginSession[];
  /**
   * The labels every session of this handle carries now, with the same value:
   * a label that differs between replicas is left out. `{}` while the handle
   * has no session. Each replica's own labels are `sessions[i].labels`.
   */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * A typed client for one of the plugin's services: the same generated class
   * you would use for a direct connection; interceptors, metadata, deadlines
   * and `cancel()` behave as with grpc-js, and so do errors: a failed call
   * reports grpc-js's `ServiceError`.
   *
   * @example
   * const greeter = registry.get("aws").client(GreeterServiceClient);
   * greeter.sayHello({ name: "x" }, { deadline: Date.now() + 1000 }, (err, res) => {});
   */
  client<C>(ctor: ClientConstructor<C>, options?: PluginClientOptions): C;
  /**
   * One unary call, promise style. Rejects with a PluginFrameworkError.
   * Throws a TypeError for a streaming method.
   *
   * @example
   * const reply = await registry.get("aws").call(GreeterServiceService.sayHello, { name: "x" }, { timeoutMs: 1000 });
   */
  call<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options?: CallOptions): Promise<Res>;
  /**
   * A whole service, promise and async-iterable style: unary methods return
   * a promise, server-streaming ones an async iterable, and client- and
   * bidi-streaming ones take any iterable of requests. Every method fails
   * with a PluginFrameworkError carrying the status code, details, trailers
   * (`metadata`) and the original error as `cause`.
   *
   * @example
   * const greeter = registry.get("aws").service(GreeterServiceService);
   * for await (const reply of greeter.countGreetings({ name: "x", count: 3 })) console.log(reply.message);
   */
  service<S extends Record<string, MethodShape>>(
    definition: S,
    options?: PluginClientOptions,
  ): ServiceFacade<S>;
}

/** The handle of plugin `name`, whose sessions `live` lists when a call starts. */
export function createPluginHandle(
  name: string,
  live: () => readonly PluginSession[],
  pick: SessionPicker,
): PluginHandle {
  return new PoolHandle(name, live, pick);
}

class PoolHandle implements PluginHandle {
  private generic: Client | undefined;
  private readonly pool: PoolChannel;

  constructor(
    readonly name: string,
    private readonly live: () => readonly PluginSession[],
    private readonly pick: SessionPicker,
  ) {
    this.pool = new PoolChannel(name, live, pick, undefined);
  }

  get sessions(): readonly PluginSession[] {
    return this.live();
  }

  get labels(): Readonly<Record<string, string>> {
    const [first, ...rest] = this.live();
    if (!first) return {};
    const shared = Object.entries(first.labels).filter(([key, value]) =>
      rest.every((session) => Object.hasOwn(session.labels, key) && session.labels[key] === value),
    );
    return Object.fromEntries(shared);
  }

  client<C>(ctor: ClientConstructor<C>, options: PluginClientOptions = {}): C {
    const { affinityKey, ...clientOptions } = options;
    const channel = new PoolChannel(this.name, this.live, this.pick, affinityKey);
    const client = new ctor(`plugin:${this.name}`, credentials.createInsecure(), {
      ...clientOptions,
      channelOverride: channel,
    });
    const { interceptors, interceptor_providers, callInvocationTransformer } = clientOptions;
    // Without interceptors, unary calls skip grpc-js's per-call machinery.
    if (!interceptors?.length && !interceptor_providers?.length && !callInvocationTransformer) {
      installDirectUnary(client as object, ctor, channel);
    }
    return client;
  }

  call<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options: CallOptions = {}): Promise<Res> {
    if (method.requestStream || method.responseStream) {
      throw new TypeError(`${method.path} is a streaming method; use service() or client() for it`);
    }
    return unaryOnChannel<Res>(this.pool, method, request, options);
  }

  service<S extends Record<string, MethodShape>>(
    definition: S,
    options: PluginClientOptions = {},
  ): ServiceFacade<S> {
    const client = options.affinityKey === undefined ? this.genericClient() : this.client(Client, options);
    // Without interceptors, unary calls skip the grpc-js Client machinery.
    const direct =
      options.interceptors?.length || options.interceptor_providers?.length
        ? undefined
        : options.affinityKey === undefined
          ? this.pool
          : new PoolChannel(this.name, this.live, this.pick, options.affinityKey);
    return createFacade(client, definition, direct);
  }

  private genericClient(): Client {
    this.generic ??= this.client(Client);
    return this.generic;
  }
}
