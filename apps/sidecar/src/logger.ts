import { type LogFields, type Logger, type LogLevel, levelEnabled } from "@durabletask/api";

/** How log lines are written: `text` for people, `json` (one object per line) for collectors. */
export type LogFormat = "text" | "json";

/** The log levels in threshold order. */
export const logLevels: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** The log formats. */
export const logFormats: readonly LogFormat[] = ["text", "json"];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lines below this level are dropped; default `info`. */
  readonly level?: LogLevel | undefined;
  /** Default `text`. */
  readonly format?: LogFormat | undefined;
  /** Where a finished line goes (without its newline); default: stderr. */
  readonly write?: ((line: string) => void) | undefined;
  /** The clock; default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

/**
 * The sidecar's {@link Logger}: one line per call, either text
 * (`2026-01-02T03:04:05.678Z INFO message key=value …`) or JSON
 * (`{"time":"…","level":"info","msg":"…",…fields}`). Errors are written with their message (text)
 * or as `{name, message, stack, code?, cause?}` (JSON).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = options.level ?? "info";
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const format = options.format === "json" ? jsonLine : textLine;
  const log = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (levelEnabled(level, threshold)) write(format(now(), level, message, fields));
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** A text log line. */
export function textLine(
  timeMs: number,
  level: LogLevel,
  message: string,
  fields?: LogFields,
): string {
  const head = `${new Date(timeMs).toISOString()} ${level.toUpperCase()} ${message}`;
  const pairs = Object.entries(fields ?? {})
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${textValue(value)}`);
  return pairs.length === 0 ? head : `${head} ${pairs.join(" ")}`;
}

/** A JSON log line; fields named `time`, `level` or `msg` do not overwrite the envelope. */
export function jsonLine(
  timeMs: number,
  level: LogLevel,
  message: string,
  fields?: LogFields,
): string {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (value !== undefined) body[key] = jsonValue(value, 0);
  }
  const line = { time: new Date(timeMs).toISOString(), level, msg: message, ...body };
  line.time = new Date(timeMs).toISOString();
  line.level = level;
  line.msg = message;
  try {
    return JSON.stringify(line);
  } catch {
    return JSON.stringify({ time: line.time, level, msg: message, fields: String(fields) });
  }
}

function textValue(value: unknown): string {
  if (typeof value === "string")
    return /[\s"=]/.test(value) || value === "" ? JSON.stringify(value) : value;
  if (value instanceof Error) return JSON.stringify(value.message);
  try {
    return (
      JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ??
      String(value)
    );
  } catch {
    return String(value);
  }
}

/** Errors become plain objects (JSON.stringify would write `{}`); bigints become strings. */
function jsonValue(value: unknown, depth: number): unknown {
  if (typeof value === "bigint") return value.toString();
  if (!(value instanceof Error)) return value;
  const error: Record<string, unknown> = {
    name: value.name,
    message: value.message,
    stack: value.stack,
  };
  const code = (value as { code?: unknown }).code;
  if (code !== undefined) error.code = code;
  if (value.cause !== undefined && depth < 5) error.cause = jsonValue(value.cause, depth + 1);
  return error;
}
