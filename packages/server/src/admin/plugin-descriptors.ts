import type { PluginSession } from "@operator-plugin-framework/registry";
import {
  type Logger,
  MAX_FILE_DESCRIPTOR_SET_BYTES,
  splitFileDescriptorSet,
} from "@operator-plugin-framework/wire";

/**
 * The descriptors each session's plugin announced at registration
 * (`PluginRegister.file_descriptor_set`), for the admin service's
 * GetFileDescriptorSet. Kept beside the session rather than in it: only the
 * admin service reads them, and they go with the session object.
 */
const announced = new WeakMap<PluginSession, Buffer>();

/**
 * Keeps the descriptors `session`'s plugin announced, if any. A set over
 * MAX_FILE_DESCRIPTOR_SET_BYTES, or one that is not a FileDescriptorSet, is
 * ignored with a warning: descriptors serve tools, so the plugin still
 * registers and serves.
 */
export function keepAnnouncedDescriptors(session: PluginSession, bytes: Uint8Array, logger: Logger): void {
  if (bytes.length === 0) return;
  const context = { plugin: session.name, session: session.id, bytes: bytes.length };
  if (bytes.length > MAX_FILE_DESCRIPTOR_SET_BYTES) {
    logger.warn(
      { ...context, limit: MAX_FILE_DESCRIPTOR_SET_BYTES },
      "plugin's file_descriptor_set is over the limit and ignored: opf call needs --proto for its services; " +
        "announce only the files its services need (buf build --path ...)",
    );
    return;
  }
  const files = splitFileDescriptorSet(bytes);
  if (typeof files === "string") {
    logger.warn(
      { ...context, problem: files },
      "plugin's file_descriptor_set is not a serialized google.protobuf.FileDescriptorSet and is ignored",
    );
    return;
  }
  // A copy: the register message's bytes may be a view of a larger receive buffer.
  announced.set(session, Buffer.from(bytes));
}

/** What `session`'s plugin announced, if it announced usable descriptors. */
export function announcedDescriptors(session: PluginSession): Buffer | undefined {
  return announced.get(session);
}
