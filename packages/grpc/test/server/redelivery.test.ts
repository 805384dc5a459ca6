import * as wire from "@durabletask/api/proto";
import { afterEach, expect, it } from "vitest";
import {
  completion,
  isActivity,
  isOrchestration,
  type RawSidecar,
  startRawSidecar,
} from "./raw-sidecar.js";

let sidecar: RawSidecar | undefined;
afterEach(async () => {
  await sidecar?.stop();
  sidecar = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function scheduleTask(instanceId: string, token: string) {
  return {
    instanceId,
    completionToken: token,
    actions: [
      {
        id: 1,
        orchestratorActionType: {
          case: "scheduleTask" as const,
          value: { name: "A", input: '"in"' },
        },
      },
    ],
  };
}

it("an activity whose worker vanished waits for the next worker, longer than its lease, and runs once", async () => {
  sidecar = await startRawSidecar({
    sqlite: { activityLockTimeoutMs: 300, orchestrationLockTimeoutMs: 300 },
  });
  const first = sidecar.connectWorker();
  await sidecar.call("startInstance", wire.CreateInstanceRequestSchema, {
    instanceId: "i",
    name: "N",
  });
  const episode = await first.next(isOrchestration("i"));
  await sidecar.call(
    "completeOrchestratorTask",
    wire.OrchestratorResponseSchema,
    scheduleTask("i", episode.completionToken),
  );
  await first.next(isActivity("i"));
  first.cancel();
  await sleep(1500); // five leases

  const second = sidecar.connectWorker();
  const activity = await second.next(isActivity("i"));
  await sidecar.call("completeActivityTask", wire.ActivityResponseSchema, {
    instanceId: "i",
    taskId: 1,
    result: '"out"',
    completionToken: activity.completionToken,
  });
  const next = await second.next(isOrchestration("i"));
  await sidecar.call(
    "completeOrchestratorTask",
    wire.OrchestratorResponseSchema,
    completion("i", wire.OrchestrationStatus.COMPLETED, '"done"', next.completionToken),
  );
  const done = await sidecar.call<typeof wire.GetInstanceRequestSchema, wire.GetInstanceResponse>(
    "waitForInstanceCompletion",
    wire.GetInstanceRequestSchema,
    { instanceId: "i", getInputsAndOutputs: true },
  );
  expect(done.orchestrationState?.orchestrationStatus).toBe(wire.OrchestrationStatus.COMPLETED);
  await sleep(500);
  expect(second.items.filter(isActivity("i"))).toHaveLength(1);
  const history = await sidecar.backend.getOrchestrationHistory("i");
  expect(history.filter((e) => e.eventType.case === "taskCompleted")).toHaveLength(1);
});
