import { existsSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import protobuf from "protobufjs";
// Adds Root.fromDescriptor: descriptors from the operator, for calls without --proto.
import "protobufjs/ext/descriptor/index.js";
import { CliError, ExitCode } from "./exit-codes.js";

/** JSON in and out of one method's messages. */
export interface MethodCodec {
  encodeRequest(json: unknown): Buffer;
  decodeResponse(bytes: Buffer): unknown;
}

/**
 * Loads `.proto` files (with `importPaths` searched for their imports) and
 * returns the JSON codec of `method` ("pkg.Service/Method"). The output uses
 * the proto3 JSON mapping's field names (lowerCamelCase), enums as names,
 * 64-bit integers as strings and bytes as base64, with defaults included.
 */
export function loadMethodCodec(protoFiles: string[], importPaths: string[], method: string): MethodCodec {
  if (protoFiles.length === 0) {
    throw new CliError(
      ExitCode.usage,
      `the message types of ${method} are unknown: pass its service's .proto file with --proto (and -I for the directories its imports live in)`,
    );
  }
  return methodCodec(loadProtoFiles(protoFiles, importPaths), method, protoFiles.join(", "));
}

/**
 * The JSON codec of `method` from the operator's descriptors (the bytes of a
 * google.protobuf.FileDescriptorSet, from the admin service), for `opf call`
 * without `--proto`. Same JSON mapping as {@link loadMethodCodec}.
 */
export function methodCodecFromDescriptors(fileDescriptorSet: Uint8Array, method: string): MethodCodec {
  let root: protobuf.Root;
  try {
    root = (protobuf.Root as unknown as { fromDescriptor(bytes: Uint8Array): protobuf.Root }).fromDescriptor(
      fileDescriptorSet,
    );
    root.resolveAll();
  } catch (err) {
    throw new CliError(
      ExitCode.failed,
      `the descriptors of the operator and its plugins cannot be read (${(err as Error).message}); pass the service's .proto file with --proto`,
    );
  }
  return methodCodec(
    root,
    method,
    "the descriptors of the operator and its plugins (pass --proto to use your own .proto files)",
  );
}

function loadProtoFiles(protoFiles: string[], importPaths: string[]): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    for (const dir of importPaths) {
      const candidate = resolvePath(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return protobuf.util.path.resolve(origin, target);
  };
  try {
    root.loadSync(protoFiles, { keepCase: false });
    root.resolveAll();
  } catch (err) {
    throw new CliError(ExitCode.usage, `cannot load ${protoFiles.join(", ")}: ${(err as Error).message}`);
  }
  return root;
}

/** The codec of `method` ("pkg.Service/Method") in `root`; `source` names where `root` came from, for errors. */
function methodCodec(root: protobuf.Root, method: string, source: string): MethodCodec {
  const [serviceName, methodName] = method.replace(/^\//, "").split("/");
  const service = serviceName ? root.lookup(serviceName) : null;
  if (!(service instanceof protobuf.Service)) {
    throw new CliError(ExitCode.usage, `service ${serviceName} is not defined in ${source}`);
  }
  const rpc = methodName ? service.methods[methodName] : undefined;
  if (!rpc) {
    throw new CliError(
      ExitCode.usage,
      `${serviceName} has no method ${methodName}; it has: ${Object.keys(service.methods).join(", ")}`,
    );
  }
  const requestType = rpc.resolvedRequestType!;
  const responseType = rpc.resolvedResponseType!;
  return {
    encodeRequest(json) {
      const typeName = requestType.fullName.slice(1);
      if (typeof json !== "object" || json === null || Array.isArray(json)) {
        throw new CliError(ExitCode.usage, `--data must be a JSON object (a ${typeName})`);
      }
      // protobufjs ignores unknown fields; a typo should not silently send an empty field.
      const known = new Set(
        requestType.fieldsArray.flatMap((field) => [field.name, protobuf.util.camelCase(field.name)]),
      );
      const unknown = Object.keys(json).filter((key) => !known.has(key));
      if (unknown.length) {
        throw new CliError(
          ExitCode.usage,
          `--data has fields ${typeName} does not have: ${unknown.join(", ")}; its fields: ${requestType.fieldsArray.map((f) => f.name).join(", ")}`,
        );
      }
      const message = requestType.fromObject(json as Record<string, unknown>);
      const problem = requestType.verify(message);
      if (problem) throw new CliError(ExitCode.usage, `--data is not a valid ${typeName}: ${problem}`);
      return Buffer.from(requestType.encode(message).finish());
    },
    decodeResponse(bytes) {
      return responseType.toObject(responseType.decode(bytes), {
        longs: String,
        enums: String,
        bytes: String,
        defaults: true,
        json: true,
      });
    },
  };
}
