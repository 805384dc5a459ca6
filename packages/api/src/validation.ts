import { DurableTaskError, invalidArgument } from "./errors.js";

/** Longest instance id the engine accepts, in UTF-16 code units. */
export const maxInstanceIdLength = 1024;

/** Longest orchestrator, activity or event name the engine accepts. */
export const maxNameLength = 1024;

// Control characters in ids break logs, keys and tooling; nothing legitimate needs them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to match them
const controlCharacters = /[\u0000-\u001f\u007f]/;

/** Throws `InvalidArgument` unless `value` is a usable instance id. */
export function assertInstanceId(value: unknown, field = "instanceId"): asserts value is string {
  assertName(value, field, maxInstanceIdLength);
}

/** Throws `InvalidArgument` unless `value` is a usable name (non-empty, bounded, printable). */
export function assertName(
  value: unknown,
  field: string,
  maxLength: number = maxNameLength,
): asserts value is string {
  if (typeof value !== "string") {
    throw invalidArgument(field, `must be a string, got ${describe(value)}`);
  }
  if (value.length === 0) throw invalidArgument(field, "must not be empty");
  if (value.length > maxLength) {
    throw invalidArgument(field, `must be at most ${maxLength} characters, got ${value.length}`);
  }
  if (controlCharacters.test(value)) {
    throw invalidArgument(field, "must not contain control characters");
  }
}

/** Throws `InvalidArgument` unless `value` is a finite number ≥ 0 (or undefined when optional). */
export function assertNonNegativeMs(value: unknown, field: string): asserts value is number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw invalidArgument(
      field,
      `must be a finite number of milliseconds ≥ 0, got ${describe(value)}`,
    );
  }
}

/**
 * An integer option from 0 to `max` (`fallback` when undefined); throws `InvalidArgument` naming
 * `field` otherwise. `unit` (e.g. "milliseconds") goes into the message.
 */
export function integerOption(
  value: unknown,
  field: string,
  fallback: number,
  max: number,
  unit?: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    const what = unit === undefined ? "an integer" : `an integer number of ${unit}`;
    throw invalidArgument(field, `must be ${what} from 0 to ${max}, got ${describe(value)}`);
  }
  return value;
}

/** Throws `InvalidArgument` unless `value` is a valid Date. */
export function assertDate(value: unknown, field: string): asserts value is Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw invalidArgument(field, `must be a valid Date, got ${describe(value)}`);
  }
}

/**
 * JSON text of `value` for a payload field. `undefined` means "no payload". Values JSON cannot
 * carry faithfully (functions, symbols, bigints, cycles) are rejected with `InvalidArgument`
 * rather than silently dropped.
 */
export function serializePayload(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  const kind = typeof value;
  if (kind === "function" || kind === "symbol" || kind === "bigint") {
    throw invalidArgument(field, `cannot be serialized to JSON (${kind})`);
  }
  try {
    return JSON.stringify(value);
  } catch (err) {
    throw new DurableTaskError(
      "InvalidArgument",
      `${field}: cannot be serialized to JSON (${err instanceof Error ? err.message : String(err)})`,
      { cause: err },
    );
  }
}

/** Parses JSON payload text; empty or missing text is `undefined`. */
export function deserializePayload<T = unknown>(text: string | undefined, field: string): T {
  if (text === undefined || text === "") return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new DurableTaskError("InvalidArgument", `${field}: is not valid JSON`, { cause: err });
  }
}

/** A short description of a value's type for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "an invalid Date" : "a Date";
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : `the number ${value}`;
  return typeof value;
}

/**
 * The options object of a call: `{}` for `undefined`, the value itself for a plain object, and
 * `InvalidArgument` naming `field` for anything else (null, arrays, strings…).
 */
export function optionsOf<T extends object>(value: T | undefined, field = "options"): T {
  if (value === undefined) return {} as T;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidArgument(field, `must be an object, got ${describe(value)}`);
  }
  return value;
}

/** Throws `InvalidArgument` unless `value` is a boolean or undefined. */
export function assertOptionalBoolean(
  value: unknown,
  field: string,
): asserts value is boolean | undefined {
  if (value !== undefined && typeof value !== "boolean") {
    throw invalidArgument(field, `must be a boolean, got ${describe(value)}`);
  }
}

/** Throws `InvalidArgument` unless `value` is an `AbortSignal` or undefined. */
export function assertOptionalSignal(
  value: unknown,
  field = "signal",
): asserts value is AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw invalidArgument(field, `must be an AbortSignal, got ${describe(value)}`);
  }
}
