import * as wire from "@durabletask/api/proto";
import { afterEach, expect, it } from "vitest";
import { completion, isOrchestration, type RawSidecar, startRawSidecar } from "./raw-sidecar.js";

let sidecar: RawSidecar | undefined;
afterEach(async () => {
  await sidecar?.stop();
  sidecar = undefined;
});

// Regression: a filter purge naming only non-terminal statuses (e.g. RUNNING) had them filtered
// out, and the empty list then meant "every terminal status": it deleted completed instances.
it("a filter purge of only non-terminal statuses deletes nothing", async () => {
  sidecar = await startRawSidecar();
  const worker = sidecar.connectWorker();
  await sidecar.call("startInstance", wire.CreateInstanceRequestSchema, {
    instanceId: "done",
    name: "N",
  });
  const item = await worker.next(isOrchestration("done"));
  await sidecar.call(
    "completeOrchestratorTask",
    wire.OrchestratorResponseSchema,
    completion("done", wire.OrchestrationStatus.COMPLETED, '"ok"', item.completionToken),
  );
  await sidecar.call("waitForInstanceCompletion", wire.GetInstanceRequestSchema, {
    instanceId: "done",
  });

  const response = await sidecar.call<
    typeof wire.PurgeInstancesRequestSchema,
    wire.PurgeInstancesResponse
  >("purgeInstances", wire.PurgeInstancesRequestSchema, {
    request: {
      case: "purgeInstanceFilter",
      value: {
        runtimeStatus: [wire.OrchestrationStatus.RUNNING, wire.OrchestrationStatus.PENDING],
      },
    },
  });
  expect(response.deletedInstanceCount).toBe(0);
  expect(await sidecar.backend.getOrchestrationMetadata("done")).toMatchObject({
    runtimeStatus: "COMPLETED",
  });

  const all = await sidecar.call<
    typeof wire.PurgeInstancesRequestSchema,
    wire.PurgeInstancesResponse
  >("purgeInstances", wire.PurgeInstancesRequestSchema, {
    request: {
      case: "purgeInstanceFilter",
      value: { runtimeStatus: [wire.OrchestrationStatus.COMPLETED] },
    },
  });
  expect(all.deletedInstanceCount).toBe(1);
});
