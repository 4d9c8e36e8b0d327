export { runApplicationCallback } from "./application-callback.js";
export { CallQueue } from "./call-queue.js";
export {
  CellHistogram,
  type CellHistogramOptions,
  type HistogramCell,
  type MetricRegistryLike,
} from "./cell-histogram.js";
export {
  decodePluginStreamMessage,
  encodePluginStreamMessage,
  PluginStreamClient,
  PluginStreamServiceDefinition,
} from "./codec.js";
export { composeCallObservers, composeSessionObservers } from "./compose-observers.js";
export {
  DEFAULT_SETTINGS,
  effectiveSettings,
  HOST_SERVICES_REVISION,
  MAX_STREAM_ID,
  PLUGIN_STREAM_PATH,
  PROTOCOL_REVISION,
} from "./constants.js";
export { CodeCells, type CounterCell, DeferredCounter, type PromCounterLike } from "./deferred-counter.js";
export { isStatusError, PluginFrameworkError, protocolViolation } from "./errors.js";
export {
  fileDescriptorName,
  MAX_FILE_DESCRIPTOR_SET_BYTES,
  splitFileDescriptorSet,
} from "./file-descriptor-set.js";
export {
  DEFAULT_MAX_QUEUED_CONTROL,
  FrameScheduler,
  type FrameSchedulerOptions,
  type FrameSource,
  SESSION_MAX_UNWRITTEN_BYTES,
} from "./frame-scheduler.js";
export type {
  ChannelCall,
  ChannelInterface,
  ChannelRef,
  Deadline,
  InterceptingListener,
  InterceptingServerListener,
  MessageContext,
  PartialStatusObject,
  ServerInterceptingCallInterface,
  StatusObject,
} from "./grpc-internals.js";
export { noopMetricsRecorder } from "./grpc-server-call.js";
export { HandlerCalls, type HandlerCallsOptions, type Refusal } from "./handler-calls.js";
export { IdleTracker } from "./idle-tracker.js";
export { invokeHandler } from "./invoke-handler.js";
export { LabelBound, OTHER } from "./label-bound.js";
export { Liveness, type LivenessOptions } from "./liveness.js";
export { defaultLogger, type Logger, quietLogger } from "./logger.js";
export { entriesToMetadata, metadataToEntries } from "./metadata.js";
export {
  type CallObserver,
  type DrainCause,
  noopCallObserver,
  noopSessionObserver,
  type SessionObserver,
} from "./observer.js";
export { importOptionalPeer } from "./optional-peer.js";
export { OutboundStream } from "./outbound-stream.js";
export { type CallCarrier, OutgoingCall, type StreamBroker } from "./outgoing-call.js";
export { validatePluginName } from "./plugin-name.js";
export {
  type CallOptions,
  createFacade,
  type FacadeMethod,
  type MethodShape,
  type RequestStream,
  type ServiceFacade,
  unaryOnChannel,
} from "./promise-facade.js";
export { raceTimeout } from "./race-timeout.js";
export { type InboundMessage, ReceiveFlow, type ReceiveFlowOptions } from "./receive-flow.js";
export { buildServiceTable, type MethodHandler, type ServiceEntry } from "./service-table.js";
export type { NegotiatedSettings, SessionLimits } from "./session-types.js";
export { goCodeName, parseSeedErrorCode, sanitizeCode } from "./status-codes.js";
export { isPluginOpenedStream } from "./stream-direction.js";
export { extractTraceContext, injectTraceContext, type OtelApiModule } from "./trace-context.js";
export {
  CALLER_ATTRIBUTE,
  type CallerSide,
  type CallRole,
  createTracingSessionObserver,
  PLUGIN_NAME_ATTRIBUTE,
  SESSION_ID_ATTRIBUTE,
  type TracedSession,
} from "./tracing-observer.js";
export { VirtualChannel } from "./virtual-channel.js";
