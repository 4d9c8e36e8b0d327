/**
 * For @operator-plugin-framework/server only: the way a server puts the
 * sessions it accepts into a registry. Not part of the public API; it may
 * change in any release.
 */
export { addSession } from "./registry.js";
