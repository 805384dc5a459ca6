import type { Logger } from "@durabletask/api";

/** Warnings and errors on stderr, which the tests keep for their failure messages. */
export const stderrLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (message, fields) => console.error(`warn ${message} ${safeJson(fields)}`),
  error: (message, fields) => console.error(`error ${message} ${safeJson(fields)}`),
};

function safeJson(fields: unknown): string {
  try {
    return JSON.stringify(fields ?? {}, (_key, value: unknown) =>
      value instanceof Error ? `${value.name}${codeOf(value)}: ${value.message}` : value,
    );
  } catch {
    return String(fields);
  }
}

function codeOf(error: Error): string {
  const { code } = error as { code?: unknown };
  return typeof code === "string" ? ` ${code}` : "";
}
