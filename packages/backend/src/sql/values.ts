import type { SqlStatement, SqlValue } from "./driver.js";

/**
 * Most rows one multi-row statement carries. Keeps every statement far below SQLite's bound
 * parameter limit (32,766; 999 on old builds for narrow rows) and below remote request limits.
 */
export const maxRowsPerStatement = 500;

/** `items` in consecutive chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number = maxRowsPerStatement): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `(?, ?), (?, ?)` for `rows` rows of `width` placeholders. */
export function placeholderRows(width: number, rows: number): string {
  const row = `(${Array.from({ length: width }, () => "?").join(", ")})`;
  return Array.from({ length: rows }, () => row).join(", ");
}

/** `?, ?, ?` for a list of `count` values. */
export function placeholderList(count: number): string {
  return Array.from({ length: count }, () => "?").join(", ");
}

/**
 * Statements for a multi-row `VALUES` list, chunked: `build(valuesSql)` returns the SQL around
 * the placeholder rows (referenced as `(VALUES …) AS v`, columns `v.column1` …), `head` and
 * `tail` are the arguments before and after the rows' own.
 */
export function valuesStatements(
  rows: readonly (readonly SqlValue[])[],
  build: (values: string) => string,
  head: readonly SqlValue[] = [],
  tail: readonly SqlValue[] = [],
): SqlStatement[] {
  if (rows.length === 0) return [];
  const width = rows[0]?.length ?? 0;
  if (rows.length <= maxRowsPerStatement) {
    return [{ sql: builtSql(build, width, rows.length), args: argsOf(rows, head, tail) }];
  }
  return chunks(rows).map((chunk) => ({
    sql: builtSql(build, width, chunk.length),
    args: argsOf(chunk, head, tail),
  }));
}

// `[...head, ...rows.flat(), ...tail]` without the intermediate arrays: commits build these for
// every statement they write.
function argsOf(
  rows: readonly (readonly SqlValue[])[],
  head: readonly SqlValue[],
  tail: readonly SqlValue[],
): SqlValue[] {
  const args: SqlValue[] = [];
  for (const value of head) args.push(value);
  for (const row of rows) for (const value of row) args.push(value);
  for (const value of tail) args.push(value);
  return args;
}

/** Row counts up to this have their statement text kept per builder. */
const maxKeptRows = 32;

const kept = new WeakMap<(values: string) => string, Map<number, string>>();

// The text of `build` for a few rows is built once and then reused as the same string, which
// a driver's statement cache finds without building, flattening and hashing a new one (most
// commits write one to a few rows per statement). Builders are module constants, so this holds
// a handful of strings per builder.
function builtSql(build: (values: string) => string, width: number, rows: number): string {
  if (rows > maxKeptRows) return build(placeholderRows(width, rows));
  let byShape = kept.get(build);
  if (byShape === undefined) {
    byShape = new Map();
    kept.set(build, byShape);
  }
  const key = rows * 1024 + width;
  let sql = byShape.get(key);
  if (sql === undefined) {
    sql = build(placeholderRows(width, rows));
    byShape.set(key, sql);
  }
  return sql;
}
