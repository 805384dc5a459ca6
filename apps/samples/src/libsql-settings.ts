import { type LogFields, type Logger, type LogLevel, levelEnabled } from "@durabletask/api";
import { createConsoleLogger } from "./console-logger.js";

/** Where the `libsql-http-api` sample keeps its task hub. */
export interface LibsqlDatabase {
  /** A libsql URL: `file:`, `http(s)://`, `ws(s)://` or `libsql://`. */
  readonly url: string;
  readonly authToken?: string | undefined;
  /** Which setting chose it, for the start-up line. */
  readonly source: string;
}

/** The local database used when no environment variable names one. */
export const defaultLibsqlFile = "durabletask-libsql-http-api.db";

/** The schemes `DURABLETASK_DEMO_DB_HOST_SCHEME` may name. */
export const hostSchemes = ["http", "https", "ws", "wss", "libsql"] as const;

type Env = Readonly<Record<string, string | undefined>>;

const set = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === "" ? undefined : value.trim();

/**
 * The database the seed's environment variables choose: `DURABLETASK_DEMO_DB_URL` (a full URL)
 * wins; else `DURABLETASK_DEMO_DB_HOST` (`localhost:8080`, `<db>.turso.io`) with
 * `DURABLETASK_DEMO_DB_HOST_SCHEME` (default `http`; `libsql` for Turso); else the local file
 * {@link defaultLibsqlFile}. `DURABLETASK_DEMO_DB_TOKEN` is the auth token in the first two cases.
 * Empty variables count as unset.
 *
 * @throws Error naming the variable when the scheme is not one of {@link hostSchemes}.
 */
export function libsqlDatabaseFromEnv(env: Env): LibsqlDatabase {
  const authToken = set(env.DURABLETASK_DEMO_DB_TOKEN);
  const url = set(env.DURABLETASK_DEMO_DB_URL);
  if (url !== undefined) return { url, authToken, source: "DURABLETASK_DEMO_DB_URL" };
  const host = set(env.DURABLETASK_DEMO_DB_HOST);
  if (host !== undefined) {
    const scheme = set(env.DURABLETASK_DEMO_DB_HOST_SCHEME) ?? "http";
    if (!(hostSchemes as readonly string[]).includes(scheme)) {
      throw new Error(
        `DURABLETASK_DEMO_DB_HOST_SCHEME: must be one of ${hostSchemes.join(", ")}, got '${scheme}'`,
      );
    }
    return { url: `${scheme}://${host}`, authToken, source: "DURABLETASK_DEMO_DB_HOST" };
  }
  return { url: `file:${defaultLibsqlFile}`, source: "default" };
}

/** How the sample logs: text lines (the samples' console logger) or JSON lines like the seed. */
export type LogFormat = "text" | "json";

/** `DURABLETASK_DEMO_LOG_FORMAT`: `json` or `text` (default). */
export function logFormatFromEnv(env: Env): LogFormat {
  const format = set(env.DURABLETASK_DEMO_LOG_FORMAT) ?? "text";
  if (format !== "text" && format !== "json") {
    throw new Error(`DURABLETASK_DEMO_LOG_FORMAT: must be text or json, got '${format}'`);
  }
  return format;
}

/** `DURABLETASK_DEMO_TRACING`: `1`/`true` export spans (console, or OTLP with OTEL_* set). */
export function tracingFromEnv(env: Env): boolean {
  const value = set(env.DURABLETASK_DEMO_TRACING)?.toLowerCase();
  return value === "1" || value === "true";
}

/** Options of {@link createSampleLogger}. */
export interface SampleLoggerOptions {
  readonly format?: LogFormat | undefined;
  /** Default `"warn"`. */
  readonly level?: LogLevel | undefined;
  /** Where a finished line goes; default stderr. */
  readonly write?: ((line: string) => void) | undefined;
}

/**
 * The samples' console logger for `text`; for `json` one object per line, like the seed's slog
 * JSON handler: `{"time":"…","level":"INFO","msg":"…",…fields}` (errors as their message).
 */
export function createSampleLogger(options: SampleLoggerOptions = {}): Logger {
  if (options.format !== "json") return createConsoleLogger(options);
  const threshold = options.level ?? "warn";
  const write = options.write ?? ((line: string) => console.error(line));
  const log = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (levelEnabled(level, threshold)) write(jsonLine(level, message, fields));
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

function jsonLine(level: LogLevel, msg: string, fields?: LogFields): string {
  const line: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (value !== undefined) line[key] = value instanceof Error ? value.message : value;
  }
  const envelope = { time: new Date().toISOString(), level: level.toUpperCase(), msg };
  try {
    // The envelope first and unshadowed by fields of the same name.
    return JSON.stringify({ ...envelope, ...line, ...envelope });
  } catch {
    return JSON.stringify(envelope);
  }
}
