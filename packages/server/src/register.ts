import { status } from "@grpc/grpc-js";
import type { PluginRegister } from "@operator-plugin-framework/proto";
import type { AnnouncedService } from "@operator-plugin-framework/registry";
import { PluginFrameworkError, validatePluginName } from "@operator-plugin-framework/wire";
import { validateLabels } from "./register-labels.js";

const MAX_VERSION_LENGTH = 256;
const MAX_SERVICES = 256;
const MAX_METHODS = 4096;

/**
 * Checks a register message from an untrusted plugin and returns the services
 * it announced. Throws INVALID_ARGUMENT saying what is wrong.
 */
export function validateRegister(register: PluginRegister): AnnouncedService[] {
  validatePluginName(register.name);
  validateLabels(register.labels);
  if (register.version.length > MAX_VERSION_LENGTH) {
    throw new PluginFrameworkError(
      status.INVALID_ARGUMENT,
      `plugin version is longer than ${MAX_VERSION_LENGTH} characters`,
    );
  }
  if (register.services.length > MAX_SERVICES) {
    throw new PluginFrameworkError(
      status.INVALID_ARGUMENT,
      `register announces more than ${MAX_SERVICES} services`,
    );
  }
  let methods = 0;
  return register.services.map((service) => {
    methods += service.methods.length;
    if (methods > MAX_METHODS) {
      throw new PluginFrameworkError(
        status.INVALID_ARGUMENT,
        `register announces more than ${MAX_METHODS} methods`,
      );
    }
    return {
      name: service.name.slice(0, 512),
      methods: service.methods.map((m) => ({
        name: m.name.slice(0, 512),
        clientStreaming: m.clientStreaming,
        serverStreaming: m.serverStreaming,
      })),
    };
  });
}
