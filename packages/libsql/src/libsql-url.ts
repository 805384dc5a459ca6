import { describe, invalidArgument } from "@durabletask/api";

/** Where a libSQL URL points: an embedded file, an in-memory database, or a server. */
export type LibsqlTarget = "file" | "memory" | "remote";

/** A validated libSQL URL. */
export interface LibsqlUrl {
  /** The URL as handed to `@libsql/client` (`:memory:` spelled `file::memory:`). */
  readonly url: string;
  readonly target: LibsqlTarget;
  /** The URL without user info or an `authToken` query parameter, for logs. */
  readonly redacted: string;
}

const remoteSchemes = new Set(["http:", "https:", "ws:", "wss:", "libsql:"]);
// The only query parameters @libsql/client accepts on a remote URL.
const remoteParams = new Set(["tls", "authToken"]);

function fileUrl(value: string, field: string): LibsqlUrl {
  if (value === ":memory:" || value.startsWith("file::memory:")) {
    const url = value === ":memory:" ? "file::memory:" : value;
    return { url, target: "memory", redacted: url };
  }
  // `file:rel.db`, `file:/abs.db` and `file:///abs.db`; a host names another machine.
  if (value.startsWith("file://") && !/^file:\/\/(localhost)?\//i.test(value)) {
    throw invalidArgument(
      field,
      `a file: URL must be file:relative.db, file:/absolute.db or file:///absolute.db, got ${value}`,
    );
  }
  if (value.includes("#")) throw invalidArgument(field, `must not have a fragment, got ${value}`);
  const path = value.replace(/^file:(\/\/(localhost)?)?/i, "").split("?")[0] ?? "";
  if (path === "") throw invalidArgument(field, `names no database file: ${value}`);
  return { url: value, target: "file", redacted: value };
}

// Error messages never echo a remote URL: it may carry credentials.
function remoteUrl(parsed: URL, value: string, field: string): LibsqlUrl {
  if (parsed.hostname === "") throw invalidArgument(field, "names no host");
  if (parsed.hash !== "") throw invalidArgument(field, "must not have a fragment");
  for (const name of parsed.searchParams.keys()) {
    if (!remoteParams.has(name)) {
      throw invalidArgument(
        field,
        `supports only the query parameters tls and authToken, got ${name}`,
      );
    }
  }
  const redacted = new URL(parsed.href);
  redacted.username = "";
  redacted.password = "";
  redacted.searchParams.delete("authToken");
  return { url: value, target: "remote", redacted: redacted.href.replace(/\/$/, "") };
}

/**
 * Validates a libSQL URL: `file:` (embedded libSQL, `file::memory:` / `:memory:` for a private
 * in-memory database), `http(s)://`, `ws(s)://` or `libsql://` (Turso). Throws `InvalidArgument`
 * naming `field` otherwise.
 */
export function parseLibsqlUrl(value: unknown, field: string): LibsqlUrl {
  if (typeof value !== "string" || value.trim() === "") {
    throw invalidArgument(field, `must be a non-empty URL string, got ${describe(value)}`);
  }
  if (value === ":memory:" || /^file:/i.test(value)) return fileUrl(value, field);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw invalidArgument(
      field,
      "must be a file:, http(s)://, ws(s):// or libsql:// URL, got a string that is none",
    );
  }
  if (!remoteSchemes.has(parsed.protocol)) {
    throw invalidArgument(
      field,
      `has the unsupported scheme ${parsed.protocol}; use file:, http(s)://, ws(s):// or libsql://`,
    );
  }
  return remoteUrl(parsed, value, field);
}
