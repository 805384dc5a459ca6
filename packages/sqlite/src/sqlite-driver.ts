import type { SqlDriver, SqlResult, SqlStatement, SqlValue } from "@durabletask/backend/sql";
import Database from "better-sqlite3";

/** The slice of a better-sqlite3 statement this driver uses. */
interface PreparedStatement {
  readonly reader: boolean;
  raw(toggle: boolean): this;
  all(...args: SqlValue[]): unknown[];
  run(...args: SqlValue[]): { readonly changes: number };
}

type Batch = (statements: readonly SqlStatement[]) => SqlResult[];

/** The slice of a better-sqlite3 database this driver uses. */
interface Connection {
  prepare(sql: string): PreparedStatement;
  transaction(fn: Batch): { deferred: Batch; immediate: Batch };
  pragma(source: string): unknown;
  close(): void;
}

/** Options of {@link createSqliteDriver}, validated by the caller. */
export interface SqliteDriverOptions {
  /** A file path, or `:memory:` for a database that lives until the driver is closed. */
  readonly path: string;
  readonly synchronous: "NORMAL" | "FULL";
  readonly busyTimeoutMs: number;
  /** SQLite's page cache in KiB; default {@link defaultPageCacheKiB}. */
  readonly pageCacheKiB?: number | undefined;
  /** WAL size in pages that makes a commit checkpoint; default {@link defaultWalAutocheckpointPages}. */
  readonly walAutocheckpointPages?: number | undefined;
}

/**
 * The page cache's default size in KiB: SQLite's own default. better-sqlite3 builds with 16 MiB,
 * which stays resident once a database is that large and did not make the engine faster.
 */
export const defaultPageCacheKiB = 2048;

/**
 * The default WAL size, in pages, at which a commit copies the WAL back into the database
 * (`wal_autocheckpoint`), by `synchronous` setting. At NORMAL 4,000 pages (16 MiB at 4 KiB
 * pages), where SQLite's default is 1,000: a checkpoint copies each page once however often the
 * WAL holds it, and an engine's commits rewrite the same few pages (instance rows, index leaves)
 * many times, so fewer, larger checkpoints copy far fewer pages in all (W1 ran 5–10% faster);
 * each one stalls its commit longer (about 14 ms instead of 5 ms in W1-seq, a quarter as often).
 * At FULL SQLite's 1,000: every commit syncs the WAL, and a commit that grows the WAL file syncs
 * its new size too, so a process's first pass through a 4,000-page WAL made W1-seq's first ≈ 85
 * orchestrations ≈ 50% slower, and W1 gained nothing measurable from the larger WAL.
 */
export function defaultWalAutocheckpointPages(synchronous: "NORMAL" | "FULL"): number {
  return synchronous === "FULL" ? 1000 : 4000;
}

/** The rows of every statement that returns none: one frozen array, not one per statement. */
const noRows: readonly SqlValue[][] = Object.freeze([]);

// Chunked multi-row statements come in many sizes; keep the most recently used ones.
const maxCachedStatements = 1000;

class SqliteDriver implements SqlDriver {
  readonly description: string;
  readonly #options: SqliteDriverOptions;
  readonly #cache = new Map<string, PreparedStatement>();
  #db: Connection | undefined;
  #batch: { deferred: Batch; immediate: Batch } | undefined;

  constructor(options: SqliteDriverOptions) {
    this.#options = options;
    this.description = `sqlite:${options.path}`;
  }

  async batch(statements: readonly SqlStatement[], mode: "read" | "write"): Promise<SqlResult[]> {
    const batch = this.#batch ?? this.#open();
    return mode === "write" ? batch.immediate(statements) : batch.deferred(statements);
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    this.#batch = undefined;
    this.#cache.clear();
    db?.close();
  }

  #open(): { deferred: Batch; immediate: Batch } {
    const { path, synchronous, busyTimeoutMs, pageCacheKiB, walAutocheckpointPages } =
      this.#options;
    const db = new Database(path, { timeout: busyTimeoutMs }) as unknown as Connection;
    try {
      if (path !== ":memory:") db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${synchronous}`);
      db.pragma(`cache_size = ${-(pageCacheKiB ?? defaultPageCacheKiB)}`);
      db.pragma(
        `wal_autocheckpoint = ${walAutocheckpointPages ?? defaultWalAutocheckpointPages(synchronous)}`,
      );
    } catch (err) {
      db.close();
      throw err;
    }
    const batch = db.transaction((statements) => statements.map((s) => this.#execute(s)));
    this.#db = db;
    this.#batch = batch;
    return batch;
  }

  #execute(statement: SqlStatement): SqlResult {
    const prepared = this.#prepare(statement.sql);
    const args = statement.args as SqlValue[];
    if (prepared.reader) {
      const rows = prepared.all(...args) as SqlValue[][];
      return { rows, changes: rows.length };
    }
    return { rows: noRows, changes: prepared.run(...args).changes };
  }

  #prepare(sql: string): PreparedStatement {
    let prepared = this.#cache.get(sql);
    if (prepared !== undefined) {
      this.#cache.delete(sql);
    } else {
      if (this.#db === undefined) throw new Error("the database is closed");
      prepared = this.#db.prepare(sql);
      if (prepared.reader) prepared.raw(true);
      if (this.#cache.size >= maxCachedStatements) {
        const oldest = this.#cache.keys().next();
        if (!oldest.done) this.#cache.delete(oldest.value);
      }
    }
    this.#cache.set(sql, prepared);
    return prepared;
  }
}

/**
 * A {@link SqlDriver} over one better-sqlite3 connection, opened on first use: WAL for files,
 * `busy_timeout`, `synchronous`, the page cache's size, the WAL's checkpoint size, prepared
 * statements cached by SQL text, each batch one
 * transaction (`BEGIN IMMEDIATE` for writes).
 */
export function createSqliteDriver(options: SqliteDriverOptions): SqlDriver {
  return new SqliteDriver(options);
}
