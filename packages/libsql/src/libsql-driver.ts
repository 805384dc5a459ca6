import { resolve } from "node:path";
import { DurableTaskError } from "@durabletask/api";
import {
  markOutcomeUnknown,
  type SqlDriver,
  type SqlResult,
  type SqlStatement,
} from "@durabletask/backend/sql";
import { type Client, createClient, type InStatement } from "@libsql/client";
import { type Fault, faultOf, isBusy } from "./fault.js";
import {
  type LibsqlDriverOptions,
  type ResolvedDriverOptions,
  resolveDriverOptions,
} from "./libsql-driver-options.js";
import { libsqlStatement, sqlResult } from "./libsql-values.js";
import { retryDelayMs, sleep } from "./retry-delay.js";
import { acquireFileLock, WriteLock } from "./write-lock.js";

type Mode = "read" | "write";

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function codeOf(err: unknown): unknown {
  return typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
}

/** The file behind a `file:` URL, for the process-wide write lock. */
function filePathOf(url: string): string {
  const path = url.replace(/^file:(\/\/(localhost)?)?/i, "").split("?")[0] ?? "";
  return resolve(decodeURIComponent(path));
}

/** An open client and the lock its write batches take turns on. */
interface Connection {
  readonly client: Client;
  readonly writeLock: WriteLock;
  readonly release: () => void;
}

class LibsqlDriver implements SqlDriver {
  readonly description: string;
  readonly #o: ResolvedDriverOptions;
  #connection: Promise<Connection> | undefined;

  constructor(options: ResolvedDriverOptions) {
    this.#o = options;
    this.description = `libsql:${options.url.redacted}`;
  }

  async batch(statements: readonly SqlStatement[], mode: Mode): Promise<SqlResult[]> {
    const stmts = statements.map(libsqlStatement);
    for (let attempt = 1; ; attempt++) {
      try {
        const results = await this.#send(stmts, mode);
        return results.map(sqlResult);
      } catch (err) {
        const fault = this.#faultOf(err);
        if (!this.#mayResend(fault, mode) || attempt > this.#o.maxRetries) {
          throw this.#failure(err, fault, mode, attempt);
        }
        const delayMs = retryDelayMs(attempt - 1);
        this.#o.logger.debug("libsql: re-sending a batch the database refused", {
          database: this.description,
          attempt,
          delayMs,
          error: messageOf(err),
        });
        await sleep(delayMs);
      }
    }
  }

  async close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection === undefined) return;
    const opened = await connection.catch(() => undefined);
    opened?.client.close();
    opened?.release();
  }

  async #send(stmts: InStatement[], mode: Mode) {
    const { client, writeLock } = await this.#open();
    if (this.#o.url.target === "remote") return client.batch(stmts, mode);
    const run = () =>
      client.batch(stmts, mode).catch(async (err: unknown) => {
        if (this.#o.url.target === "file" && isBusy(err)) await this.#reconnect(client, err);
        throw err;
      });
    return mode === "write" ? writeLock.run(run) : run();
  }

  #open(): Promise<Connection> {
    if (this.#connection === undefined) {
      const opening = this.#connect();
      this.#connection = opening;
      // A failed open is retried by the next batch.
      opening.catch(() => {
        if (this.#connection === opening) this.#connection = undefined;
      });
    }
    return this.#connection;
  }

  async #connect(): Promise<Connection> {
    const { url, authToken, syncUrl, syncIntervalMs, busyTimeoutMs } = this.#o;
    const client = createClient({
      url: url.url,
      authToken,
      syncUrl: syncUrl?.url,
      syncInterval: syncIntervalMs === undefined ? undefined : syncIntervalMs / 1000,
      timeout: busyTimeoutMs,
      intMode: "bigint",
    });
    if (url.target !== "file") return { client, writeLock: new WriteLock(), release: () => {} };
    try {
      // WAL is persistent in the file; an embedded replica manages its own journal.
      if (syncUrl === undefined) await client.execute("PRAGMA journal_mode = WAL");
    } catch (err) {
      client.close();
      throw err;
    }
    const { lock, release } = acquireFileLock(filePathOf(url.url));
    return { client, writeLock: lock, release };
  }

  // libsql-client-ts#352: after one SQLITE_BUSY a pooled file: connection fails every later
  // COMMIT ("SQL statements in progress"); reopening the pool cures it. In-memory databases have
  // a single connection that is never busy (reopening it would lose the data).
  async #reconnect(client: Client, err: unknown): Promise<void> {
    if (client.closed) return;
    this.#o.logger.warn("libsql: reopening the database after it was busy", {
      database: this.description,
      error: messageOf(err),
    });
    await client.reconnect();
  }

  #faultOf(err: unknown): Fault {
    // A reconnect closed the pooled connection between its borrow and its first statement.
    if (this.#o.url.target === "file" && codeOf(err) === "CLIENT_CLOSED" && this.#connection) {
      return "refused";
    }
    return faultOf(err);
  }

  #mayResend(fault: Fault, mode: Mode): boolean {
    // A write whose answer was lost may have committed: re-sending could apply it twice.
    return fault === "refused" || (fault === "lost" && mode === "read");
  }

  #failure(err: unknown, fault: Fault, mode: Mode, attempts: number): unknown {
    const message = messageOf(err);
    const where = this.description;
    if (fault === "tooLarge") {
      return new DurableTaskError(
        "PayloadTooLarge",
        `${where}: a request or response is over the database's size limit (sqld and Turso answer at most 10 MB): ${message}. Lock fewer work items at a time, query smaller pages, keep inputs, outputs and histories small (continue-as-new), or raise the server's limit`,
        { cause: err },
      );
    }
    if (fault === "lost" && mode === "write") {
      return markOutcomeUnknown(
        new DurableTaskError(
          "Unavailable",
          `${where}: the connection failed after a write was sent (${message}); it may or may not have been applied, so it was not re-sent. Leased work is guarded by its lock token: repeating a commit that did apply fails with WorkItemLockLost`,
          { cause: err },
        ),
      );
    }
    if (fault === "fatal") return err;
    return new DurableTaskError(
      "Unavailable",
      `${where}: the database is unavailable after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${message}`,
      { cause: err },
    );
  }
}

/**
 * A {@link SqlDriver} over `@libsql/client`, opened on first use. Each batch is exactly one
 * `client.batch(…, mode)` (one round trip to a server), never an interactive transaction.
 * Integer arguments are bound as INTEGER (bigint); results are read as bigint and returned as
 * numbers when they fit. `file:` databases run in WAL mode, writes of one process take turns on
 * an async lock, and the pool is reopened after SQLITE_BUSY. Batches the database refused
 * (busy, timed-out transaction, expired stream, unreachable server) are re-sent with back-off up
 * to `maxRetries` times; reads also after a lost connection, writes not (they may have applied).
 * Throws `InvalidArgument` naming a bad option.
 *
 * @example
 * const driver = createLibsqlDriver({ url: "http://127.0.0.1:8080" });
 */
export function createLibsqlDriver(options: LibsqlDriverOptions): SqlDriver {
  return new LibsqlDriver(resolveDriverOptions(options));
}

/** A driver from already validated options (used by {@link createLibsqlBackend}). */
export function libsqlDriverOf(options: ResolvedDriverOptions): SqlDriver {
  return new LibsqlDriver(options);
}
