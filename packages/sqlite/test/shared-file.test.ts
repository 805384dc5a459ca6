import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import {
  eventRaisedEvent,
  executionStartedEvent,
  orchestratorStartedEvent,
} from "@durabletask/api";
import type { Backend, OrchestrationWorkItem } from "@durabletask/backend";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createSqliteBackend, type SqliteBackendOptions } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "durabletask-shared-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const open: Backend[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.stop()));
});

/** Two started backends with their own connections to one new database file. */
async function twoBackends(
  options: SqliteBackendOptions = {},
): Promise<[Backend, Backend, string]> {
  const path = join(dir, `shared-${++files}.sqlite3`);
  const a = createSqliteBackend({ ...options, path, workerName: "a" });
  const b = createSqliteBackend({ ...options, path, workerName: "b" });
  open.push(a, b);
  await a.start();
  await b.start();
  return [a, b, path];
}

async function createInstances(backend: Backend, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `race-${String(i).padStart(3, "0")}`);
  for (const instanceId of ids) {
    await backend.createOrchestrationInstance(
      executionStartedEvent(
        { name: "Race", instanceId, executionId: `${instanceId}-1` },
        Date.now(),
      ),
    );
  }
  return ids;
}

// Bounded, so that a broken lease (handing instances out again and again) fails the test.
async function drain(backend: Backend, batchSize: number, max = 400): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < max) {
    const items = await backend.lockOrchestrationWorkItems(batchSize);
    if (items.length === 0) break;
    ids.push(...items.map((item) => item.instanceId));
  }
  return ids;
}

function raceInWorker(path: string, name: string, batchSize: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./race-worker.mjs", import.meta.url), {
      workerData: { path, name, batchSize },
    });
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (code !== 0) reject(new Error(`race worker ${name} exited with code ${code}`));
    });
  });
}

function commitOf(item: OrchestrationWorkItem) {
  return {
    resetHistory: false,
    appendHistory: [orchestratorStartedEvent(Date.now()), ...item.newEvents],
    instance: {
      runtimeStatus: "RUNNING" as const,
      executionId: `${item.instanceId}-1`,
      name: "Race",
      createdAtMs: Date.now(),
      lastUpdatedAtMs: Date.now(),
    },
    activities: [],
    timers: [],
    messages: [],
    subOrchestrations: [],
    cancelPendingWork: false,
  };
}

describe("two backends sharing one database file", () => {
  it("never hand out the same instance twice when racing in one process", async () => {
    const [a, b] = await twoBackends();
    const ids = await createInstances(a, 200);
    const [gotA, gotB] = await Promise.all([drain(a, 3), drain(b, 5)]);
    expect(gotA.length).toBeGreaterThan(0);
    expect(gotB.length).toBeGreaterThan(0);
    expect([...gotA, ...gotB].sort()).toEqual(ids);
  });

  // The threads load this package's TypeScript sources with Node's own type stripping.
  it.skipIf(!process.features.typescript)(
    "never hand out the same instance twice when racing from two threads",
    async () => {
      const [a, , path] = await twoBackends();
      const ids = await createInstances(a, 200);
      const [gotA, gotB] = await Promise.all([
        raceInWorker(path, "w1", 2),
        raceInWorker(path, "w2", 3),
      ]);
      expect([...gotA, ...gotB].sort()).toEqual(ids);
    },
  );

  it("fail a stale lease's commit cleanly while the new owner's commit applies", async () => {
    const [a, b] = await twoBackends({ orchestrationLockTimeoutMs: 150 });
    await createInstances(a, 1);
    const [stale] = await a.lockOrchestrationWorkItems(1);
    if (stale === undefined) throw new Error("no work item");
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, stale.lockExpiresAtMs - Date.now() + 10));
    const [fresh] = await b.lockOrchestrationWorkItems(1);
    if (fresh === undefined) throw new Error("the expired lease was not taken over");
    expect(fresh.retryCount).toBe(1);
    await b.addNewOrchestrationEvent("race-000", eventRaisedEvent(Date.now(), "During"));
    await expect(a.completeOrchestrationWorkItem(stale, commitOf(stale))).rejects.toMatchObject({
      code: "WorkItemLockLost",
    });
    expect(await a.getOrchestrationHistory("race-000")).toEqual([]);
    await b.completeOrchestrationWorkItem(fresh, commitOf(fresh));
    expect((await a.getOrchestrationMetadata("race-000"))?.runtimeStatus).toBe("RUNNING");
    expect(await a.getOrchestrationHistory("race-000")).toHaveLength(2);
    const [next] = await a.lockOrchestrationWorkItems(1);
    expect(next?.newEvents.map((e) => e.eventType.case)).toEqual(["eventRaised"]);
  });
});
