import type { PluginInfo, RegistryEvent, SessionInfo } from "@operator-plugin-framework/proto/admin";
import type { RegistryEvent as LiveEvent, PluginSession } from "@operator-plugin-framework/registry";

/** A live session as the admin service reports it. Never carries tokens or payloads. */
export function toSessionInfo(session: PluginSession): SessionInfo {
  return {
    id: session.id,
    version: session.version,
    protocolRevision: session.protocolRevision,
    user: session.identity?.user ?? "",
    groups: [...(session.identity?.groups ?? [])],
    peer: session.peer,
    connectedAtUnixMs: session.connectedAt.getTime(),
    inFlight: session.inFlight,
    accepting: session.accepting,
    retiring: session.retiring,
    services: session.services.map((service) => ({
      name: service.name,
      methods: service.methods.map((method) => ({
        name: method.name,
        clientStreaming: method.clientStreaming,
        serverStreaming: method.serverStreaming,
      })),
    })),
  };
}

/** A plugin (all its sessions) as the admin service reports it. */
export function toPluginInfo(name: string, sessions: readonly PluginSession[]): PluginInfo {
  return { name, sessions: sessions.map(toSessionInfo) };
}

/** A registry event as the admin service streams it. */
export function toRegistryEvent(event: LiveEvent): RegistryEvent {
  return {
    type: event.type,
    plugin: event.session.name,
    session: toSessionInfo(event.session),
    remaining: event.remaining,
  };
}
