export type { HranaServer, HranaServerOptions } from "./server.js";
export { startHranaServer } from "./server.js";
export type { HranaStats } from "./server-state.js";
