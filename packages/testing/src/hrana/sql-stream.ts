// A Hrana stream: one SQLite connection of its own (so interactive transactions work), the
// shared write lock, and the fault injections (busy, transaction timeout, response cap).

import Database from "better-sqlite3";
import {
  decodeValue,
  encodeValue,
  HranaError,
  isObject,
  type ProtoBatch,
  type ProtoBatchCond,
  type ProtoBatchResult,
  type ProtoDescribeResult,
  type ProtoError,
  type ProtoStmt,
  type ProtoStmtResult,
  type SqlValue,
} from "./protocol.js";
import type { ServerState } from "./server-state.js";
import { type SqlParameters, scanSqlParameters } from "./sql-params.js";

/** SQL texts stored with `store_sql`, by id (per HTTP stream, per WebSocket connection). */
export type SqlStore = ReadonlyMap<number, string>;

/** Bytes still allowed in the response being built (undefined = no cap). */
export interface ResponseBudget {
  remaining: number | undefined;
}

interface Prepared {
  stmt: Database.Statement;
  params: SqlParameters;
}

const maxCachedStatements = 64;
const expiredMessage = "The stream has expired due to inactivity";

export function openConnection(path: string): Database.Database {
  // timeout 0: better-sqlite3 is synchronous, a busy wait would block the whole server. Writers
  // never meet SQLITE_BUSY anyway: the write lock serializes them before SQLite sees them.
  const db = new Database(path, { timeout: 0 });
  db.pragma("foreign_keys = ON"); // libsql (and so sqld/Turso) builds with foreign keys on
  db.pragma("synchronous = NORMAL");
  return db;
}

/** The sqld-style error for a thrown value (SQLite errors get sqld's primary code names). */
export function toProtoError(error: unknown): ProtoError {
  if (error instanceof HranaError) {
    return { message: error.message, code: error.code };
  }
  if (error instanceof Database.SqliteError) {
    const primary = error.code.split("_").slice(0, 2).join("_");
    return { message: `SQLite error: ${error.message}`, code: primary };
  }
  if (error instanceof RangeError || error instanceof TypeError) {
    if (/more than one statement/.test(error.message)) {
      return {
        message: "SQL string contains more than one statement",
        code: "SQL_MANY_STATEMENTS",
      };
    }
    if (/no statements/.test(error.message)) {
      return { message: "SQL string does not contain any statement", code: "SQL_NO_STATEMENT" };
    }
    return {
      message: `Arguments do not match SQL parameters: ${error.message}`,
      code: "ARGS_INVALID",
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message, code: "INTERNAL_ERROR" };
}

function asHranaError(error: unknown): HranaError {
  if (error instanceof HranaError) return error;
  const proto = toProtoError(error);
  return new HranaError(proto.code ?? "INTERNAL_ERROR", proto.message);
}

export function resolveSql(sql: unknown, sqlId: unknown, sqls: SqlStore): string {
  const hasSql = typeof sql === "string";
  const hasId = typeof sqlId === "number";
  if (hasSql && hasId) {
    throw new HranaError("PROTOCOL_ERROR", "Both `sql` and `sql_id` were given");
  }
  if (hasSql) return sql;
  if (hasId) {
    const text = sqls.get(sqlId);
    if (text === undefined) {
      throw new HranaError("SQL_NOT_FOUND", `SQL text with id ${sqlId} was not found`);
    }
    return text;
  }
  throw new HranaError("PROTOCOL_ERROR", "Neither `sql` nor `sql_id` was given");
}

function transactionTimeoutError(): HranaError {
  return new HranaError("TRANSACTION_TIMEOUT", "Transaction timed out");
}

/** better-sqlite3's binding arguments for a Hrana statement (sqld's rules: positional or named). */
function bindArguments(params: SqlParameters, stmt: ProtoStmt): unknown[] {
  const args = Array.isArray(stmt.args) ? stmt.args : [];
  const namedArgs = Array.isArray(stmt.named_args) ? stmt.named_args : [];
  if (args.length > 0 && namedArgs.length > 0) {
    throw new HranaError(
      "ARGS_BOTH_POSITIONAL_AND_NAMED",
      "Specifying both positional and named arguments is not supported",
    );
  }
  if (args.length > params.count) {
    throw new HranaError(
      "ARGS_INVALID",
      `Arguments do not match SQL parameters: too many parameters, expected ${params.count} found ${args.length}`,
    );
  }
  const named = new Map<string, SqlValue>();
  for (const arg of namedArgs) {
    if (!isObject(arg) || typeof arg.name !== "string") {
      throw new HranaError("ARGS_INVALID", "A named argument has no name");
    }
    named.set(arg.name, decodeValue(arg.value));
  }
  const valueFor = (index: number, name: string | null): SqlValue => {
    if (namedArgs.length > 0) {
      if (name === null || name.startsWith("?")) return null;
      // Names carry their prefix (":x"); guess it when the client left it out ("x").
      const value = named.has(name) ? named.get(name) : named.get(name.slice(1));
      return value ?? null;
    }
    const arg = args[index - 1];
    return arg === undefined ? null : decodeValue(arg);
  };
  // better-sqlite3 binds parameters without a name from the positional list (in index order) and
  // named ones ("?3" included) from an object keyed by the name minus its first character.
  const anonymous: SqlValue[] = [];
  let byName: Record<string, SqlValue> | undefined;
  for (let index = 1; index <= params.count; index++) {
    const name = params.names[index] ?? null;
    const value = valueFor(index, name);
    if (name === null) {
      anonymous.push(value);
    } else {
      byName ??= {};
      byName[name.slice(1)] = value;
    }
  }
  return byName === undefined ? anonymous : [...anonymous, byName];
}

type StreamStatus = "open" | "expired" | "closed";

export class SqlStream {
  readonly #server: ServerState;
  readonly #db: Database.Database;
  readonly #cache = new Map<string, Prepared>();
  #status: StreamStatus = "open";
  #holdsLock = false;
  #lockTimer: NodeJS.Timeout | undefined;
  /** The write transaction was rolled back by the timeout: the next program fails. */
  #timedOut = false;
  /** `BEGIN TRANSACTION READONLY` is in force (emulated with PRAGMA query_only). */
  #readonlyTx = false;
  #changesStmt: Database.Statement | undefined;

  constructor(server: ServerState) {
    this.#server = server;
    this.#db = openConnection(server.dbPath);
    server.streams.add(this);
  }

  get status(): StreamStatus {
    return this.#status;
  }

  // ---- programs: each request is one program (what sqld's transaction timeout invalidates)

  async execute(stmt: ProtoStmt, sqls: SqlStore, budget: ResponseBudget): Promise<ProtoStmtResult> {
    this.#ensureOpen();
    if (this.#takeTimedOut()) throw transactionTimeoutError();
    if (!isObject(stmt)) throw new HranaError("PROTOCOL_ERROR", "`stmt` is missing");
    return this.#runStatement(stmt, resolveSql(stmt.sql, stmt.sql_id, sqls), budget);
  }

  async batch(
    batch: ProtoBatch,
    sqls: SqlStore,
    budget: ResponseBudget,
  ): Promise<ProtoBatchResult> {
    this.#ensureOpen();
    if (!isObject(batch) || !Array.isArray(batch.steps)) {
      throw new HranaError("PROTOCOL_ERROR", "`batch.steps` is missing");
    }
    const steps = batch.steps;
    this.#server.stats.batches++;
    const results: ProtoBatchResult = {
      step_results: steps.map(() => null),
      step_errors: steps.map(() => null),
    };
    if (this.#takeTimedOut()) {
      const error = toProtoError(transactionTimeoutError());
      results.step_errors = steps.map(() => error);
      return results;
    }
    const executed: boolean[] = steps.map(() => false);
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      if (!isObject(step) || !isObject(step.stmt)) {
        throw new HranaError("PROTOCOL_ERROR", `Batch step ${i} has no statement`);
      }
      if (step.condition != null && !this.#evalCondition(step.condition, i, executed, results)) {
        continue;
      }
      executed[i] = true;
      try {
        const sql = resolveSql(step.stmt.sql, step.stmt.sql_id, sqls);
        results.step_results[i] = await this.#runStatement(step.stmt, sql, budget);
      } catch (error) {
        results.step_errors[i] = toProtoError(error);
      }
    }
    return results;
  }

  async sequence(sql: string): Promise<void> {
    this.#ensureOpen();
    if (this.#takeTimedOut()) throw transactionTimeoutError();
    this.#server.stats.statements++;
    if (this.#server.takeBusy()) throw busyError();
    // A script may write anything: run it as a writer.
    if (!this.#holdsLock && !this.#readonlyTx) await this.#acquireWriteLock();
    try {
      this.#db.exec(sql);
    } catch (error) {
      throw asHranaError(error);
    } finally {
      this.#afterStatement(sql);
    }
  }

  describe(sql: string): ProtoDescribeResult {
    this.#ensureOpen();
    const { stmt, params } = this.#prepare(sql);
    return {
      params: params.names.slice(1).map((name) => ({ name })),
      cols: stmt.reader
        ? stmt.columns().map((col) => ({ name: col.name, decltype: col.type }))
        : [],
      is_explain: /^\s*EXPLAIN\b/i.test(stripLeadingComments(sql)),
      is_readonly: stmt.readonly,
    };
  }

  // ---- lifecycle

  /** Rolls back, releases the lock and closes the connection; later use fails with STREAM_EXPIRED. */
  expire(): void {
    if (this.#status !== "open") return;
    this.#status = "expired";
    this.#shutdown(new HranaError("STREAM_EXPIRED", expiredMessage));
  }

  close(): void {
    if (this.#status === "closed") return;
    const wasOpen = this.#status === "open";
    this.#status = "closed";
    if (wasOpen) this.#shutdown(new HranaError("STREAM_CLOSED", "The stream was closed"));
    this.#server.streams.delete(this);
  }

  #shutdown(error: HranaError): void {
    this.#clearLockTimer();
    try {
      if (this.#db.open && this.#db.inTransaction) this.#db.exec("ROLLBACK");
    } catch {
      // the connection is being closed anyway
    }
    this.#holdsLock = false;
    this.#server.writeLock.cancel(this, error);
    this.#cache.clear();
    this.#changesStmt = undefined;
    if (this.#db.open) this.#db.close();
  }

  #ensureOpen(): void {
    if (this.#status === "expired") throw new HranaError("STREAM_EXPIRED", expiredMessage);
    if (this.#status === "closed") throw new HranaError("STREAM_CLOSED", "The stream is closed");
  }

  #takeTimedOut(): boolean {
    const timedOut = this.#timedOut;
    this.#timedOut = false;
    return timedOut;
  }

  // ---- statements

  #prepare(sql: string): Prepared {
    const cached = this.#cache.get(sql);
    if (cached !== undefined) {
      this.#cache.delete(sql);
      this.#cache.set(sql, cached);
      return cached;
    }
    let stmt: Database.Statement;
    try {
      stmt = this.#db.prepare(sql);
    } catch (error) {
      throw asHranaError(error);
    }
    stmt.safeIntegers(true);
    if (stmt.reader) stmt.raw(true);
    const prepared = { stmt, params: scanSqlParameters(sql) };
    this.#cache.set(sql, prepared);
    if (this.#cache.size > maxCachedStatements) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    return prepared;
  }

  async #runStatement(
    stmt: ProtoStmt,
    sql: string,
    budget: ResponseBudget,
  ): Promise<ProtoStmtResult> {
    this.#ensureOpen();
    this.#server.stats.statements++;
    if (this.#server.takeBusy()) throw busyError();
    const prepared = this.#prepare(sql);
    const bindings = bindArguments(prepared.params, stmt);
    // In a READONLY transaction a write fails without SQLite taking its write lock: don't take ours.
    if (!prepared.stmt.readonly && !this.#holdsLock && !this.#readonlyTx) {
      await this.#acquireWriteLock();
    }
    let result: ProtoStmtResult;
    try {
      result = this.#step(prepared.stmt, bindings, stmt.want_rows !== false);
    } catch (error) {
      throw asHranaError(error);
    } finally {
      this.#afterStatement(sql);
    }
    chargeBudget(budget, result);
    return result;
  }

  #step(stmt: Database.Statement, bindings: unknown[], wantRows: boolean): ProtoStmtResult {
    if (!stmt.reader) {
      const info = stmt.run(...bindings);
      return {
        cols: [],
        rows: [],
        affected_row_count: Number(info.changes),
        last_insert_rowid: stmt.readonly ? null : String(info.lastInsertRowid),
      };
    }
    const before = stmt.readonly ? undefined : this.#changes().total;
    const rows = stmt.all(...bindings) as unknown[][];
    const cols = stmt.columns().map((col) => ({ name: col.name, decltype: col.type }));
    let affected = 0;
    let lastInsertRowid: string | null = null;
    if (before !== undefined) {
      // A writing statement that returns rows (… RETURNING): better-sqlite3's all() reports no
      // change count, so read it from the connection, counting only if this statement changed rows.
      const after = this.#changes();
      if (after.total !== before) affected = Number(after.changes);
      lastInsertRowid = String(after.lastInsertRowid);
    }
    return {
      cols,
      rows: wantRows ? rows.map((row) => row.map(encodeValue)) : [],
      affected_row_count: affected,
      last_insert_rowid: lastInsertRowid,
    };
  }

  #changes(): { total: bigint; changes: bigint; lastInsertRowid: bigint } {
    this.#changesStmt ??= this.#db
      .prepare("SELECT total_changes(), changes(), last_insert_rowid()")
      .safeIntegers(true)
      .raw(true);
    const [total, changes, lastInsertRowid] = this.#changesStmt.get() as [bigint, bigint, bigint];
    return { total, changes, lastInsertRowid };
  }

  /** Bookkeeping after every statement: READONLY transactions, lock release in autocommit. */
  #afterStatement(sql: string): void {
    if (!this.#db.open) return;
    if (this.#readonlyTx && !this.#db.inTransaction) {
      this.#db.pragma("query_only = OFF");
      this.#readonlyTx = false;
    }
    if (
      !this.#readonlyTx &&
      this.#db.inTransaction &&
      /^BEGIN\s+(?:DEFERRED\s+)?TRANSACTION\s+READONLY\s*;?\s*$/i.test(stripLeadingComments(sql))
    ) {
      // libSQL's `BEGIN TRANSACTION READONLY` (client mode "read"); plain SQLite parses READONLY as
      // a transaction name, so enforce it with query_only until the transaction ends.
      this.#db.pragma("query_only = ON");
      this.#readonlyTx = true;
    }
    if (this.#holdsLock && !this.#db.inTransaction) this.#releaseWriteLock();
  }

  // ---- write lock and transaction timeout

  async #acquireWriteLock(): Promise<void> {
    if (this.#holdsLock) return;
    const lock = this.#server.writeLock;
    if (!lock.tryAcquire(this)) {
      await lock.acquire(this); // rejects with STREAM_EXPIRED/CLOSED if the stream goes meanwhile
      if (this.#status !== "open") {
        lock.release(this);
        this.#ensureOpen();
      }
    }
    this.#holdsLock = true;
    const timeout = this.#server.transactionTimeoutMs;
    if (timeout !== undefined) {
      this.#lockTimer = setTimeout(() => this.#onTransactionTimeout(), timeout);
      this.#lockTimer.unref();
    }
  }

  #releaseWriteLock(): void {
    this.#clearLockTimer();
    this.#holdsLock = false;
    this.#server.writeLock.release(this);
  }

  #clearLockTimer(): void {
    if (this.#lockTimer !== undefined) clearTimeout(this.#lockTimer);
    this.#lockTimer = undefined;
  }

  #onTransactionTimeout(): void {
    this.#lockTimer = undefined;
    if (!this.#holdsLock || this.#status !== "open") return;
    if (this.#db.inTransaction) {
      try {
        this.#db.exec("ROLLBACK");
      } catch {
        // nothing more we can do; the lock is released below either way
      }
      this.#timedOut = true;
    }
    if (this.#readonlyTx) {
      this.#db.pragma("query_only = OFF");
      this.#readonlyTx = false;
    }
    this.#releaseWriteLock();
  }

  #evalCondition(
    cond: ProtoBatchCond,
    current: number,
    executed: boolean[],
    results: ProtoBatchResult,
  ): boolean {
    if (!isObject(cond)) throw new HranaError("PROTOCOL_ERROR", "Invalid batch condition");
    switch (cond.type) {
      case "ok":
      case "error": {
        const step = cond.step;
        if (!Number.isInteger(step) || step < 0 || step >= current) {
          throw new HranaError(
            "PROTOCOL_ERROR",
            `Batch condition of step ${current} refers to step ${step}, which does not precede it`,
          );
        }
        if (!executed[step]) return false;
        const failed = results.step_errors[step] != null;
        return cond.type === "ok" ? !failed : failed;
      }
      case "not":
        return !this.#evalCondition(cond.cond, current, executed, results);
      case "and":
      case "or": {
        if (!Array.isArray(cond.conds)) {
          throw new HranaError("PROTOCOL_ERROR", `\`${cond.type}\` condition without \`conds\``);
        }
        const value = (c: ProtoBatchCond) => this.#evalCondition(c, current, executed, results);
        return cond.type === "and" ? cond.conds.every(value) : cond.conds.some(value);
      }
      case "is_autocommit":
        return !this.#db.inTransaction;
      default:
        throw new HranaError(
          "PROTOCOL_ERROR",
          `Unknown batch condition type ${JSON.stringify((cond as { type: unknown }).type)}`,
        );
    }
  }
}

function busyError(): HranaError {
  return new HranaError("SQLITE_BUSY", "SQLite error: database is locked");
}

function stripLeadingComments(sql: string): string {
  let rest = sql.trimStart();
  for (;;) {
    if (rest.startsWith("--")) {
      const end = rest.indexOf("\n");
      rest = end === -1 ? "" : rest.slice(end + 1).trimStart();
    } else if (rest.startsWith("/*")) {
      const end = rest.indexOf("*/");
      rest = end === -1 ? "" : rest.slice(end + 2).trimStart();
    } else {
      return rest;
    }
  }
}

/** sqld caps each response (RESPONSE_TOO_LARGE); charge a statement's result against the cap. */
function chargeBudget(budget: ResponseBudget, result: ProtoStmtResult): void {
  if (budget.remaining === undefined) return;
  const size = Buffer.byteLength(JSON.stringify(result));
  if (size > budget.remaining) {
    throw new HranaError("RESPONSE_TOO_LARGE", "Response is too large");
  }
  budget.remaining -= size;
}
