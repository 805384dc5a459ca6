import type { BenchClient } from "./bench-client.js";
import { countCorrect, registerThreeSteps, threeStepsCase, threeStepsName } from "./three-steps.js";
import { waitForAll } from "./wait-for-all.js";
import type { Workload, WorkloadRun, WorkloadSettings } from "./workload.js";

const prefix = "w1-";

/**
 * W1, throughput: `n` orchestrations of three sequential activities, all scheduled at once.
 * Reports `orchestrations_per_s` from the first schedule to the last completion observed.
 */
export const w1: Workload = {
  name: "W1",
  register: registerThreeSteps,
  async run(client: BenchClient, { n, wait }: WorkloadSettings): Promise<WorkloadRun> {
    const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    const startedAt = performance.now();
    await Promise.all(
      ids.map((instanceId, i) =>
        client.scheduleNewOrchestration(threeStepsName, {
          instanceId,
          input: threeStepsCase(i).input,
        }),
      ),
    );
    await waitForAll(client, ids, wait);
    const elapsedMs = performance.now() - startedAt;
    return { figures: { orchestrations_per_s: (n * 1000) / elapsedMs }, orchestrations: n };
  },
  countCompleted: (client) =>
    countCorrect(client, prefix, (id) => threeStepsCase(Number(id.slice(prefix.length))).output),
};
