/**
 * What a failed batch means for retrying it.
 *
 * - `refused`: the database refused the batch before committing anything (busy, a write
 *   transaction that timed out and was rolled back, an expired stream, a connection that
 *   could not be opened): re-sending it is safe.
 * - `lost`: the connection failed after the batch was sent, so it may have committed: only
 *   reads are re-sent.
 * - `tooLarge`: a request or response over the server's size limit: re-sending cannot help.
 * - `fatal`: anything else (constraint, syntax, authentication, a closed client): not retried.
 */
export type Fault = "refused" | "lost" | "tooLarge" | "fatal";

// Codes (SQLite primary and extended names start with these) for a batch that did not commit.
const refusedCodes = [
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "TRANSACTION_BUSY",
  "TRANSACTION_TIMEOUT",
  "STREAM_EXPIRED",
  "STREAM_NOT_FOUND",
];

// Node and undici codes of a connection that was never established: nothing was sent.
const unsentNetworkCodes = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

// Node and undici codes of a connection that broke while a request was in flight.
const lostNetworkCodes = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_ABORTED",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

interface ErrorLike {
  readonly code?: unknown;
  readonly extendedCode?: unknown;
  readonly status?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
}

/** Every `code` on `err`, its causes and aggregated errors (a fetch failure nests them). */
function codesOf(err: unknown, seen = new Set<unknown>()): string[] {
  if (typeof err !== "object" || err === null || seen.has(err)) return [];
  seen.add(err);
  const e = err as ErrorLike;
  const own = [e.code, e.extendedCode].filter((c): c is string => typeof c === "string");
  const nested = Array.isArray(e.errors) ? e.errors : [];
  return [...own, ...codesOf(e.cause, seen), ...nested.flatMap((n) => codesOf(n, seen))];
}

/** The HTTP status of a `SERVER_ERROR` (the client's `HttpServerError` cause), if any. */
function httpStatusOf(err: unknown): number | undefined {
  for (let e = err as ErrorLike | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.status === "number") return e.status;
    e = typeof e.cause === "object" && e.cause !== null ? (e.cause as ErrorLike) : undefined;
  }
  const message = (err as ErrorLike | undefined)?.message;
  const match = typeof message === "string" ? /HTTP status (\d{3})/.exec(message) : null;
  return match ? Number(match[1]) : undefined;
}

function serverErrorFault(err: unknown): Fault {
  const status = httpStatusOf(err);
  if (status === 413) return "tooLarge";
  // 429 and 503: the server (or a proxy in front of it) turned the request away.
  if (status === 429 || status === 503) return "refused";
  if (status !== undefined && status < 500) return "fatal";
  return "lost";
}

function isFetchFailure(err: unknown): boolean {
  if (!(err instanceof TypeError)) return false;
  return /fetch failed|terminated|socket|network/i.test(err.message);
}

/** Classifies a failed `client.batch` (see {@link Fault}). */
export function faultOf(err: unknown): Fault {
  const codes = codesOf(err);
  if (codes.some((c) => refusedCodes.some((prefix) => c.startsWith(prefix)))) return "refused";
  if (codes.includes("RESPONSE_TOO_LARGE")) return "tooLarge";
  if (codes.includes("SERVER_ERROR")) return serverErrorFault(err);
  if (codes.includes("HRANA_WEBSOCKET_ERROR")) {
    // 1009: a message over the socket's size limit.
    return /code 1009\b/.test(String((err as ErrorLike).message)) ? "tooLarge" : "lost";
  }
  if (codes.some((c) => unsentNetworkCodes.has(c))) return "refused";
  if (codes.some((c) => lostNetworkCodes.has(c)) || isFetchFailure(err)) return "lost";
  if (codes.includes("HRANA_CLOSED_ERROR")) return "lost";
  return "fatal";
}

/** True for SQLITE_BUSY (any extended code): another connection holds the write lock. */
export function isBusy(err: unknown): boolean {
  return codesOf(err).some((c) => c.startsWith("SQLITE_BUSY"));
}
