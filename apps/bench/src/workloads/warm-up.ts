import { terminalStatuses } from "@durabletask/api";
import type { BenchClient } from "./bench-client.js";
import { countCorrect, threeStepsCase, threeStepsName } from "./three-steps.js";
import { workloadTimeoutMs } from "./wait-for-all.js";

const prefix = "warmup-";

/**
 * Unmeasured JIT warm-up of a fresh engine and client, in the processes a run measures: `count`
 * three-step orchestrations scheduled at once and waited for one by one, then five one after
 * another; then every terminal instance is purged, so the run starts on an empty task hub.
 *
 * @throws Error when a warm-up orchestration did not complete correctly.
 */
export async function warmUp(client: BenchClient, count: number): Promise<void> {
  const ids = Array.from({ length: count + 5 }, (_, i) => `${prefix}${i}`);
  const schedule = (i: number) =>
    client.scheduleNewOrchestration(threeStepsName, {
      instanceId: ids[i] as string,
      input: threeStepsCase(i).input,
    });
  const wait = (id: string) =>
    client.waitForOrchestrationCompletion(id, {
      timeoutMs: workloadTimeoutMs,
      fetchPayloads: false,
    });
  const batch = await Promise.all(ids.slice(0, count).map((_, i) => schedule(i)));
  await Promise.all(batch.map(wait));
  for (let i = count; i < ids.length; i++) await wait(await schedule(i));
  const correct = await countCorrect(
    client,
    prefix,
    (id) => threeStepsCase(Number(id.slice(prefix.length))).output,
  );
  if (correct !== ids.length) {
    throw new Error(`warm-up: ${correct} of ${ids.length} orchestrations completed correctly`);
  }
  await client.purgeInstances({ statuses: terminalStatuses });
}
