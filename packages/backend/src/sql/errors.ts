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

// What a user should know about the storage fault behind a code (by prefix, first match wins).
const faultDescriptions: readonly (readonly [string, string])[] = [
  ["SQLITE_BUSY", "the database is locked by another connection (busy timeout exceeded)"],
  ["SQLITE_LOCKED", "the database is locked by another connection"],
  ["SQLITE_READONLY", "the database is read-only (check the file's and directory's permissions)"],
  ["SQLITE_FULL", "the database or disk is full"],
  ["SQLITE_IOERR", "a disk I/O error occurred"],
  ["SQLITE_CANTOPEN", "the database file cannot be opened"],
  ["SQLITE_NOMEM", "out of memory"],
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
 * A driver error as a DurableTaskError: `Unavailable` for transient storage faults (busy or
 * locked, read-only, full, I/O errors, unreachable), whose message says which fault it is and
 * that the operation may be retried once it clears; `Internal` for anything else.
 * DurableTaskErrors pass through.
 */
export function storageError(err: unknown, operation: string): DurableTaskError {
  if (DurableTaskError.is(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (!isTransientError(err)) {
    return new DurableTaskError("Internal", `${operation}: storage failed: ${message}`, {
      cause: err,
    });
  }
  const codes = codesOf(err);
  const fault = faultDescriptions.find(([prefix]) => codes.some((c) => c.startsWith(prefix)));
  const what = fault?.[1] ?? "the storage is unavailable";
  const code = codes.at(-1) ?? "";
  return new DurableTaskError(
    "Unavailable",
    `${operation}: ${what}; retry once that is resolved (${code}: ${message})`,
    { cause: err },
  );
}
