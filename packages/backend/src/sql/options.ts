import { hostname } from "node:os";
import {
  assertName,
  describe,
  integerOption,
  invalidArgument,
  type Logger,
  silentLogger,
} from "@durabletask/api";
import type { SqlDriver } from "./driver.js";

/** Options of {@link createSqlBackend}. */
export interface SqlBackendOptions {
  /** The database client every operation goes through. */
  readonly driver: SqlDriver;
  /** Where warnings go (a throwing listener, …); default: nowhere. */
  readonly logger?: Logger | undefined;
  /** How long an orchestration lease lasts unless renewed; default 30,000 ms. */
  readonly orchestrationLockTimeoutMs?: number | undefined;
  /** How long an activity lease lasts unless renewed; default 30,000 ms. */
  readonly activityLockTimeoutMs?: number | undefined;
  /** Prefix of lock tokens, for telling workers apart; default `<hostname>,<pid>`. */
  readonly workerName?: string | undefined;
  /** The clock, epoch milliseconds; default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /**
   * Apply writes issued at the same time as one transaction (group commit); default true. Each
   * caller's promise still settles only after its own writes committed.
   */
  readonly groupCommit?: boolean | undefined;
  /**
   * How many instances' histories to keep in memory between episodes; default 128, 0 turns it
   * off. The lock step of a cached instance with at least 64 events reads only the history rows
   * past what is kept, after checking that the last kept row is still the same in the database
   * (so other processes sharing the database, purges and continue-as-new are safe); shorter ones
   * it reads whole. An activity result's episode starts from the kept history without a read,
   * and its commit applies only if the database still holds exactly that history. The least
   * recently committed instance is dropped first.
   */
  readonly historyCacheSize?: number | undefined;
}

/** {@link SqlBackendOptions} with defaults applied. */
export interface ResolvedOptions {
  readonly driver: SqlDriver;
  readonly logger: Logger;
  readonly orchestrationLockTimeoutMs: number;
  readonly activityLockTimeoutMs: number;
  readonly workerName: string;
  readonly now: () => number;
  readonly groupCommit: boolean;
  readonly historyCacheSize: number;
}

/** The default of both lock timeouts. */
export const defaultLockTimeoutMs = 30_000;

function positiveMs(value: unknown, field: string): number {
  if (value === undefined) return defaultLockTimeoutMs;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw invalidArgument(
      field,
      `must be a finite number of milliseconds > 0, got ${describe(value)}`,
    );
  }
  return value;
}

function driverOf(value: unknown): SqlDriver {
  const d = value as Partial<SqlDriver> | undefined;
  if (
    typeof d !== "object" ||
    d === null ||
    typeof d.batch !== "function" ||
    typeof d.close !== "function"
  ) {
    throw invalidArgument(
      "driver",
      `must be a SqlDriver with batch() and close(), got ${describe(value)}`,
    );
  }
  return d as SqlDriver;
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

/** The default of {@link SqlBackendOptions.historyCacheSize}. */
export const defaultHistoryCacheSize = 128;

/** Most cached histories: each one is a pair of arguments of the lock statement. */
const maxHistoryCacheSize = 4096;

function booleanOf(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean")
    throw invalidArgument(field, `must be a boolean, got ${describe(value)}`);
  return value;
}

/** Validates `options` (`InvalidArgument` naming the field) and applies the defaults. */
export function resolveOptions(options: SqlBackendOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw invalidArgument("options", `must be an object, got ${describe(options)}`);
  }
  const workerName = options.workerName ?? `${hostname()},${process.pid}`;
  assertName(workerName, "workerName");
  if (options.now !== undefined && typeof options.now !== "function") {
    throw invalidArgument("now", `must be a function, got ${describe(options.now)}`);
  }
  return {
    driver: driverOf(options.driver),
    logger: loggerOf(options.logger),
    orchestrationLockTimeoutMs: positiveMs(
      options.orchestrationLockTimeoutMs,
      "orchestrationLockTimeoutMs",
    ),
    activityLockTimeoutMs: positiveMs(options.activityLockTimeoutMs, "activityLockTimeoutMs"),
    workerName,
    now: options.now ?? Date.now,
    groupCommit: booleanOf(options.groupCommit, "groupCommit", true),
    historyCacheSize: integerOption(
      options.historyCacheSize,
      "historyCacheSize",
      defaultHistoryCacheSize,
      maxHistoryCacheSize,
    ),
  };
}
