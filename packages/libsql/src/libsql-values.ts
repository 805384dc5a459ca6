import type { SqlResult, SqlStatement, SqlValue } from "@durabletask/backend/sql";
import type { InStatement, InValue, ResultSet, Value } from "@libsql/client";

// @libsql/client binds every JS number as REAL, even 5. Integers go as bigint so that they are
// stored and compared as INTEGER whatever the column affinity (and `LIMIT ?` gets an integer).
function argumentOf(value: SqlValue): InValue {
  return typeof value === "number" && Number.isSafeInteger(value) ? BigInt(value) : value;
}

/** A statement with its integer arguments bound as INTEGER. */
export function libsqlStatement(statement: SqlStatement): InStatement {
  return { sql: statement.sql, args: statement.args.map(argumentOf) };
}

// Results are read with `intMode: "bigint"`, so no integer ever throws a RangeError; the SQL
// module reads epoch milliseconds, counts and sequence numbers, which all fit in a double.
function columnValue(value: Value): SqlValue {
  if (typeof value === "bigint") {
    return value >= Number.MIN_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER
      ? Number(value)
      : value;
  }
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return value;
}

/**
 * A libSQL result as a {@link SqlResult}: rows as arrays in column order, and `changes` the rows
 * returned by a statement that has result columns (`rowsAffected` is always 0 for `RETURNING`
 * statements on `file:` URLs), else `rowsAffected`.
 */
export function sqlResult(result: ResultSet): SqlResult {
  const width = result.columns.length;
  if (width === 0) return { rows: [], changes: result.rowsAffected };
  const rows = result.rows.map((row) => {
    const values: SqlValue[] = new Array(width);
    for (let i = 0; i < width; i++) values[i] = columnValue(row[i] ?? null);
    return values;
  });
  return { rows, changes: rows.length };
}
