export { reusePolicyOf } from "../schedule-options.js";

import { DurableTaskError } from "@durabletask/api";
import type { CreateInstanceResult, ReusePolicy } from "../backend.js";
import type { SqlValue } from "./driver.js";
import { status, text } from "./rows.js";
import type { StartedInstance } from "./start-event.js";

/**
 * What a create batch did, from the instance row it read last (`RuntimeStatus, ExecutionID`):
 * the new execution id means created; otherwise the existing instance was ignored by policy or
 * the id is taken (`InstanceExists`).
 */
export function creationOutcome(
  started: StartedInstance,
  policy: ReusePolicy | undefined,
  row: readonly SqlValue[] | undefined,
): CreateInstanceResult {
  if (row === undefined) {
    throw new DurableTaskError(
      "Internal",
      `instance '${started.instanceId}' vanished while being created`,
    );
  }
  if (text(row[1], "ExecutionID") === started.executionId) return { created: true };
  const existing = status(row[0]);
  if (policy?.action === "ignore" && policy.statuses.includes(existing)) return { created: false };
  throw new DurableTaskError(
    "InstanceExists",
    `orchestration instance '${started.instanceId}' already exists (status ${existing})`,
  );
}
