// Requests shared by the HTTP pipeline and the WebSocket protocol.

import {
  HranaError,
  isObject,
  type ProtoBatch,
  type ProtoStmt,
  type ProtoStreamResponse,
} from "./protocol.js";
import { type ResponseBudget, resolveSql, type SqlStore, type SqlStream } from "./sql-stream.js";

/** sqld's per-stream (HTTP) limit on stored SQL texts; the WebSocket limit is per connection. */
export const maxStoredSqlHttp = 50;
export const maxStoredSqlWs = 150;
const maxStoredSqlBytes = 5 * 1024;

/** Runs `execute`, `batch`, `sequence` or `describe` on a stream; throws HranaError on failure. */
export async function runSqlRequest(
  stream: SqlStream,
  request: Record<string, unknown>,
  sqls: SqlStore,
  budget: ResponseBudget,
): Promise<ProtoStreamResponse> {
  switch (request.type) {
    case "execute":
      return {
        type: "execute",
        result: await stream.execute(request.stmt as ProtoStmt, sqls, budget),
      };
    case "batch":
      return {
        type: "batch",
        result: await stream.batch(request.batch as ProtoBatch, sqls, budget),
      };
    case "sequence":
      await stream.sequence(resolveSql(request.sql, request.sql_id, sqls));
      return { type: "sequence" };
    case "describe":
      return {
        type: "describe",
        result: stream.describe(resolveSql(request.sql, request.sql_id, sqls)),
      };
    case "get_autocommit":
      throw new HranaError(
        "PROTOCOL_ERROR",
        "The `get_autocommit` request is supported only on protocol version 3 and higher",
      );
    default:
      throw new HranaError(
        "PROTOCOL_ERROR",
        `Unknown or unsupported request type ${JSON.stringify(request.type)}`,
      );
  }
}

/** `store_sql`: validates and stores a SQL text under a client-chosen id. */
export function storeSql(
  sqls: Map<number, string>,
  request: Record<string, unknown>,
  limit: number,
): void {
  const { sql_id: id, sql } = request;
  if (typeof id !== "number" || typeof sql !== "string") {
    throw new HranaError(
      "PROTOCOL_ERROR",
      "`store_sql` needs a numeric `sql_id` and a `sql` string",
    );
  }
  if (sqls.has(id)) {
    throw new HranaError("SQL_STORE_EXISTS", `SQL text with id ${id} is already stored`);
  }
  if (sqls.size >= limit) {
    throw new HranaError(
      "SQL_STORE_TOO_MANY",
      `The server already stores ${sqls.size} SQL texts, it cannot store more`,
    );
  }
  if (Buffer.byteLength(sql) > maxStoredSqlBytes) {
    throw new HranaError("SQL_STORE_TOO_LARGE", "The statement is too large to be stored");
  }
  sqls.set(id, sql);
}

/** Replaces `sql_id` references by their text (WebSocket: texts are resolved when a request arrives). */
export function inlineStoredSql(
  request: Record<string, unknown>,
  sqls: SqlStore,
): Record<string, unknown> {
  const inlineStmt = (stmt: unknown): unknown => {
    if (!isObject(stmt) || typeof stmt.sql_id !== "number") return stmt;
    const text = sqls.get(stmt.sql_id);
    return text === undefined ? stmt : { ...stmt, sql: text, sql_id: undefined };
  };
  switch (request.type) {
    case "execute":
      return { ...request, stmt: inlineStmt(request.stmt) };
    case "batch": {
      const batch = request.batch;
      if (!isObject(batch) || !Array.isArray(batch.steps)) return request;
      const steps = batch.steps.map((step: unknown) =>
        isObject(step) ? { ...step, stmt: inlineStmt(step.stmt) } : step,
      );
      return { ...request, batch: { ...batch, steps } };
    }
    case "sequence":
    case "describe":
      return inlineStmt(request) as Record<string, unknown>;
    default:
      return request;
  }
}
