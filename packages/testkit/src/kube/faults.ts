import type { ServerResponse } from "node:http";
import { ApiError } from "./api-status.js";
import type { FakeFaultHandle, FakeFaultMatch, FakeFaults } from "./resource-types.js";
import type { FakeResourceAttributes } from "./types.js";
import type { ActiveWatch } from "./watch-stream.js";

interface Fault {
  match: FakeFaultMatch;
  action: { httpStatus: number } | "hang";
  remaining: number;
  hits: number;
  /** Connections this fault holds hanging. */
  held: Set<ServerResponse>;
}

/** The faults in place, and the check every request goes through. */
export interface FaultInjector extends FakeFaults {
  /**
   * Applies the first fault matching the request: throws its failure, or
   * resolves `true` once a hung request is over (client gone or fault
   * cleared) so the handler answers nothing. Resolves `false` to serve normally.
   */
  intercept(res: ServerResponse, attributes: FakeResourceAttributes, user: string): Promise<boolean>;
}

function matches(match: FakeFaultMatch, attributes: FakeResourceAttributes, user: string): boolean {
  return (
    (match.resource === undefined || match.resource === attributes.resource) &&
    (match.verb === undefined || match.verb === attributes.verb) &&
    (match.subresource === undefined || match.subresource === attributes.subresource) &&
    (match.namespace === undefined || match.namespace === attributes.namespace) &&
    (match.name === undefined || match.name === attributes.name) &&
    (match.user === undefined || match.user === user)
  );
}

export function createFaultInjector(watches: Set<ActiveWatch>): FaultInjector {
  const faults: Fault[] = [];

  function remove(fault: Fault): void {
    const index = faults.indexOf(fault);
    if (index !== -1) faults.splice(index, 1);
    for (const res of fault.held) res.destroy();
    fault.held.clear();
  }

  function add(match: FakeFaultMatch, action: Fault["action"]): FakeFaultHandle {
    const count = match.count ?? 1;
    if (!(count > 0)) throw new Error("faults: count must be positive (Infinity for until cleared)");
    const fault: Fault = { match, action, remaining: count, hits: 0, held: new Set() };
    faults.push(fault);
    return {
      get hits() {
        return fault.hits;
      },
      clear: () => remove(fault),
    };
  }

  return {
    failNext: (match = {}) => add(match, { httpStatus: match.httpStatus ?? 500 }),
    hangNext: (match = {}) => add(match, "hang"),
    dropWatches(options = {}) {
      const dropped = [...watches].filter(
        (w) => options.resource === undefined || w.resource === options.resource,
      );
      for (const watch of dropped) {
        if (options.mode === "destroy") watch.destroy();
        else watch.end();
      }
      return dropped.length;
    },
    clear() {
      for (const fault of [...faults]) remove(fault);
    },
    async intercept(res, attributes, user) {
      const fault = faults.find((f) => f.remaining > 0 && matches(f.match, attributes, user));
      if (fault === undefined) return false;
      fault.remaining -= 1;
      fault.hits += 1;
      if (fault.action !== "hang") {
        throw new ApiError(
          fault.action.httpStatus,
          `fake API fault injected: HTTP ${fault.action.httpStatus}`,
        );
      }
      fault.held.add(res);
      await new Promise<void>((resolve) => res.once("close", resolve));
      fault.held.delete(res);
      return true;
    },
  };
}
