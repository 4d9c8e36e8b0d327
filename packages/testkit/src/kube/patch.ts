import { ApiError } from "./api-status.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch: objects merge recursively, `null` removes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/** RFC 6901: "/a/b~1c" -> ["a", "b/c"]. */
function parsePointer(pointer: unknown): string[] {
  if (typeof pointer !== "string" || (pointer !== "" && !pointer.startsWith("/"))) {
    throw new ApiError(422, `the JSON patch path ${JSON.stringify(pointer)} is not a JSON pointer`);
  }
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function parentOf(root: Record<string, unknown>, path: string[], pointer: string): [unknown, string] {
  let node: unknown = root;
  for (const token of path.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (node === undefined) throw new ApiError(422, `the JSON patch path "${pointer}" does not exist`);
  }
  return [node, path[path.length - 1]!];
}

function readAt(root: Record<string, unknown>, pointer: string): unknown {
  let node: unknown = root;
  for (const token of parsePointer(pointer)) {
    node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (node === undefined) throw new ApiError(422, `the JSON patch path "${pointer}" does not exist`);
  }
  return node;
}

function removeAt(root: Record<string, unknown>, pointer: string): unknown {
  const [parent, key] = parentOf(root, parsePointer(pointer), pointer);
  if (Array.isArray(parent)) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= parent.length) {
      throw new ApiError(422, `the JSON patch path "${pointer}" does not exist`);
    }
    return parent.splice(index, 1)[0];
  }
  if (!isObject(parent) || !(key in parent)) {
    throw new ApiError(422, `the JSON patch path "${pointer}" does not exist`);
  }
  const old = parent[key];
  delete parent[key];
  return old;
}

function addAt(root: Record<string, unknown>, pointer: string, value: unknown, replace: boolean): void {
  const [parent, key] = parentOf(root, parsePointer(pointer), pointer);
  if (Array.isArray(parent)) {
    const index = key === "-" ? parent.length : Number(key);
    const limit = replace ? parent.length - 1 : parent.length;
    if (!Number.isInteger(index) || index < 0 || index > limit) {
      throw new ApiError(422, `the JSON patch path "${pointer}" is out of range`);
    }
    parent.splice(index, replace ? 1 : 0, structuredClone(value));
    return;
  }
  if (!isObject(parent)) throw new ApiError(422, `the JSON patch path "${pointer}" does not exist`);
  if (replace && !(key in parent)) {
    throw new ApiError(422, `the JSON patch path "${pointer}" does not exist`);
  }
  parent[key] = structuredClone(value) as Json;
}

/**
 * RFC 6902 JSON patch (`add`, `remove`, `replace`, `move`, `copy`, `test`),
 * applied to a copy: a failed operation or `test` fails the whole patch with
 * 422, as on the API server.
 */
export function applyJsonPatch(
  target: Record<string, unknown>,
  operations: unknown,
): Record<string, unknown> {
  if (!Array.isArray(operations)) throw new ApiError(400, "a JSON patch must be an array of operations");
  const root = structuredClone(target);
  for (const operation of operations) {
    if (!isObject(operation)) throw new ApiError(400, "a JSON patch operation must be an object");
    const path = String(operation.path);
    if (path === "") throw new ApiError(422, "a JSON patch on the whole object is not supported");
    switch (operation.op) {
      case "add":
        addAt(root, path, operation.value, false);
        break;
      case "replace":
        addAt(root, path, operation.value, true);
        break;
      case "remove":
        removeAt(root, path);
        break;
      case "move":
        addAt(root, path, removeAt(root, String(operation.from)), false);
        break;
      case "copy":
        addAt(root, path, readAt(root, String(operation.from)), false);
        break;
      case "test":
        if (JSON.stringify(readAt(root, path)) !== JSON.stringify(operation.value)) {
          throw new ApiError(422, `the JSON patch test of "${path}" failed`);
        }
        break;
      default:
        throw new ApiError(400, `unknown JSON patch operation ${JSON.stringify(operation.op)}`);
    }
  }
  return root;
}
