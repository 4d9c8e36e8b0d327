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
import { HostChannel } from "./host-channel.js";
import { HostRouter, type HostRouterOptions } from "./host-router.js";
import type { HostCallObserve } from "./observability/prom-plugin-observer.js";

/** The constructor shape of ts-proto (`outputServices=grpc-js`) and makeGenericClientConstructor clients. */
export type ClientConstructor<C> = new (
  address: string,
  credentials: ChannelCredentials,
  options?: Partial<ClientOptions>,
) => C;

/** Options of a host-service client: grpc-js client options (interceptors, say); the channel is the tunnel's. */
export type HostClientOptions = Omit<ClientOptions, "channelOverride" | "channelFactoryOverride">;

/**
 * Calling the services the operator offers to the plugin ("host services",
 * protocol revision 2) through the plugin's own session: no second
 * connection. Calls go to a registered revision-2 session; which one, and
 * what happens while there is none, is {@link HostRouter}'s rule. Against a
 * seed or revision-1 operator every call fails at once with UNIMPLEMENTED.
 */
export interface HostServiceCaller {
  /**
   * A typed client for one of the operator's host services: the same
   * generated class you would use for a direct connection. Interceptors,
   * metadata, deadlines, `cancel()`, flow control and errors behave as with
   * grpc-js (a failed call reports grpc-js's `ServiceError`).
   *
   * @example
   * const progress = connection.host(ProgressServiceClient);
   * progress.report({ step: "zone synced" }, { deadline: Date.now() + 1000 }, (err, reply) => {});
   */
  host<C>(ctor: ClientConstructor<C>, options?: HostClientOptions): C;
  /**
   * One unary host call, promise style. Rejects with a PluginFrameworkError.
   * Throws a TypeError for a streaming method.
   *
   * @example
   * await connection.callHost(ProgressServiceService.report, { step: "done" }, { timeoutMs: 1000 });
   */
  callHost<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options?: CallOptions): Promise<Res>;
  /**
   * A whole host service, promise and async-iterable style: unary methods
   * return a promise, server-streaming ones an async iterable, client- and
   * bidi-streaming ones take any iterable of requests. Every method fails
   * with a PluginFrameworkError (code, details, trailers as `metadata`).
   */
  hostService<S extends Record<string, MethodShape>>(
    definition: S,
    options?: HostClientOptions,
  ): ServiceFacade<S>;
}

/** The connection's host-service caller: one router, one channel, clients made on demand. */
export class HostServices implements HostServiceCaller {
  readonly router: HostRouter;
  private readonly channel: HostChannel;
  private generic: Client | undefined;

  constructor(options: HostRouterOptions, observe?: HostCallObserve) {
    this.router = new HostRouter(options);
    const router = this.router;
    const offered = (method: string) => router.offers(method);
    this.channel = new HostChannel(this.router, observe && ((method) => observe(method, offered)));
  }

  host<C>(ctor: ClientConstructor<C>, options: HostClientOptions = {}): C {
    return new ctor("operator", credentials.createInsecure(), { ...options, channelOverride: this.channel });
  }

  callHost<Req, Res>(
    method: MethodDefinition<Req, Res>,
    request: Req,
    options: CallOptions = {},
  ): Promise<Res> {
    if (method.requestStream || method.responseStream) {
      throw new TypeError(`${method.path} is a streaming method; use hostService() or host() for it`);
    }
    return unaryOnChannel<Res>(this.channel, method, request, options);
  }

  hostService<S extends Record<string, MethodShape>>(
    definition: S,
    options: HostClientOptions = {},
  ): ServiceFacade<S> {
    const intercepted = Boolean(options.interceptors?.length || options.interceptor_providers?.length);
    if (!intercepted) this.generic ??= this.host(Client);
    const client = intercepted ? this.host(Client, options) : this.generic!;
    // Without interceptors, unary calls skip the grpc-js Client machinery.
    return createFacade(client, definition, intercepted ? undefined : this.channel);
  }
}
