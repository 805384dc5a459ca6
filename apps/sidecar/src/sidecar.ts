import { DurableTaskError, type Logger, type LogLevel } from "@durabletask/api";
import type { Backend } from "@durabletask/backend";
import {
  createSidecarServer,
  defaultMaxReceiveMessageBytes,
  maxMessageBytesLimit,
  type SidecarServer,
} from "@durabletask/grpc";
import { exposureProblem, insecureWarning, tlsCredentials } from "./access.js";
import { createLogger, type LogFormat } from "./logger.js";
import { UsageError } from "./usage-error.js";

/** The storage the sidecar runs on. */
export type BackendKind = "sqlite" | "libsql";

/** SQLite's `synchronous` setting: `FULL` syncs every commit; `NORMAL` only at WAL checkpoints. */
export type SqliteSynchronous = "NORMAL" | "FULL";

/** The values of {@link SidecarOptions.sqliteSynchronous}. */
export const sqliteSynchronousModes: readonly SqliteSynchronous[] = ["NORMAL", "FULL"];

/** Options of {@link createSidecar}; every field has the default of the matching flag. */
export interface SidecarOptions {
  /** Default `localhost`. */
  readonly host?: string | undefined;
  /** Default 4001; 0 picks a free port (see {@link Sidecar.port}). */
  readonly port?: number | undefined;
  /** Default `sqlite`. `libsql` needs {@link SidecarOptions.libsqlUrl}. */
  readonly backend?: BackendKind | undefined;
  /**
   * SQLite database file (`backend: "sqlite"` only); default in-memory (everything is lost when
   * the sidecar stops).
   */
  readonly db?: string | undefined;
  /**
   * SQLite's `synchronous` setting; default `FULL` (no committed work lost on power failure).
   * `NORMAL` skips the fsync per commit: a power failure may lose the last commits, never
   * corrupt the database (WAL mode). `backend: "sqlite"` only.
   */
  readonly sqliteSynchronous?: SqliteSynchronous | undefined;
  /**
   * The libsql database (`backend: "libsql"`, required there): `file:<path>` (embedded),
   * `http(s)://` or `ws(s)://` (sqld), `libsql://` (Turso).
   */
  readonly libsqlUrl?: string | undefined;
  /** The libsql auth token (Turso, sqld with auth); never logged. */
  readonly libsqlAuthToken?: string | undefined;
  /** PEM certificate (chain) file: serve TLS (with {@link SidecarOptions.tlsKey}). Default plain text. */
  readonly tlsCert?: string | undefined;
  /** PEM private key file of {@link SidecarOptions.tlsCert}. */
  readonly tlsKey?: string | undefined;
  /**
   * Require `authorization: Bearer <authToken>` metadata on every `TaskHubSidecarService` call
   * (UNAUTHENTICATED otherwise); the health service stays open. Never logged.
   */
  readonly authToken?: string | undefined;
  /**
   * Serve on a non-loopback `host` without TLS and a token anyway (logs a warning). Without it
   * such a sidecar refuses to start.
   */
  readonly insecure?: boolean | undefined;
  /**
   * Attempts before an orchestration episode or activity work item that keeps failing outside
   * user code is given up with a `PoisonWorkItem` failure; default 10.
   */
  readonly maxEpisodeAttempts?: number | undefined;
  /**
   * How long a work item's lease lasts before another worker (or a restarted sidecar) may take it
   * over; renewed at half its remaining time while the work runs. Default 30 s.
   */
  readonly lockTimeoutMs?: number | undefined;
  /**
   * Largest request accepted, in bytes; larger ones (also once decompressed) are refused with
   * RESOURCE_EXHAUSTED, which bounds every payload the engine stores. Default
   * {@link maxReceiveMessageBytes} (256 MiB).
   */
  readonly maxMessageBytes?: number | undefined;
  /** Default `info`; ignored when `logger` is given. */
  readonly logLevel?: LogLevel | undefined;
  /** Default `text`; ignored when `logger` is given. */
  readonly logFormat?: LogFormat | undefined;
  /** Default: text or JSON lines on stderr (see {@link createLogger}). */
  readonly logger?: Logger | undefined;
  /** How long `stop()` lets SDK workers finish in-flight work; default 30 s. */
  readonly drainTimeoutMs?: number | undefined;
}

/** A running sidecar. */
export interface Sidecar {
  /** The bound port (useful with `port: 0`). */
  readonly port: number;
  /** `host:port` the sidecar listens on. */
  readonly address: string;
  /** The storage, e.g. `sqlite::memory:`; never contains credentials. */
  readonly storage: string;
  /** Drains in-flight work, then closes the server and the database. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The default of {@link SidecarOptions.maxMessageBytes}: requests larger than this are refused;
 * far above gRPC's 4 MiB default (big inputs, histories).
 */
export const maxReceiveMessageBytes = defaultMaxReceiveMessageBytes;

/** The largest {@link SidecarOptions.maxMessageBytes}: a gRPC message is at most 2 GiB. */
export { maxMessageBytesLimit };

/**
 * Starts the sidecar: a `TaskHubSidecarService` gRPC server (plus `grpc.health.v1.Health`) over a
 * SQLite or libsql backend, ready for the official Durable Task SDKs. Logs
 * `durabletask sidecar listening on <host>:<port> (<storage>)` once it accepts calls. Throws a
 * {@link UsageError} for options it cannot run with (e.g. `backend: "libsql"` without a URL, or
 * with `db`).
 */
export async function createSidecar(options: SidecarOptions = {}): Promise<Sidecar> {
  const logger =
    options.logger ?? createLogger({ level: options.logLevel, format: options.logFormat });
  const host = options.host ?? "localhost";
  // Before anything is opened or bound: a refused configuration leaves nothing behind.
  const credentials = tlsCredentials(options.tlsCert, options.tlsKey);
  if (options.authToken !== undefined && !/^[\x21-\x7e]+$/.test(options.authToken)) {
    throw new UsageError("--auth-token: must be printable ASCII without spaces");
  }
  const exposure = {
    host,
    tls: credentials !== undefined,
    authToken: options.authToken !== undefined,
    insecure: options.insecure === true,
  };
  const problem = exposureProblem(exposure);
  if (problem !== undefined) throw new UsageError(problem);
  const warning = insecureWarning(exposure);
  if (warning !== undefined) logger.warn(warning);
  let backend: Backend;
  let server: SidecarServer;
  try {
    backend = await createBackend(options, logger);
    server = await createSidecarServer({
      backend,
      logger,
      credentials,
      authToken: options.authToken,
      host,
      port: options.port ?? 4001,
      maxReceiveMessageBytes: options.maxMessageBytes ?? maxReceiveMessageBytes,
      drainTimeoutMs: options.drainTimeoutMs,
      maxEpisodeAttempts: options.maxEpisodeAttempts,
    });
  } catch (error) {
    throw asUsageError(error, options) ?? error;
  }
  const storage = storageOf(backend, options);
  logger.info(`durabletask sidecar listening on ${server.address} (${storage})`, {
    port: server.port,
    tls: credentials !== undefined,
    auth: options.authToken === undefined ? "none" : "bearer token",
  });
  return {
    port: server.port,
    address: server.address,
    storage,
    stop: () => server.stop(),
  };
}

/**
 * The configured backend. Its package is loaded here, so a sidecar on SQLite never loads libSQL's
 * native library (≈ 9 MB of RSS when idle), nor one on libSQL better-sqlite3.
 */
async function createBackend(options: SidecarOptions, logger: Logger): Promise<Backend> {
  const leases = {
    orchestrationLockTimeoutMs: options.lockTimeoutMs,
    activityLockTimeoutMs: options.lockTimeoutMs,
  };
  if (options.backend !== "libsql") {
    const { createSqliteBackend } = await import("@durabletask/sqlite");
    return createSqliteBackend({
      path: options.db,
      synchronous: options.sqliteSynchronous,
      ...leases,
      logger,
    });
  }
  // The flag parser checks these too; this is for callers of createSidecar().
  if (options.libsqlUrl === undefined || options.libsqlUrl === "") {
    throw new UsageError("--libsql-url is required with --backend libsql");
  }
  if (options.db !== undefined) {
    throw new UsageError(
      "--db: applies to --backend sqlite only; use --libsql-url with --backend libsql",
    );
  }
  if (options.sqliteSynchronous !== undefined) {
    throw new UsageError("--sqlite-synchronous: applies to --backend sqlite only");
  }
  const { createLibsqlBackend } = await import("@durabletask/libsql");
  return createLibsqlBackend({
    url: options.libsqlUrl,
    authToken: options.libsqlAuthToken,
    ...leases,
    logger,
  });
}

/** The libsql backend's option names, as the flags that set them. */
const libsqlFlagOf: Readonly<Record<string, string>> = {
  url: "--libsql-url",
  authToken: "--libsql-auth-token",
};

/**
 * The libsql backend's `InvalidArgument` for a bad URL or token (`url: …`), as a
 * {@link UsageError} naming the flag; undefined for any other error.
 */
function asUsageError(error: unknown, options: SidecarOptions): UsageError | undefined {
  if (options.backend !== "libsql" || !DurableTaskError.is(error, "InvalidArgument")) {
    return undefined;
  }
  const match = /^(\w+): /.exec(error.message);
  const flag = match?.[1] === undefined ? undefined : libsqlFlagOf[match[1]];
  if (flag === undefined) return undefined;
  return new UsageError(`${flag}: ${error.message.slice(match?.[0].length ?? 0)}`);
}

/**
 * The backend's description for the `listening` line, with the auth token masked should it
 * appear there (it may be given inside the URL as `?authToken=`).
 */
function storageOf(backend: Backend, options: SidecarOptions): string {
  let description = backend.description;
  const secrets = [options.libsqlAuthToken, authTokenInUrl(options.libsqlUrl)];
  for (const secret of secrets) {
    if (secret !== undefined && secret !== "") description = description.replaceAll(secret, "***");
  }
  return description;
}

function authTokenInUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const query = url.indexOf("?");
  if (query < 0) return undefined;
  return new URLSearchParams(url.slice(query + 1)).get("authToken") ?? undefined;
}
