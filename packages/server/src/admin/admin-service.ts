import { type handleServerStreamingCall, Metadata, type ServerWritableStream, status } from "@grpc/grpc-js";
import type {
  AdminServiceServer,
  CallPluginRequest,
  CallPluginResponse,
  RegistryEvent,
  WatchRequest,
} from "@operator-plugin-framework/proto/admin";
import type { PluginRegistry } from "@operator-plugin-framework/registry";
import { type Logger, PluginFrameworkError } from "@operator-plugin-framework/wire";
import { findAnnouncedMethod } from "./call-target.js";
import { mergeFileDescriptorSets } from "./descriptor-set.js";
import { announcedDescriptors } from "./plugin-descriptors.js";
import { toPluginInfo, toRegistryEvent } from "./session-info.js";

/** What the admin service may do. */
export interface AdminServiceOptions {
  registry: PluginRegistry;
  /** Whether `CallPlugin` is served; false answers PERMISSION_DENIED. */
  allowCalls: boolean;
  /** Deadline of a call that gives none. */
  defaultCallTimeoutMs: number;
  /** The operator's descriptors (a serialized FileDescriptorSet), or none. */
  fileDescriptorSet: Buffer | undefined;
  logger: Logger;
}

const passThrough = (bytes: Buffer) => bytes;

/** The AdminService implementation over a registry. */
export function createAdminService(options: AdminServiceOptions): AdminServiceServer {
  const { registry, logger } = options;

  const listPlugins: AdminServiceServer["listPlugins"] = (_call, callback) => {
    callback(null, { plugins: registry.list().map((handle) => toPluginInfo(handle.name, handle.sessions)) });
  };

  const describePlugin: AdminServiceServer["describePlugin"] = (call, callback) => {
    try {
      const handle = registry.get(call.request.name);
      callback(null, toPluginInfo(handle.name, handle.sessions));
    } catch (err) {
      callback(PluginFrameworkError.from(err, status.INTERNAL));
    }
  };

  const callPlugin: handleServerStreamingCall<CallPluginRequest, CallPluginResponse> = (call) => {
    void forwardCall(call, options).catch((err: unknown) => {
      const error = PluginFrameworkError.from(err, status.INTERNAL);
      logger.info(
        { plugin: call.request.plugin, method: call.request.method, code: status[error.code] },
        "admin call failed",
      );
      call.emit("error", error);
    });
  };

  const watch: handleServerStreamingCall<WatchRequest, RegistryEvent> = (call) => {
    const controller = new AbortController();
    call.on("cancelled", () => controller.abort());
    call.on("close", () => controller.abort());
    // Calling next() subscribes at once; the headers then tell the client that
    // no event from here on can be missed.
    const events = registry.watch({ signal: controller.signal })[Symbol.asyncIterator]();
    let next = events.next();
    call.sendMetadata(new Metadata());
    void (async () => {
      for (let result = await next; !result.done; result = await next) {
        if (!call.write(toRegistryEvent(result.value)))
          await new Promise((resolve) => call.once("drain", resolve));
        next = events.next();
      }
    })().finally(() => {
      if (!call.cancelled) call.end();
    });
  };

  // The operator's descriptors, then those registered plugins announced
  // (connectPlugin's fileDescriptorSet), each file once.
  const getFileDescriptorSet: AdminServiceServer["getFileDescriptorSet"] = (_call, callback) => {
    const sets: Buffer[] = options.fileDescriptorSet ? [options.fileDescriptorSet] : [];
    for (const handle of registry.list()) {
      for (const session of handle.sessions) {
        const set = announcedDescriptors(session);
        if (set) sets.push(set);
      }
    }
    if (sets.length > 0) return callback(null, { fileDescriptorSet: mergeFileDescriptorSets(sets) });
    callback(
      new PluginFrameworkError(
        status.NOT_FOUND,
        "neither this operator's admin service (createAdminServer's fileDescriptorSet option) nor a registered " +
          "plugin (connectPlugin's fileDescriptorSet option) has descriptors; pass the service's .proto file instead",
      ),
    );
  };

  return { listPlugins, describePlugin, callPlugin, watch, getFileDescriptorSet };
}

async function forwardCall(
  call: ServerWritableStream<CallPluginRequest, CallPluginResponse>,
  options: AdminServiceOptions,
): Promise<void> {
  if (!options.allowCalls) {
    throw new PluginFrameworkError(
      status.PERMISSION_DENIED,
      "this operator's admin service is read-only; start it with allowCalls: true to call plugins",
    );
  }
  const { plugin, request, timeoutMs } = call.request;
  const path = call.request.method.startsWith("/") ? call.request.method : `/${call.request.method}`;
  const handle = options.registry.get(plugin);
  const method = findAnnouncedMethod(plugin, handle.sessions, path);
  if (method.clientStreaming) {
    throw new PluginFrameworkError(
      status.UNIMPLEMENTED,
      `${path} is a client- or bidi-streaming method; the admin service calls unary and server-streaming methods only`,
    );
  }
  const controller = new AbortController();
  call.on("cancelled", () => controller.abort());
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(call.request.metadata)) metadata.set(key, value);
  const callOptions = {
    timeoutMs: timeoutMs || options.defaultCallTimeoutMs,
    signal: controller.signal,
    metadata,
  };
  const definition = {
    call: {
      path,
      requestStream: false as const,
      responseStream: method.serverStreaming,
      requestSerialize: passThrough,
      requestDeserialize: passThrough,
      responseSerialize: passThrough,
      responseDeserialize: passThrough,
    },
  };
  const service = handle.service(definition);
  if (method.serverStreaming) {
    const replies = (
      service.call as unknown as (req: Buffer, o: typeof callOptions) => AsyncIterable<Buffer>
    )(Buffer.from(request), callOptions);
    for await (const reply of replies) {
      if (!call.write({ response: reply })) await new Promise((resolve) => call.once("drain", resolve));
    }
  } else {
    const reply = await (service.call as unknown as (req: Buffer, o: typeof callOptions) => Promise<Buffer>)(
      Buffer.from(request),
      callOptions,
    );
    call.write({ response: reply });
  }
  call.end();
}
