// JSON shapes of Hrana v2 (HTTP pipeline and WebSocket `hrana2`), written from the public protocol
// description. Only what @libsql/client 0.18 sends and reads is modelled; decoding is lenient
// where the client is (e.g. a missing `want_rows` means true).

export type ProtoValue =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };

export interface ProtoNamedArg {
  name: string;
  value: ProtoValue;
}

export interface ProtoStmt {
  sql?: string | null;
  sql_id?: number | null;
  args?: ProtoValue[];
  named_args?: ProtoNamedArg[];
  want_rows?: boolean | null;
}

export type ProtoBatchCond =
  | { type: "ok"; step: number }
  | { type: "error"; step: number }
  | { type: "not"; cond: ProtoBatchCond }
  | { type: "and"; conds: ProtoBatchCond[] }
  | { type: "or"; conds: ProtoBatchCond[] }
  | { type: "is_autocommit" };

export interface ProtoBatchStep {
  condition?: ProtoBatchCond | null;
  stmt: ProtoStmt;
}

export interface ProtoBatch {
  steps: ProtoBatchStep[];
}

export interface ProtoError {
  message: string;
  code: string | null;
}

export interface ProtoCol {
  name: string | null;
  decltype: string | null;
}

export interface ProtoStmtResult {
  cols: ProtoCol[];
  rows: ProtoValue[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
}

export interface ProtoBatchResult {
  step_results: (ProtoStmtResult | null)[];
  step_errors: (ProtoError | null)[];
}

export interface ProtoDescribeResult {
  params: { name: string | null }[];
  cols: { name: string; decltype: string | null }[];
  is_explain: boolean;
  is_readonly: boolean;
}

/** A request that runs on a stream (HTTP pipeline entry, or WebSocket request with `stream_id`). */
export type ProtoStreamRequest =
  | { type: "close" }
  | { type: "execute"; stmt: ProtoStmt }
  | { type: "batch"; batch: ProtoBatch }
  | { type: "sequence"; sql?: string | null; sql_id?: number | null }
  | { type: "describe"; sql?: string | null; sql_id?: number | null }
  | { type: "store_sql"; sql_id: number; sql: string }
  | { type: "close_sql"; sql_id: number }
  | { type: "get_autocommit" };

export type ProtoStreamResponse =
  | { type: "close" }
  | { type: "execute"; result: ProtoStmtResult }
  | { type: "batch"; result: ProtoBatchResult }
  | { type: "sequence" }
  | { type: "describe"; result: ProtoDescribeResult }
  | { type: "store_sql" }
  | { type: "close_sql" };

export type ProtoStreamResult =
  | { type: "ok"; response: ProtoStreamResponse }
  | { type: "error"; error: ProtoError };

export interface ProtoPipelineRequest {
  baton?: string | null;
  requests: ProtoStreamRequest[];
}

export interface ProtoPipelineResponse {
  baton: string | null;
  base_url: string | null;
  results: ProtoStreamResult[];
}

/** A value as bound to / read from better-sqlite3 (with `safeIntegers`). */
export type SqlValue = null | bigint | number | string | Buffer;

const minInt64 = -(2n ** 63n);
const maxInt64 = 2n ** 63n - 1n;

/** Thrown for requests the server answers with an error (`{message, code}`). */
export class HranaError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "HranaError";
    this.code = code;
  }
}

export function decodeValue(value: unknown): SqlValue {
  if (typeof value !== "object" || value === null) {
    throw new HranaError("ARGS_INVALID", "Argument is not a Hrana value object");
  }
  const v = value as Record<string, unknown>;
  switch (v.type) {
    case "null":
      return null;
    case "integer": {
      const raw = v.value;
      if (
        (typeof raw !== "string" || !/^-?\d+$/.test(raw)) &&
        !(typeof raw === "number" && Number.isSafeInteger(raw))
      ) {
        throw new HranaError("ARGS_INVALID", `Invalid integer value ${JSON.stringify(raw)}`);
      }
      const n = BigInt(raw);
      if (n < minInt64 || n > maxInt64) {
        throw new HranaError("ARGS_INVALID", `Integer value ${raw} does not fit in 64 bits`);
      }
      return n;
    }
    case "float": {
      if (typeof v.value !== "number") {
        throw new HranaError("ARGS_INVALID", "Float value is not a number");
      }
      return v.value;
    }
    case "text": {
      if (typeof v.value !== "string") {
        throw new HranaError("ARGS_INVALID", "Text value is not a string");
      }
      return v.value;
    }
    case "blob": {
      if (typeof v.base64 !== "string") {
        throw new HranaError("ARGS_INVALID", "Blob value has no base64 string");
      }
      return Buffer.from(v.base64, "base64");
    }
    default:
      throw new HranaError("ARGS_INVALID", `Unknown value type ${JSON.stringify(v.type)}`);
  }
}

export function encodeValue(value: unknown): ProtoValue {
  if (value === null || value === undefined) {
    return { type: "null" };
  }
  if (typeof value === "bigint") {
    return { type: "integer", value: value.toString() };
  }
  if (typeof value === "number") {
    // Like sqld (serde_json), a non-finite REAL cannot be represented and ends up as JSON null.
    return { type: "float", value };
  }
  if (typeof value === "string") {
    return { type: "text", value };
  }
  if (value instanceof Uint8Array) {
    return { type: "blob", base64: Buffer.from(value).toString("base64") };
  }
  throw new HranaError("INTERNAL", `Cannot encode a value of type ${typeof value}`);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
