import {
  assertDate,
  assertInstanceId,
  assertNonNegativeMs,
  describe,
  invalidArgument,
} from "@durabletask/api";
import type {
  CallActivityOptions,
  CallSubOrchestratorOptions,
  ContinueAsNewOptions,
  WaitForExternalEventOptions,
} from "./orchestration-context.js";
import { type NormalizedRetryPolicy, normalizeRetryPolicy } from "./retry-policy.js";

// Validation of OrchestrationContext arguments. Each function throws `InvalidArgument` naming
// the offending field, so mistakes surface at the call site instead of as odd history later.

/** Validated {@link CallActivityOptions}. @internal */
export interface ActivityCall {
  readonly retry: NormalizedRetryPolicy | undefined;
  readonly version: string | undefined;
  readonly tags: Readonly<Record<string, string>> | undefined;
}

/** Validated {@link CallSubOrchestratorOptions}. @internal */
export interface SubOrchestratorCall {
  readonly instanceId: string | undefined;
  readonly retry: NormalizedRetryPolicy | undefined;
  readonly version: string | undefined;
}

/** @internal */
export function checkActivityOptions(options: CallActivityOptions | undefined): ActivityCall {
  const o = optionsBag(options);
  return { retry: retryOf(o.retry), version: versionOf(o.version), tags: tagsOf(o.tags) };
}

/** @internal */
export function checkSubOrchestratorOptions(
  options: CallSubOrchestratorOptions | undefined,
): SubOrchestratorCall {
  const o = optionsBag(options);
  if (o.instanceId !== undefined) assertInstanceId(o.instanceId, "options.instanceId");
  return { instanceId: o.instanceId, retry: retryOf(o.retry), version: versionOf(o.version) };
}

/** The epoch-ms fire time of a `createTimer` argument, relative to `nowMs`. @internal */
export function fireAtMsOf(delayMsOrFireAt: unknown, nowMs: number): number {
  if (delayMsOrFireAt instanceof Date) {
    assertDate(delayMsOrFireAt, "fireAt");
    return delayMsOrFireAt.getTime();
  }
  if (typeof delayMsOrFireAt !== "number") {
    const got = describe(delayMsOrFireAt);
    throw invalidArgument("delayMs", `must be a number of milliseconds or a Date, got ${got}`);
  }
  assertNonNegativeMs(delayMsOrFireAt, "delayMs");
  return nowMs + delayMsOrFireAt;
}

/** @internal */
export function checkWaitOptions(
  options: WaitForExternalEventOptions | undefined,
): number | undefined {
  const o = optionsBag(options);
  if (o.timeoutMs !== undefined) assertNonNegativeMs(o.timeoutMs, "options.timeoutMs");
  return o.timeoutMs;
}

/** @internal */
export function checkContinueAsNewOptions(options: ContinueAsNewOptions | undefined): boolean {
  const o = optionsBag(options);
  const keep = o.keepUnprocessedEvents;
  if (keep !== undefined && typeof keep !== "boolean") {
    throw invalidArgument(
      "options.keepUnprocessedEvents",
      `must be a boolean, got ${describe(keep)}`,
    );
  }
  return keep === true;
}

function optionsBag<T extends object>(options: T | undefined): Partial<T> {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw invalidArgument("options", `must be an object, got ${describe(options)}`);
  }
  return options;
}

function retryOf(retry: unknown): NormalizedRetryPolicy | undefined {
  return retry === undefined ? undefined : normalizeRetryPolicy(retry, "options.retry");
}

function versionOf(version: unknown): string | undefined {
  if (version !== undefined && typeof version !== "string") {
    throw invalidArgument("options.version", `must be a string, got ${describe(version)}`);
  }
  return version;
}

function tagsOf(tags: unknown): Readonly<Record<string, string>> | undefined {
  if (tags === undefined) return undefined;
  if (typeof tags !== "object" || tags === null || Array.isArray(tags)) {
    throw invalidArgument("options.tags", `must be an object of strings, got ${describe(tags)}`);
  }
  for (const [key, value] of Object.entries(tags)) {
    if (typeof value !== "string") {
      throw invalidArgument(`options.tags.${key}`, `must be a string, got ${describe(value)}`);
    }
  }
  return tags as Readonly<Record<string, string>>;
}
