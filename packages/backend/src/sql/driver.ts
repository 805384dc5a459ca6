/** A value bound to a `?` parameter or read from a column. */
export type SqlValue = null | number | bigint | string | Uint8Array;

/** One SQL statement with its positional `?` arguments. */
export interface SqlStatement {
  readonly sql: string;
  readonly args: readonly SqlValue[];
}

/**
 * The outcome of one statement: its rows as arrays in column order, and how many rows it changed
 * (for statements with `RETURNING`, the number of rows returned).
 */
export interface SqlResult {
  readonly rows: readonly (readonly SqlValue[])[];
  readonly changes: number;
}

/**
 * The seam between the shared SQL backend and one database client (better-sqlite3, libSQL, …).
 *
 * A driver opens its connection lazily on the first {@link SqlDriver.batch} and again after
 * {@link SqlDriver.close}. Drivers speak the SQLite dialect.
 */
export interface SqlDriver {
  /** A short description for logs, e.g. `sqlite::/data/app.sqlite3`. */
  readonly description: string;
  /**
   * Runs `statements` atomically in one transaction (`"write"`: an immediate/write transaction)
   * and returns one result per statement. Throws on the first failing statement after rolling
   * back everything the batch did. When a write's outcome cannot be known (the request was sent
   * but its answer was lost, so it may have committed), the thrown error must carry
   * {@link markOutcomeUnknown}: callers then must not assume a rollback.
   */
  batch(statements: readonly SqlStatement[], mode: "read" | "write"): Promise<SqlResult[]>;
  /** Closes the connection. Idempotent. */
  close(): Promise<void>;
}

const outcomeUnknown = Symbol.for("@durabletask/backend/sql/outcomeUnknown");

/** Marks `error` as "this write may or may not have been applied"; returns it. */
export function markOutcomeUnknown<E extends object>(error: E): E {
  Object.defineProperty(error, outcomeUnknown, { value: true });
  return error;
}

/** True when a driver error says its write may have been applied (see {@link markOutcomeUnknown}). */
export function isOutcomeUnknown(error: unknown): boolean {
  return typeof error === "object" && error !== null && outcomeUnknown in error;
}
