export { createLeaderElector, type LeaderElector } from "./leader-elector.js";
export type { LeaderElectorOptions } from "./options.js";
