export { createInteropService } from "./interop-service.js";
