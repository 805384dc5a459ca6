import { describe, integerOption, invalidArgument, type Logger } from "@durabletask/api";
import type { Backend } from "@durabletask/backend";
import { createSqlBackend } from "@durabletask/backend/sql";
import {
  createSqliteDriver,
  defaultPageCacheKiB,
  defaultWalAutocheckpointPages,
} from "./sqlite-driver.js";

/** Options of {@link createSqliteBackend}. */
export interface SqliteBackendOptions {
  /** The database file; default `:memory:` (a database that lives until `stop()`). */
  readonly path?: string | undefined;
  /** SQLite's `synchronous` setting; default `FULL` (no committed work lost on power failure). */
  readonly synchronous?: "NORMAL" | "FULL" | undefined;
  /** How long a write waits for another connection's lock; default 5,000 ms. */
  readonly busyTimeoutMs?: number | undefined;
  /** SQLite's page cache, in KiB; default 2,048 (SQLite's own default). */
  readonly pageCacheKiB?: number | undefined;
  /**
   * The WAL size, in pages, at which a commit copies the WAL back into the database file
   * (SQLite's `wal_autocheckpoint`); default 4,000 at `synchronous: "NORMAL"` (16 MiB at 4 KiB
   * pages) and SQLite's own 1,000 at `"FULL"`. Larger means fewer, longer checkpoint stalls and
   * less work in all; at FULL, also a longer first pass while the WAL file grows, each commit
   * syncing the file's new size. 0 turns automatic checkpoints off (then something else must
   * checkpoint, or the WAL grows without bound).
   */
  readonly walAutocheckpointPages?: number | undefined;
  /** How long an orchestration lease lasts unless renewed; default 30,000 ms. */
  readonly orchestrationLockTimeoutMs?: number | undefined;
  /** How long an activity lease lasts unless renewed; default 30,000 ms. */
  readonly activityLockTimeoutMs?: number | undefined;
  readonly logger?: Logger | undefined;
  /** Prefix of lock tokens; default `<hostname>,<pid>`. */
  readonly workerName?: string | undefined;
  /**
   * How many instances' histories stay in memory between episodes, so a warm instance's episode
   * reads only its new history rows (of at least 64 events; shorter ones are read whole) and an
   * activity result's episode reads nothing first; default 128, 0 turns it off.
   */
  readonly historyCacheSize?: number | undefined;
}

function pathOf(value: unknown): string {
  if (value === undefined) return ":memory:";
  if (typeof value !== "string" || value.trim() === "") {
    throw invalidArgument("path", `must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

function synchronousOf(value: unknown): "NORMAL" | "FULL" {
  if (value === undefined) return "FULL";
  if (value !== "NORMAL" && value !== "FULL") {
    throw invalidArgument("synchronous", `must be "NORMAL" or "FULL", got ${describe(value)}`);
  }
  return value;
}

/** The largest {@link SqliteBackendOptions.pageCacheKiB}: 1 GiB. */
const maxPageCacheKiB = 1 << 20;

/** The largest {@link SqliteBackendOptions.walAutocheckpointPages}: 4 GiB of 4 KiB pages. */
const maxWalAutocheckpointPages = 1 << 20;

/**
 * A {@link Backend} that stores everything in one SQLite database through better-sqlite3.
 * Several backends (processes) may share one database file; the database is opened by
 * `start()` and closed by `stop()`. Throws `InvalidArgument` naming a bad option.
 *
 * @example
 * const backend = createSqliteBackend({ path: "./taskhub.sqlite3" });
 * await backend.start();
 */
export function createSqliteBackend(options: SqliteBackendOptions = {}): Backend {
  if (typeof options !== "object" || options === null) {
    throw invalidArgument("options", `must be an object, got ${describe(options)}`);
  }
  const synchronous = synchronousOf(options.synchronous);
  const driver = createSqliteDriver({
    path: pathOf(options.path),
    synchronous,
    busyTimeoutMs: integerOption(
      options.busyTimeoutMs,
      "busyTimeoutMs",
      5000,
      0x7fffffff,
      "milliseconds",
    ),
    pageCacheKiB: integerOption(
      options.pageCacheKiB,
      "pageCacheKiB",
      defaultPageCacheKiB,
      maxPageCacheKiB,
      "KiB",
    ),
    walAutocheckpointPages: integerOption(
      options.walAutocheckpointPages,
      "walAutocheckpointPages",
      defaultWalAutocheckpointPages(synchronous),
      maxWalAutocheckpointPages,
      "pages",
    ),
  });
  return createSqlBackend({
    driver,
    logger: options.logger,
    orchestrationLockTimeoutMs: options.orchestrationLockTimeoutMs,
    activityLockTimeoutMs: options.activityLockTimeoutMs,
    workerName: options.workerName,
    historyCacheSize: options.historyCacheSize,
  });
}
