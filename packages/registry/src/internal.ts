/**
 * For @operator-plugin-framework/server only: the way a server puts the
 * sessions it accepts into a registry, and follows the registrations of one
 * name. Not part of the public API; it may change in any release.
 */
export { addSession, onRegisteredAs } from "./registry.js";
