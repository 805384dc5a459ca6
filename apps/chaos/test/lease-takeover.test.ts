import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DurableTaskError, type Executor, type LogFields, type Logger } from "@durabletask/api";
import {
  type Backend,
  createTaskHubClient,
  createTaskHubWorker,
  type TaskHubWorker,
} from "@durabletask/backend";
import { createSqliteBackend } from "@durabletask/sqlite";
import {
  createTaskExecutor,
  createTaskRegistry,
  type OrchestrationContext,
} from "@durabletask/task";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { withOverrides } from "../src/backend-proxy.js";
import { countKinds } from "./history-check.js";

// A stuck worker (its lease renewals never get through, its work never finishes in time) loses
// its leases; another worker on the same database takes the work over after the lock timeout,
// and the stuck worker's late result is refused with WorkItemLockLost, not applied, and logged.
const lockTimeoutMs = 1000;
const dir = mkdtempSync(join(tmpdir(), "durabletask-leases-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const workers: TaskHubWorker[] = [];
const gates: Gate[] = [];
afterEach(async () => {
  for (const g of gates.splice(0)) g.open();
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});

interface Gate {
  readonly entered: Promise<void>;
  readonly isEntered: () => boolean;
  open(): void;
  wait(): Promise<void>;
}

/** Holds back the first caller of `wait()` until `open()`; later callers pass. */
function gate(): Gate {
  let enter = () => {};
  let open = () => {};
  const entered = new Promise<void>((resolve) => {
    enter = resolve;
  });
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  let used = false;
  const g: Gate = {
    entered,
    isEntered: () => used,
    open,
    wait() {
      if (used) return Promise.resolve();
      used = true;
      enter();
      return opened;
    },
  };
  gates.push(g);
  return g;
}

interface Started {
  readonly backend: Backend;
  /** Codes of this worker's commits that the backend refused. */
  readonly refused: string[];
  readonly warnings: { message: string; fields: LogFields | undefined }[];
}

/**
 * A task hub worker named `name` on database file `path`. A stuck one never gets a lease renewal
 * through, and its first episode (`stuckIn: "orchestrator"`) or first activity (`"activity"`)
 * waits for `held` to open; meanwhile it takes no new work.
 */
async function startWorker(
  name: string,
  path: string,
  stuck?: { held: Gate; stuckIn: "orchestrator" | "activity" },
): Promise<Started> {
  const warnings: Started["warnings"] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (message, fields) => void warnings.push({ message, fields }),
    error: (message, fields) => void warnings.push({ message, fields }),
  };
  const real = createSqliteBackend({
    path,
    orchestrationLockTimeoutMs: lockTimeoutMs,
    activityLockTimeoutMs: lockTimeoutMs,
    workerName: name,
    logger,
  });
  const refused: string[] = [];
  const noteRefusal = (error: unknown) => {
    refused.push(DurableTaskError.is(error) ? error.code : String(error));
    throw error;
  };
  const never = () => new Promise<number>(() => {});
  const fused = real.completeActivityWithEpisode?.bind(real);
  const backend = withOverrides(real, {
    completeOrchestrationWorkItem: (item, commit) =>
      real.completeOrchestrationWorkItem(item, commit).catch(noteRefusal),
    completeActivityWorkItem: (item, result) =>
      real.completeActivityWorkItem(item, result).catch(noteRefusal),
    ...(fused === undefined
      ? {}
      : {
          completeActivityWithEpisode: (item, result, runEpisode) =>
            fused(item, result, runEpisode).catch(noteRefusal),
        }),
    // Stuck means stuck: no lease renewals, and no new work once it hangs.
    ...(stuck === undefined
      ? {}
      : {
          renewOrchestrationWorkItemLock: never,
          renewActivityWorkItemLock: never,
          lockOrchestrationWorkItems: (n) =>
            stuck.held.isEntered() ? Promise.resolve([]) : real.lockOrchestrationWorkItems(n),
          lockActivityWorkItems: (n) =>
            stuck.held.isEntered() ? Promise.resolve([]) : real.lockActivityWorkItems(n),
        }),
  });
  const registry = createTaskRegistry();
  registry.addActivity("Work", async (_ctx, input: string) => {
    if (stuck?.stuckIn === "activity") await stuck.held.wait();
    return `${input} by ${name}`;
  });
  registry.addOrchestrator("Job", (ctx: OrchestrationContext) =>
    ctx.callActivity<string>("Work", "work"),
  );
  const inner = createTaskExecutor({ registry });
  const executor: Executor = {
    async executeOrchestrator(request, options) {
      const response = await inner.executeOrchestrator(request, options);
      if (stuck?.stuckIn === "orchestrator") await stuck.held.wait();
      return response;
    },
    executeActivity: (request, options) => inner.executeActivity(request, options),
  };
  const worker = createTaskHubWorker({ backend, executor, logger, maxPollIntervalMs: 100 });
  workers.push(worker);
  await worker.start();
  return { backend, refused, warnings };
}

async function until(probe: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe.each(["activity", "orchestrator"] as const)("a worker stuck in its %s", (stuckIn) => {
  it("loses the lease to another worker, whose result stands; its late result is refused and logged", async () => {
    const path = join(dir, `leases-${++files}.sqlite3`);
    const held = gate();
    const stuck = await startWorker("stuck", path, { held, stuckIn });
    const client = createTaskHubClient({ backend: stuck.backend });
    const id = await client.scheduleNewOrchestration("Job", { instanceId: `stuck-${stuckIn}` });
    await held.entered;
    const takenAtMs = Date.now();
    const healthy = await startWorker("healthy", path);
    const done = await createTaskHubClient({
      backend: healthy.backend,
    }).waitForOrchestrationCompletion(id, { timeoutMs: 15_000 });
    // Taken over only once the stuck worker's lease ran out.
    expect(Date.now() - takenAtMs).toBeGreaterThanOrEqual(lockTimeoutMs / 2);
    expect(done.runtimeStatus).toBe("COMPLETED");
    if (stuckIn === "activity") expect(done.serializedOutput).toBe('"work by healthy"');

    held.open();
    await until(() => stuck.refused.length > 0, "the stuck worker's late commit");
    expect(stuck.refused).toEqual(["WorkItemLockLost"]);
    const lost = stuck.warnings.filter((w) => w.message.includes("lost the lease"));
    expect(lost).toHaveLength(1);
    expect(lost[0]?.fields?.error).toMatchObject({ code: "WorkItemLockLost" });
    // Nothing was given back or retried for the refused commit.
    expect(stuck.warnings.filter((w) => !w.message.includes("lost the lease"))).toEqual([]);

    // The late result changed nothing: one start, one task, one completion, the same output.
    const history = await client.getOrchestrationHistory(id);
    expect(countKinds(history)).toMatchObject({
      executionStarted: 1,
      taskScheduled: 1,
      taskCompleted: 1,
      executionCompleted: 1,
    });
    expect((await client.getOrchestrationState(id))?.serializedOutput).toBe(done.serializedOutput);
  });
});
