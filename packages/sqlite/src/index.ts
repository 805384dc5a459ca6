export type { SqliteBackendOptions } from "./sqlite-backend.js";
export { createSqliteBackend } from "./sqlite-backend.js";
export type { SqliteDriverOptions } from "./sqlite-driver.js";
export { createSqliteDriver } from "./sqlite-driver.js";
