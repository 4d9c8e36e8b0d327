// Where an operator's memory per plugin session goes. Runs the operator in
// this process and `--plugins` plugins over `--hosts` plugin-host processes,
// then prints RSS, JS heap and external memory per session and, with
// `--snapshot`, a heap-snapshot diff (before connecting, after all registered)
// aggregated by node type and constructor: how many of each per session and
// their self size. Node's embedder graph is part of the snapshot, so native
// state that Node accounts (Http2Session's nghttp2 memory, stream buffers) shows
// up as "native" nodes next to the JS objects.
//
//   node --expose-gc --conditions=opf-source --import tsx \
//     packages/bench/src/session-heap.ts --plugins 2000 [--hosts 2] [--snapshot]
//     [--http2 '{"settings":{"headerTableSize":0}}'] [--grpc '{"grpc.enable_channelz":1}']
//
// `--http2` merges options into every `http2.createServer` call (grpc-js
// makes it), so that HTTP/2 settings can be measured without changing the
// server; `--grpc` is passed as the plugin server's `grpcOptions`. Take the
// bench lock around it: `flock /work/wt/bench.lock node ...`.
import { readFileSync, rmSync } from "node:fs";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeHeapSnapshot } from "node:v8";
import { startWorker, stopAll, type Worker } from "./worker-pool.js";

const { values: args } = parseArgs({
  options: {
    plugins: { type: "string", default: "2000" },
    hosts: { type: "string", default: "2" },
    snapshot: { type: "boolean", default: false },
    http2: { type: "string", default: "{}" },
    grpc: { type: "string", default: "{}" },
    top: { type: "string", default: "40" },
    // "type:name" keys (comma-separated) whose owners, by the owner's "type:name", are listed too.
    owners: { type: "string", default: "" },
    // Keep the snapshot files (their paths are printed) for DevTools.
    keep: { type: "boolean", default: false },
  },
});
const plugins = Number(args.plugins);
const hostCount = Number(args.hosts);
const extraHttp2 = JSON.parse(args.http2) as http2.ServerOptions;

// Before the server (and grpc-js) is loaded: grpc-js calls http2.createServer on this module object.
const createServer = http2.createServer;
(http2 as { createServer: unknown }).createServer = (options: http2.ServerOptions, ...rest: unknown[]) =>
  (createServer as (...a: unknown[]) => http2.Http2Server)(
    {
      ...options,
      ...extraHttp2,
      settings: { ...options.settings, ...extraHttp2.settings },
    },
    ...rest,
  );

const { createPluginServer, quietLogger } = await import("@operator-plugin-framework/server");

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}
function memory(): Memory {
  const gc = globalThis.gc;
  if (!gc) throw new Error("run with --expose-gc: the figures are after two full GCs");
  gc();
  gc();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

type Census = Map<string, { count: number; size: number }>;

/**
 * Count and self size by "type:name" of every node in a heap snapshot file;
 * and for each key of `owned`, the same for the nodes holding an edge to one.
 */
function census(file: string, owned: string[]): { all: Census; owners: Map<string, Census> } {
  const snap = JSON.parse(readFileSync(file, "utf8")) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[] } };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const all: Census = new Map();
  const keys: string[] = [];
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    let name = snap.strings[snap.nodes[i + nameAt]!]!;
    // Strings and code by type only: their names are their contents.
    if (type === "string" || type === "concatenated string" || type === "sliced string" || type === "code")
      name = "";
    if (name.length > 60) name = `${name.slice(0, 57)}...`;
    const key = `${type}:${name}`;
    keys.push(key);
    add(all, key, snap.nodes[i + sizeAt]!);
  }
  const owners = new Map(owned.map((k) => [k, new Map() as Census]));
  if (owned.length) {
    const edgeWidth = snap.snapshot.meta.edge_fields.length;
    const toAt = snap.snapshot.meta.edge_fields.indexOf("to_node");
    const countAt = fields.indexOf("edge_count");
    let e = 0;
    for (let n = 0; n < keys.length; n++) {
      const edges = snap.nodes[n * width + countAt]!;
      for (let k = 0; k < edges; k++, e += edgeWidth) {
        const to = snap.edges[e + toAt]! / width;
        const held = owners.get(keys[to]!);
        if (held) add(held, keys[n]!, snap.nodes[to * width + sizeAt]!);
      }
    }
  }
  return { all, owners };
}

function add(census: Census, key: string, size: number): void {
  const entry = census.get(key) ?? { count: 0, size: 0 };
  entry.count++;
  entry.size += size;
  census.set(key, entry);
}

const owned = args.owners ? args.owners.split(",") : [];
function snapshot(label: string): { all: Census; owners: Map<string, Census> } {
  const file = writeHeapSnapshot(join(tmpdir(), `session-heap-${process.pid}-${label}.heapsnapshot`));
  try {
    return census(file, owned);
  } finally {
    if (args.keep) console.log(`kept ${file}`);
    else rmSync(file, { force: true });
  }
}

/** Prints the rows of `now` minus `was` per session, largest first; returns their sum, bytes per session. */
function print(now: Census, was: Census, title: string): number {
  const rows = [...now].map(([key, { count, size }]) => {
    const old = was.get(key) ?? { count: 0, size: 0 };
    return { key, count: (count - old.count) / plugins, bytes: (size - old.size) / plugins };
  });
  rows.sort((a, b) => b.bytes - a.bytes);
  console.log(`\n${title}\nbytes/session  count/session  type:name`);
  for (const r of rows.slice(0, Number(args.top)))
    console.log(`${r.bytes.toFixed(0).padStart(13)}  ${r.count.toFixed(2).padStart(13)}  ${r.key}`);
  return rows.reduce((s, r) => s + r.bytes, 0);
}

const server = createPluginServer({
  listen: "127.0.0.1:0",
  drainGraceMs: 1_000,
  authenticator: "none",
  logger: quietLogger,
  grpcOptions: JSON.parse(args.grpc),
});
const running = server.start();
const [address] = await server.ready();
const target = `http://${address}`;
const hosts: Worker[] = [];
try {
  hosts.push(
    ...(await Promise.all(
      Array.from({ length: hostCount }, (_, i) => startWorker(`plugin-host-${i}`, ["plugin-host"])),
    )),
  );
  const before = memory();
  const baseline = args.snapshot ? snapshot("before") : undefined;
  const names = Array.from({ length: plugins }, (_, i) => `p-${String(i).padStart(5, "0")}`);
  let registered = 0;
  const all = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${registered} of ${plugins} registered within 120 s`)),
      120_000,
    );
    server.registry.on("registered", () => {
      if (++registered < plugins) return;
      clearTimeout(timer);
      resolve();
    });
  });
  await Promise.all(
    hosts.map((h, i) => h.call("connect", { target, names: names.filter((_, k) => k % hostCount === i) })),
  );
  await all;
  // Let the registrations' last writes and timers settle.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const after = memory();
  const per = (k: keyof Memory) => ((after[k] - before[k]) / plugins / 1024).toFixed(2);
  console.log(
    `${plugins} sessions: per session rss ${per("rss")} KiB, heapUsed ${per("heapUsed")} KiB, ` +
      `external ${per("external")} KiB (arrayBuffers ${per("arrayBuffers")} KiB); ` +
      `http2 ${args.http2}, grpc ${args.grpc}`,
  );
  if (baseline) {
    const now = snapshot("after");
    const total = print(now.all, baseline.all, "heap snapshot diff");
    console.log(`${(total / 1024).toFixed(2)} KiB self size per session in all`);
    for (const key of owned)
      print(now.owners.get(key)!, baseline.owners.get(key)!, `held by (edges to ${key}, their self size)`);
  }
} finally {
  await stopAll(hosts);
  await server.stop();
  await running.catch(() => {});
}
