/**
 * Types of grpc-js's internal call contracts, which the tunnel implements:
 * a Channel's Call on the operator side and a ServerInterceptingCall on the
 * plugin side. grpc-js has no `exports` map, so these deep paths resolve; the
 * version is pinned to a minor release and the conformance tests cover the
 * contract, so an upgrade that changes it fails loudly.
 */
export type {
  Call as ChannelCall,
  InterceptingListener,
  MessageContext,
  PartialStatusObject,
  StatusObject,
} from "@grpc/grpc-js/build/src/call-interface.js";
export type { Channel as ChannelInterface } from "@grpc/grpc-js/build/src/channel.js";
export type { ChannelRef } from "@grpc/grpc-js/build/src/channelz.js";
export type { Deadline } from "@grpc/grpc-js/build/src/deadline.js";
export type {
  InterceptingServerListener,
  ServerInterceptingCallInterface,
} from "@grpc/grpc-js/build/src/server-interceptors.js";
