import {
  describe,
  integerOption,
  invalidArgument,
  type Logger,
  silentLogger,
} from "@durabletask/api";
import { type LibsqlUrl, parseLibsqlUrl } from "./libsql-url.js";

/** Options of {@link createLibsqlDriver}. */
export interface LibsqlDriverOptions {
  /**
   * The database: `file:path.db` (embedded libSQL; `file::memory:` for a private in-memory
   * database that lives until the driver is closed), `http(s)://` or `ws(s)://` (sqld, a Hrana
   * v2 server), `libsql://` (Turso; HTTPS).
   */
  readonly url: string;
  /** The server's JWT (also accepted as `?authToken=` in the URL); for `file:` only with `syncUrl`. */
  readonly authToken?: string | undefined;
  /**
   * Makes a `file:` URL an embedded replica of this remote primary (`libsql://`, `http(s)://`,
   * `ws(s)://`): reads are local, writes go to the primary. A replica is single-connection.
   */
  readonly syncUrl?: string | undefined;
  /**
   * With `syncUrl`: how often the replica pulls the primary's changes. Default: no periodic
   * pull; the replica catches up after its own writes only, so reads may miss other workers'.
   */
  readonly syncIntervalMs?: number | undefined;
  /**
   * `file:` only: how long a write waits for another process's lock; default 1,000 ms. The wait
   * blocks the event loop (libSQL's call is synchronous), so keep it short: retries back off
   * without blocking. Writes within one process never wait, they take turns.
   */
  readonly busyTimeoutMs?: number | undefined;
  /** How often a batch the database refused (busy, unreachable, …) is re-sent; default 5. */
  readonly maxRetries?: number | undefined;
  /** Where retries and reconnects are reported (`debug`, `warn`); default: nowhere. */
  readonly logger?: Logger | undefined;
}

/** {@link LibsqlDriverOptions} validated, with defaults applied. */
export interface ResolvedDriverOptions {
  readonly url: LibsqlUrl;
  readonly authToken: string | undefined;
  readonly syncUrl: LibsqlUrl | undefined;
  readonly syncIntervalMs: number | undefined;
  readonly busyTimeoutMs: number;
  readonly maxRetries: number;
  readonly logger: Logger;
}

function tokenOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    throw invalidArgument("authToken", `must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

function syncUrlOf(value: unknown, url: LibsqlUrl): LibsqlUrl | undefined {
  if (value === undefined) return undefined;
  const syncUrl = parseLibsqlUrl(value, "syncUrl");
  if (syncUrl.target !== "remote") {
    throw invalidArgument("syncUrl", "must be a libsql://, http(s):// or ws(s):// URL");
  }
  if (url.target !== "file") {
    throw invalidArgument("syncUrl", "needs a file: url (not :memory:) for the local replica");
  }
  return syncUrl;
}

function syncIntervalOf(value: unknown, syncUrl: LibsqlUrl | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw invalidArgument(
      "syncIntervalMs",
      `must be a finite number of milliseconds > 0, got ${describe(value)}`,
    );
  }
  if (syncUrl === undefined) throw invalidArgument("syncIntervalMs", "needs syncUrl");
  return value;
}

function loggerOf(value: unknown): Logger {
  if (value === undefined) return silentLogger;
  const l = value as Partial<Logger>;
  const methods = ["debug", "info", "warn", "error"] as const;
  if (typeof l !== "object" || l === null || methods.some((m) => typeof l[m] !== "function")) {
    throw invalidArgument("logger", `must be a Logger, got ${describe(value)}`);
  }
  return l as Logger;
}

/** Validates `options` (`InvalidArgument` naming the field) and applies the defaults. */
export function resolveDriverOptions(options: LibsqlDriverOptions): ResolvedDriverOptions {
  if (typeof options !== "object" || options === null) {
    throw invalidArgument("options", `must be an object, got ${describe(options)}`);
  }
  const url = parseLibsqlUrl(options.url, "url");
  const syncUrl = syncUrlOf(options.syncUrl, url);
  return {
    url,
    authToken: tokenOf(options.authToken),
    syncUrl,
    syncIntervalMs: syncIntervalOf(options.syncIntervalMs, syncUrl),
    busyTimeoutMs: integerOption(options.busyTimeoutMs, "busyTimeoutMs", 1000, 0x7fffffff),
    maxRetries: integerOption(options.maxRetries, "maxRetries", 5, 100),
    logger: loggerOf(options.logger),
  };
}
