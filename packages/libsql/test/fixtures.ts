import { executionStartedEvent, orchestratorStartedEvent } from "@durabletask/api";
import type { HistoryEvent } from "@durabletask/api/proto";
import type { Backend, OrchestrationCommit, OrchestrationWorkItem } from "@durabletask/backend";
import { afterEach } from "vitest";

/** Backends started by a test, stopped after it. */
export function trackBackends(): (backend: Backend) => Backend {
  const open: Backend[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.stop()));
  });
  return (backend) => {
    open.push(backend);
    return backend;
  };
}

/** An `executionStarted` event of instance `instanceId`, execution `<instanceId>-1`. */
export function start(instanceId: string, name = "Unit"): HistoryEvent {
  return executionStartedEvent({ name, instanceId, executionId: `${instanceId}-1` }, Date.now());
}

/** Creates instances `<prefix>-000` … and returns their ids. */
export async function createInstances(
  backend: Backend,
  count: number,
  prefix = "race",
): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
  for (const instanceId of ids) await backend.createOrchestrationInstance(start(instanceId));
  return ids;
}

/** A commit that keeps the instance RUNNING and appends its new events (plus `extra`). */
export function runningCommit(
  item: OrchestrationWorkItem,
  extra: Partial<OrchestrationCommit> = {},
): OrchestrationCommit {
  return {
    resetHistory: false,
    appendHistory: [orchestratorStartedEvent(Date.now()), ...item.newEvents],
    instance: {
      runtimeStatus: "RUNNING",
      executionId: `${item.instanceId}-1`,
      name: "Unit",
      createdAtMs: Date.now(),
      lastUpdatedAtMs: Date.now(),
    },
    activities: [],
    timers: [],
    messages: [],
    subOrchestrations: [],
    cancelPendingWork: false,
    ...extra,
  };
}

/** The one work item `backend` hands out now; throws if there is none. */
export async function lockOne(backend: Backend): Promise<OrchestrationWorkItem> {
  const [item] = await backend.lockOrchestrationWorkItems(1);
  if (item === undefined) throw new Error("no orchestration work item");
  return item;
}
