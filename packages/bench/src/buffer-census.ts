// Counts the large buffer allocations and copies of a piece of code, by call
// site. CPU time on this shared machine varies by ±30 % from run to run, so
// two versions of the data path cannot be told apart by timing alone; what
// they allocate and copy per call is exact. This is how the 1 MiB path of
// 5e31889 and of session 4's main were shown to do the same work: the same
// sites, the same bytes.

/** One call site: what it did, how often, how many bytes in all. */
export interface CensusRow {
  /** `alloc`, `concat`, `copy` (Buffer.from a view, Buffer#copy, Uint8Array#set) or `slice` (Uint8Array#slice). */
  kind: "alloc" | "concat" | "copy" | "slice";
  /** The first frames of the stack above the call, innermost first, joined by " < ". */
  site: string;
  count: number;
  bytes: number;
}

export interface BufferCensusOptions {
  /** Operations on fewer bytes are not counted. Default 32 KiB. */
  minBytes?: number;
  /** Stack frames kept per site. Default 4. */
  depth?: number;
}

/** A running census; `stop()` puts every patched method back. */
export interface BufferCensus {
  rows(): CensusRow[];
  stop(): void;
}

type Kind = CensusRow["kind"];

// A frame's path from its package on: "(wire/src/codec.ts:73:22)", "(@grpc/grpc-js/src/...)".
const LOCATION = /\((?:file:\/\/)?[^()]*?\/(?:node_modules\/\.pnpm\/[^/]+\/node_modules\/|packages\/)/;

/**
 * Patches Buffer's allocators, `Buffer.concat`, `Buffer.from`, `Buffer#copy` and
 * `Uint8Array#set`/`#slice` for the life of the census. For measurement
 * scripts only: every patched call captures a stack once it is large enough.
 */
export function startBufferCensus(options: BufferCensusOptions = {}): BufferCensus {
  const minBytes = options.minBytes ?? 32 * 1024;
  const depth = options.depth ?? 4;
  const sites = new Map<string, CensusRow>();
  // Buffer.concat allocates through allocUnsafe and copies through set:
  // counted once, as a concat, not three times.
  let inner = 0;
  const note = (kind: Kind, bytes: number) => {
    if (inner > 0 || bytes < minBytes) return;
    const frames = (new Error().stack ?? "").split("\n").slice(3, 3 + depth);
    const site = frames.map((line) => line.trim().replace(/^at /, "").replace(LOCATION, "(")).join(" < ");
    const key = `${kind} ${site}`;
    const row = sites.get(key) ?? { kind, site, count: 0, bytes: 0 };
    row.count++;
    row.bytes += bytes;
    sites.set(key, row);
  };
  const restore: (() => void)[] = [];
  const patch = <T extends object, K extends keyof T>(target: T, name: K, wrap: (original: T[K]) => T[K]) => {
    const original = target[name];
    target[name] = wrap(original);
    restore.push(() => {
      target[name] = original;
    });
  };
  for (const name of ["alloc", "allocUnsafe", "allocUnsafeSlow"] as const) {
    patch(
      Buffer,
      name,
      (original) =>
        Object.assign(function (this: unknown, ...args: unknown[]) {
          const out = (original as (...a: unknown[]) => Buffer).apply(this, args);
          note("alloc", out.length);
          return out;
        }) as never,
    );
  }
  patch(
    Buffer,
    "concat",
    (original) =>
      ((list: readonly Uint8Array[], length?: number) => {
        inner++;
        try {
          const out = original(list, length);
          inner--;
          note("concat", out.length);
          return out;
        } catch (err) {
          inner--;
          throw err;
        }
      }) as typeof Buffer.concat,
  );
  // Buffer.from copies a typed array or an array (not an ArrayBuffer, which it wraps).
  patch(
    Buffer,
    "from",
    (original) =>
      Object.assign(function (this: unknown, ...args: unknown[]) {
        const out = (original as (...a: unknown[]) => Buffer).apply(this, args);
        if (ArrayBuffer.isView(args[0]) || Array.isArray(args[0])) note("copy", out.length);
        return out;
      }) as never,
  );
  patch(
    Buffer.prototype,
    "copy",
    (original) =>
      function (this: Buffer, ...args: Parameters<Buffer["copy"]>) {
        const copied = original.apply(this, args);
        note("copy", copied);
        return copied;
      },
  );
  patch(
    Uint8Array.prototype,
    "set",
    (original) =>
      function (this: Uint8Array, source: ArrayLike<number>, offset?: number) {
        note("copy", source.length);
        return original.call(this, source, offset);
      },
  );
  patch(
    Uint8Array.prototype,
    "slice",
    (original) =>
      function (this: Uint8Array, start?: number, end?: number) {
        const out = original.call(this, start, end);
        note("slice", out.length);
        return out;
      },
  );
  return {
    rows: () => [...sites.values()].sort((a, b) => b.bytes - a.bytes),
    stop: () => {
      for (const undo of restore.splice(0).reverse()) undo();
    },
  };
}
