import type { ChannelInterface, ServerInterceptingCallInterface } from "@grpc/grpc-js";

/**
 * Types of grpc-js's call contracts, which the tunnel implements: a
 * Channel's Call on the operator side and a ServerInterceptingCall on the
 * plugin side. Each is taken from grpc-js's public exports, never from a
 * deep `build/src` path, so a grpc-js release that reshuffles its files
 * cannot break the types, and one that changes the contract fails to compile.
 */
export type {
  ChannelInterface,
  Deadline,
  InterceptingListener,
  ServerInterceptingCallInterface,
  StatusObject,
} from "@grpc/grpc-js";

/** The Call a Channel hands to grpc-js's client for each call. */
export type ChannelCall = ReturnType<ChannelInterface["createCall"]>;
/** What a Call gets with each outgoing message (its write callback). */
export type MessageContext = Parameters<ChannelCall["sendMessageWithContext"]>[0];
/** A Channel's channelz reference. */
export type ChannelRef = ReturnType<ChannelInterface["getChannelzRef"]>;
/** The listener grpc-js's server attaches to a ServerInterceptingCall. */
export type InterceptingServerListener = Parameters<ServerInterceptingCallInterface["start"]>[0];
/** The status a server call sends, metadata and details optional. */
export type PartialStatusObject = Parameters<ServerInterceptingCallInterface["sendStatus"]>[0];
