import { DurableTaskError } from "@durabletask/api";
import type { Backend } from "./backend.js";
import { OrchestrationRuntimeState } from "./runtime-state.js";

/**
 * Purges a terminal instance and, depth first, every sub-orchestration it created. Children that
 * are already gone are skipped (retries create the same child id more than once). The root's
 * status is checked before anything is deleted, so a running root purges nothing. Returns how
 * many instances were deleted.
 */
export async function purgeRecursively(backend: Backend, instanceId: string): Promise<number> {
  const metadata = await backend.getOrchestrationMetadata(instanceId, { fetchPayloads: false });
  if (metadata === undefined) {
    throw new DurableTaskError(
      "InstanceNotFound",
      `No orchestration instance with id '${instanceId}'.`,
    );
  }
  if (!["COMPLETED", "FAILED", "TERMINATED"].includes(metadata.runtimeStatus)) {
    throw new DurableTaskError(
      "NotCompleted",
      `Orchestration '${instanceId}' is ${metadata.runtimeStatus}; only completed, failed or terminated instances can be purged.`,
    );
  }
  const history = await backend.getOrchestrationHistory(instanceId);
  let deleted = 0;
  for (const child of new OrchestrationRuntimeState(instanceId, history).childInstanceIds()) {
    deleted += await purgeChild(backend, child);
  }
  await backend.purgeOrchestrationState(instanceId);
  return deleted + 1;
}

async function purgeChild(backend: Backend, instanceId: string): Promise<number> {
  try {
    return await purgeRecursively(backend, instanceId);
  } catch (error) {
    if (DurableTaskError.is(error, "InstanceNotFound")) return 0;
    throw error;
  }
}
