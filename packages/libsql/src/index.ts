export type { LibsqlBackendOptions } from "./libsql-backend.js";
export { createLibsqlBackend } from "./libsql-backend.js";
export { createLibsqlDriver } from "./libsql-driver.js";
export type { LibsqlDriverOptions } from "./libsql-driver-options.js";
