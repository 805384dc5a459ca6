/** Structured fields attached to a log line (instance id, task id, work item, error, …). */
export type LogFields = Readonly<Record<string, unknown>>;

/** Severity of a log line, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * Where the engine's libraries send what they have to say. Libraries never print: they take a
 * Logger, and applications decide where lines go (the sidecar writes text or JSON lines).
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const ignore = (): void => {};

/** A logger that drops everything; the default of every library entry point. */
export const silentLogger: Logger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
});

const levelRank: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Whether `level` passes a `threshold` (e.g. `info` passes `info` and `debug`). */
export function levelEnabled(level: LogLevel, threshold: LogLevel): boolean {
  return levelRank[level] >= levelRank[threshold];
}

/** A logger that adds `fields` to every line written through `logger`. */
export function withLogFields(logger: Logger, fields: LogFields): Logger {
  return {
    debug: (m, f) => logger.debug(m, { ...fields, ...f }),
    info: (m, f) => logger.info(m, { ...fields, ...f }),
    warn: (m, f) => logger.warn(m, { ...fields, ...f }),
    error: (m, f) => logger.error(m, { ...fields, ...f }),
  };
}
