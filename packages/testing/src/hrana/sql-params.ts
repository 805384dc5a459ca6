// Finds the parameters of one SQL statement and the index SQLite gives each, so that Hrana's
// index-based positional arguments and prefixed named arguments can be turned into the binding
// shape better-sqlite3 expects (anonymous values in index order plus an object keyed by name
// without its prefix). better-sqlite3 does not expose sqlite3_bind_parameter_name, hence this scan.

export interface SqlParameters {
  /** Highest parameter index (= sqlite3_bind_parameter_count). */
  count: number;
  /** Name of each parameter by index (1-based; index 0 unused): ":x", "@x", "$x", "?3", or null. */
  names: (string | null)[];
}

function isIdChar(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) || // 0-9
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    code === 0x5f || // _
    code === 0x24 || // $ (SQLite allows it inside identifiers)
    code >= 0x80
  );
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** Skips a quoted token starting at `start` (the opening quote); doubled quotes escape. */
function skipQuoted(sql: string, start: number, close: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === close) {
      if (close !== "]" && sql[i + 1] === close) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

export function scanSqlParameters(sql: string): SqlParameters {
  const names: (string | null)[] = [null];
  const byName = new Map<string, number>();
  let count = 0;
  const setName = (index: number, name: string | null) => {
    while (names.length <= index) names.push(null);
    if (name !== null) names[index] = name;
  };

  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] as string;
    const code = sql.charCodeAt(i);
    if (ch === "'" || ch === '"' || ch === "`") {
      i = skipQuoted(sql, i, ch);
    } else if (ch === "[") {
      i = skipQuoted(sql, i, "]");
    } else if (ch === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i + 2);
      i = end === -1 ? sql.length : end + 1;
    } else if (ch === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (ch === "?") {
      let j = i + 1;
      while (j < sql.length && isDigit(sql.charCodeAt(j))) j++;
      if (j > i + 1) {
        const index = Number(sql.slice(i + 1, j));
        count = Math.max(count, index);
        setName(index, sql.slice(i, j));
      } else {
        count++;
        setName(count, null);
      }
      i = j;
    } else if (ch === ":" || ch === "@" || ch === "$" || ch === "#") {
      let j = i + 1;
      let n = 0;
      while (j < sql.length) {
        const c = sql.charCodeAt(j);
        if (isIdChar(c)) {
          n++;
          j++;
        } else if (sql[j] === "(" && n > 0) {
          // Tcl-style suffix: $name(anything)
          const end = sql.indexOf(")", j);
          j = end === -1 ? sql.length : end + 1;
          break;
        } else if (sql[j] === ":" && sql[j + 1] === ":") {
          j += 2;
        } else {
          break;
        }
      }
      if (n > 0) {
        const name = sql.slice(i, j);
        if (!byName.has(name)) {
          count++;
          byName.set(name, count);
          setName(count, name);
        }
      }
      i = Math.max(j, i + 1);
    } else if (isIdChar(code)) {
      // A word (keyword, identifier or number): `$` inside it is not a parameter.
      let j = i + 1;
      while (j < sql.length && isIdChar(sql.charCodeAt(j))) j++;
      i = j;
    } else {
      i++;
    }
  }
  setName(count, null);
  return { count, names: names.slice(0, count + 1) };
}
