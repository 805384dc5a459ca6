import { type LogFields, type Logger, type LogLevel, levelEnabled } from "@durabletask/api";

/** Options of {@link createConsoleLogger}. */
export interface ConsoleLoggerOptions {
  /** Lines below this level are dropped; default `"warn"`. */
  readonly level?: LogLevel | undefined;
  /** Where a finished line goes; default `console.error` (stderr, so stdout stays the result). */
  readonly write?: ((line: string) => void) | undefined;
}

/** The log levels in threshold order, for `--log-level` parsing. */
export const logLevels: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/**
 * A {@link Logger} that writes one text line per call:
 * `2026-01-02T03:04:05.678Z INFO  message key=value …`. Field values that are not strings are
 * written as JSON; errors as their message.
 */
export function createConsoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const threshold = options.level ?? "warn";
  const write = options.write ?? ((line: string) => console.error(line));
  const log = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (levelEnabled(level, threshold)) write(formatLine(level, message, fields));
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** One log line, without a trailing newline. */
export function formatLine(level: LogLevel, message: string, fields?: LogFields): string {
  const head = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}`;
  if (fields === undefined) return head;
  const pairs = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  return pairs.length === 0 ? head : `${head} ${pairs.join(" ")}`;
}

function formatValue(value: unknown): string {
  if (typeof value === "string") return /\s/.test(value) ? JSON.stringify(value) : value;
  if (value instanceof Error) return JSON.stringify(value.message);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
