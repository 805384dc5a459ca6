import { mean, percentile } from "../stats.js";
import type { BenchClient } from "./bench-client.js";
import { countCorrect, registerThreeSteps, threeStepsCase, threeStepsName } from "./three-steps.js";
import { workloadTimeoutMs } from "./wait-for-all.js";
import type { Workload, WorkloadRun, WorkloadSettings } from "./workload.js";

const prefix = "w1seq-";

/**
 * W1-seq, latency: `runs` W1 orchestrations one at a time. Each latency is from the schedule
 * call to the completion observed by `waitForOrchestrationCompletion` (woken by the backend's
 * change notification, not by polling). Reports p50, p99 and mean in milliseconds.
 */
export const w1Seq: Workload = {
  name: "W1-seq",
  register: registerThreeSteps,
  async run(client: BenchClient, { runs }: WorkloadSettings): Promise<WorkloadRun> {
    const latenciesMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const startedAt = performance.now();
      const id = await client.scheduleNewOrchestration(threeStepsName, {
        instanceId: `${prefix}${i}`,
        input: threeStepsCase(i).input,
      });
      await client.waitForOrchestrationCompletion(id, {
        timeoutMs: workloadTimeoutMs,
        fetchPayloads: false,
      });
      latenciesMs.push(performance.now() - startedAt);
    }
    const figures = {
      latency_p50_ms: percentile(latenciesMs, 50),
      latency_p99_ms: percentile(latenciesMs, 99),
      latency_mean_ms: mean(latenciesMs),
    };
    return { figures, orchestrations: runs };
  },
  countCompleted: (client) =>
    countCorrect(client, prefix, (id) => threeStepsCase(Number(id.slice(prefix.length))).output),
};
