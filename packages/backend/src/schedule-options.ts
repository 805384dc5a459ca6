import { assertName, describe, invalidArgument, isOrchestrationStatus } from "@durabletask/api";
import type { ReusePolicy } from "./backend.js";

const actions: readonly string[] = ["error", "ignore", "terminate"];

/**
 * A validated copy of a reuse policy (statuses de-duplicated); `undefined` stays `undefined`.
 * Throws `InvalidArgument` naming `reusePolicy.action` or `reusePolicy.statuses`.
 */
export function reusePolicyOf(value: unknown): ReusePolicy | undefined {
  if (value === undefined) return undefined;
  const policy = value as ReusePolicy;
  if (typeof policy !== "object" || policy === null || !actions.includes(policy.action)) {
    throw invalidArgument(
      "reusePolicy.action",
      `must be "error", "ignore" or "terminate", got ${describe(policy?.action)}`,
    );
  }
  if (!Array.isArray(policy.statuses) || !policy.statuses.every(isOrchestrationStatus)) {
    throw invalidArgument("reusePolicy.statuses", "must be an array of orchestration statuses");
  }
  return { action: policy.action, statuses: [...new Set(policy.statuses)] };
}

/** The name of an orchestrator given by name or as a (named) function; `InvalidArgument` otherwise. */
export function orchestratorNameOf(orchestrator: unknown): string {
  const name =
    typeof orchestrator === "function" ||
    (typeof orchestrator === "object" && orchestrator !== null)
      ? (orchestrator as { name?: unknown }).name
      : orchestrator;
  assertName(name, "orchestrator");
  return name;
}

/** A validated copy of instance tags (string values only); `InvalidArgument` naming the tag. */
export function tagsOf(tags: unknown): Record<string, string> | undefined {
  if (tags === undefined) return undefined;
  if (typeof tags !== "object" || tags === null || Array.isArray(tags)) {
    throw invalidArgument("tags", `must be an object of strings, got ${describe(tags)}`);
  }
  for (const [key, value] of Object.entries(tags)) {
    if (typeof value !== "string") {
      throw invalidArgument(`tags.${key}`, `must be a string, got ${describe(value)}`);
    }
  }
  return { ...(tags as Record<string, string>) };
}
