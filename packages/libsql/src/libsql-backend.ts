import { describe, invalidArgument } from "@durabletask/api";
import type { Backend } from "@durabletask/backend";
import { createSqlBackend } from "@durabletask/backend/sql";
import { libsqlDriverOf } from "./libsql-driver.js";
import { type LibsqlDriverOptions, resolveDriverOptions } from "./libsql-driver-options.js";

/** Options of {@link createLibsqlBackend}: the driver's, and the engine's lease settings. */
export interface LibsqlBackendOptions extends LibsqlDriverOptions {
  /** How long an orchestration lease lasts unless renewed; default 30,000 ms. */
  readonly orchestrationLockTimeoutMs?: number | undefined;
  /** How long an activity lease lasts unless renewed; default 30,000 ms. */
  readonly activityLockTimeoutMs?: number | undefined;
  /** Prefix of lock tokens; default `<hostname>,<pid>`. */
  readonly workerName?: string | undefined;
  /**
   * How many instances' histories stay in memory between episodes, so a warm instance's episode
   * reads only its new history rows (of at least 64 events; shorter ones are read whole) and an
   * activity result's episode reads nothing first; default 128, 0 turns it off.
   */
  readonly historyCacheSize?: number | undefined;
}

/**
 * A {@link Backend} that stores everything in one libSQL database: an embedded file
 * (`file:`), a sqld server (`http(s)://`, `ws(s)://`) or Turso (`libsql://`). Every operation
 * is one batch, one round trip to a server. Several backends (processes, sidecars) may share one
 * database; leases in the SQL keep them from locking an instance twice or committing an episode
 * twice. The client is opened by the first operation after `start()` and closed by `stop()`.
 * Throws `InvalidArgument` naming a bad option.
 *
 * @example
 * const backend = createLibsqlBackend({ url: "libsql://my-db.turso.io", authToken });
 * await backend.start();
 */
export function createLibsqlBackend(options: LibsqlBackendOptions): Backend {
  if (typeof options !== "object" || options === null) {
    throw invalidArgument("options", `must be an object, got ${describe(options)}`);
  }
  const resolved = resolveDriverOptions(options);
  return createSqlBackend({
    driver: libsqlDriverOf(resolved),
    logger: options.logger,
    orchestrationLockTimeoutMs: options.orchestrationLockTimeoutMs,
    activityLockTimeoutMs: options.activityLockTimeoutMs,
    workerName: options.workerName,
    historyCacheSize: options.historyCacheSize,
  });
}
