import type { Logger, LogLevel } from "@durabletask/api";
import type { Backend } from "@durabletask/backend";
import { createSidecarServer } from "@durabletask/grpc";
import { createSqliteBackend } from "@durabletask/sqlite";
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
  /** Default `sqlite`. `libsql` is not available yet: {@link createSidecar} rejects it. */
  readonly backend?: BackendKind | undefined;
  /** SQLite database file; default in-memory (everything is lost when the sidecar stops). */
  readonly db?: string | undefined;
  /**
   * SQLite's `synchronous` setting; default `FULL` (no committed work lost on power failure).
   * `NORMAL` skips the fsync per commit: a power failure may lose the last commits, never
   * corrupt the database (WAL mode).
   */
  readonly sqliteSynchronous?: SqliteSynchronous | undefined;
  readonly libsqlUrl?: string | undefined;
  readonly libsqlAuthToken?: string | undefined;
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
  /** The storage, e.g. `sqlite::memory:`. */
  readonly storage: string;
  /** Drains in-flight work, then closes the server and the database. Idempotent. */
  stop(): Promise<void>;
}

/** Requests larger than this are refused; far above gRPC's 4 MiB default (big inputs, histories). */
export const maxReceiveMessageBytes = 256 * 1024 * 1024;

/**
 * Starts the sidecar: a `TaskHubSidecarService` gRPC server (plus `grpc.health.v1.Health`) over a
 * SQLite backend, ready for the official Durable Task SDKs. Logs
 * `durabletask sidecar listening on <host>:<port> (<storage>)` once it accepts calls. Throws a
 * {@link UsageError} for options it cannot run with (e.g. `backend: "libsql"`, not available yet).
 */
export async function createSidecar(options: SidecarOptions = {}): Promise<Sidecar> {
  const logger =
    options.logger ?? createLogger({ level: options.logLevel, format: options.logFormat });
  const backend = createBackend(options, logger);
  const server = await createSidecarServer({
    backend,
    logger,
    host: options.host ?? "localhost",
    port: options.port ?? 4001,
    maxReceiveMessageBytes,
    drainTimeoutMs: options.drainTimeoutMs,
  });
  logger.info(`durabletask sidecar listening on ${server.address} (${backend.description})`, {
    port: server.port,
  });
  return {
    port: server.port,
    address: server.address,
    storage: backend.description,
    stop: () => server.stop(),
  };
}

function createBackend(options: SidecarOptions, logger: Logger): Backend {
  if (options.backend === "libsql") {
    throw new UsageError(
      "--backend libsql: the libsql backend is not available yet in this build; use --backend sqlite",
    );
  }
  return createSqliteBackend({ path: options.db, synchronous: options.sqliteSynchronous, logger });
}
