import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, readJsonBody, readJsonValue, sendJson } from "./api-status.js";
import type { CustomRoute } from "./custom-routes.js";
import type { ObjectStore } from "./object-store.js";
import { applyJsonPatch, applyMergePatch } from "./patch.js";
import { type ActiveWatch, serveWatch } from "./watch-stream.js";

/** A request without a body: DELETE from client-node sends none. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return length === undefined ? req.headers["transfer-encoding"] !== undefined : Number(length) > 0;
}

async function readPatch(
  req: IncomingMessage,
  maxBytes: number,
): Promise<(current: Record<string, unknown>) => Record<string, unknown>> {
  const contentType = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (contentType === "application/merge-patch+json") {
    const patch = await readJsonValue(req, maxBytes);
    if (patch === null || typeof patch !== "object" || Array.isArray(patch)) {
      throw new ApiError(400, "a merge patch must be a JSON object");
    }
    return (current) => applyMergePatch(current, patch) as Record<string, unknown>;
  }
  if (contentType === "application/json-patch+json") {
    const patch = await readJsonValue(req, maxBytes);
    return (current) => applyJsonPatch(current, patch);
  }
  // Strategic merge patch has no meaning for custom resources; server-side apply is not faked.
  throw new ApiError(
    415,
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json`,
  );
}

/** Serves one request for a custom resource. */
export async function handleCustomResource(
  route: CustomRoute,
  req: IncomingMessage,
  res: ServerResponse,
  context: { store: ObjectStore; maxBodyBytes: number; watches: Set<ActiveWatch> },
): Promise<void> {
  const { store, maxBodyBytes } = context;
  const { entry, status } = route;
  const namespace = route.namespace!;
  const name = route.name!;
  const url = new URL(req.url ?? "/", "https://fake");
  switch (route.verb) {
    case "get":
      sendJson(res, 200, store.get(entry, namespace, name));
      return;
    case "list":
      sendJson(res, 200, store.list(entry, route.namespace));
      return;
    case "watch": {
      const resourceVersion = url.searchParams.get("resourceVersion") ?? undefined;
      if (resourceVersion !== undefined && resourceVersion !== "" && !/^\d+$/.test(resourceVersion)) {
        throw new ApiError(400, `invalid resourceVersion ${JSON.stringify(resourceVersion)}`);
      }
      const timeout = url.searchParams.get("timeoutSeconds");
      serveWatch(req, res, {
        resource: entry.plural,
        subscribe: (listener) => store.watch(entry, route.namespace, resourceVersion, listener),
        timeoutSeconds: timeout === null ? undefined : Number(timeout),
        active: context.watches,
      });
      return;
    }
    case "create":
      sendJson(res, 201, store.create(entry, namespace, await readJsonBody(req, maxBodyBytes)));
      return;
    case "update":
      sendJson(res, 200, store.update(entry, namespace, name, await readJsonBody(req, maxBodyBytes), status));
      return;
    case "patch":
      sendJson(res, 200, store.patch(entry, namespace, name, await readPatch(req, maxBodyBytes), status));
      return;
    case "delete": {
      const options = hasBody(req) ? await readJsonBody(req, maxBodyBytes) : {};
      sendJson(res, 200, store.delete(entry, namespace, name, options));
      return;
    }
  }
}
