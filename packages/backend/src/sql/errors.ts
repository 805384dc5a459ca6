import { DurableTaskError } from "@durabletask/api";

// SQLite result codes (primary and extended names start with these) and libSQL client codes
// for storage that is busy, read-only, full or unreachable: retrying later may succeed.
const transientCodes = [
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_READONLY",
  "SQLITE_FULL",
  "SQLITE_IOERR",
  "SQLITE_CANTOPEN",
  "SQLITE_PROTOCOL",
  "SQLITE_NOMEM",
  "TRANSACTION_TIMEOUT",
  "TRANSACTION_BUSY",
  "STREAM_EXPIRED",
  "HRANA_WEBSOCKET_ERROR",
  "HRANA_CLOSED_ERROR",
  "SERVER_ERROR",
  "BLOCKED",
];

function codesOf(err: unknown): string[] {
  if (typeof err !== "object" || err === null) return [];
  const { code, extendedCode } = err as { code?: unknown; extendedCode?: unknown };
  return [code, extendedCode].filter((c): c is string => typeof c === "string");
}

/** True when a driver error means the storage is temporarily unusable. */
export function isTransientError(err: unknown): boolean {
  return codesOf(err).some((code) => transientCodes.some((prefix) => code.startsWith(prefix)));
}

/**
 * A driver error as a DurableTaskError: `Unavailable` for transient storage faults, `Internal`
 * for anything else; DurableTaskErrors pass through.
 */
export function storageError(err: unknown, operation: string): DurableTaskError {
  if (DurableTaskError.is(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = isTransientError(err) ? "Unavailable" : "Internal";
  return new DurableTaskError(code, `${operation}: storage failed: ${message}`, { cause: err });
}
