import type { PluginInfo, RegistryEvent, SessionInfo } from "@operator-plugin-framework/proto/admin";

/** The `plugins` table: one line per plugin. */
export function formatPluginTable(plugins: PluginInfo[], now: number): string {
  if (plugins.length === 0) return "no plugins registered\n";
  const rows = plugins.map((plugin) => {
    const sessions = plugin.sessions;
    const first = sessions[0];
    const versions = [...new Set(sessions.map((s) => s.version))].join(",");
    const users = [...new Set(sessions.map((s) => s.user || "-"))].join(",");
    const services = [...new Set(sessions.flatMap((s) => s.services.map((svc) => svc.name)))].join(",");
    const inFlight = sessions.reduce((sum, s) => sum + s.inFlight, 0);
    const oldest = Math.min(...sessions.map((s) => Number(s.connectedAtUnixMs)));
    return [
      plugin.name,
      versions || "-",
      users,
      services || "-",
      String(sessions.length),
      String(inFlight),
      first ? formatAge(now - oldest) : "-",
    ];
  });
  return table(["NAME", "VERSION", "IDENTITY", "SERVICES", "SESSIONS", "IN-FLIGHT", "AGE"], rows);
}

/** The `describe` text: the plugin and every session in detail. */
export function formatPluginDescription(plugin: PluginInfo, now: number): string {
  const lines = [`Name:      ${plugin.name}`, `Sessions:  ${plugin.sessions.length}`];
  for (const session of plugin.sessions) {
    lines.push("", ...describeSession(session, now));
  }
  return `${lines.join("\n")}\n`;
}

function describeSession(session: SessionInfo, now: number): string[] {
  const state = !session.accepting ? "draining" : session.retiring ? "retiring" : "serving";
  const lines = [
    `Session ${session.id}`,
    `  Version:    ${session.version || "-"}`,
    `  Protocol:   ${session.protocolRevision === 0 ? "seed (unary only)" : `revision ${session.protocolRevision}`}`,
    `  Identity:   ${session.user || "(unauthenticated)"}${session.groups.length ? ` [${session.groups.join(", ")}]` : ""}`,
    `  Peer:       ${session.peer}`,
    `  Connected:  ${new Date(Number(session.connectedAtUnixMs)).toISOString()} (${formatAge(now - Number(session.connectedAtUnixMs))} ago)`,
    `  State:      ${state}, ${session.inFlight} call(s) in flight`,
    "  Services:",
  ];
  for (const service of session.services) {
    for (const method of service.methods) {
      const kind =
        method.clientStreaming && method.serverStreaming
          ? "bidi-streaming"
          : method.clientStreaming
            ? "client-streaming"
            : method.serverStreaming
              ? "server-streaming"
              : "unary";
      lines.push(`    ${service.name}/${method.name} (${kind})`);
    }
  }
  if (session.services.length === 0) lines.push("    (none announced)");
  return lines;
}

/** One `watch` line. */
export function formatEvent(event: RegistryEvent, now: Date): string {
  const session = event.session;
  const who = session?.user ? ` as ${session.user}` : "";
  return `${now.toISOString()} ${event.type} ${event.plugin} v${session?.version ?? "?"} session ${session?.id ?? "?"}${who} (${event.remaining} session(s) now)\n`;
}

/** "3s", "5m", "2h", "4d". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("   ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}
