/**
 * The SQL storage layer shared by every SQL backend (SQLite, libSQL): schema, statements and
 * row mappers behind a small async {@link SqlDriver}. A driver package only has to run batches.
 *
 * @module
 */
export type { SqlDriver, SqlResult, SqlStatement, SqlValue } from "./driver.js";
export { isOutcomeUnknown, markOutcomeUnknown } from "./driver.js";
export { isTransientError } from "./errors.js";
export type { SqlBackendOptions } from "./options.js";
export { defaultLockTimeoutMs } from "./options.js";
export { schemaVersion } from "./schema.js";
export { createSqlBackend } from "./sql-backend.js";
export { maxRowsPerStatement } from "./values.js";
