import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createTaskHubClient } from "@durabletask/backend";
import { createSqliteBackend } from "@durabletask/sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { approvalEvent, approvalFor, chaosOrchestrationName } from "../src/chaos-orchestration.js";
import { readActivityLog } from "./activity-log.js";
import { chaosId, verifyChaos, waitForAll } from "./chaos-run.js";
import { startWorker, type WorkerProcess } from "./worker-process.js";

// A worker process whose event loop is blocked (no lease renewal can run) loses its activity's
// lease; a second process takes the activity over, and the first one's late result is refused.
const lockTimeoutMs = 1000;
const blockMs = 4 * lockTimeoutMs;

describe("a worker process with a blocked event loop", () => {
  const dir = mkdtempSync(join(tmpdir(), "durabletask-blocked-"));
  const dbPath = join(dir, "blocked.sqlite3");
  const logPath = join(dir, "activities.log");
  const workers: WorkerProcess[] = [];

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("loses its lease to another process; its late result is refused and logged", {
    timeout: 60_000,
  }, async () => {
    const backend = createSqliteBackend({ path: dbPath });
    await backend.start();
    try {
      const client = createTaskHubClient({ backend });
      const args = ["--db", dbPath, "--log", logPath, "--lock-timeout-ms", `${lockTimeoutMs}`];
      const blocked = await startWorker([...args, "--block-first-ms", `${blockMs}`]);
      workers.push(blocked);
      await client.scheduleNewOrchestration(chaosOrchestrationName, {
        instanceId: chaosId(0),
        input: { index: 0 },
      });
      await client.raiseEvent(chaosId(0), approvalEvent, approvalFor(0));
      while (readActivityLog(logPath).executions.length === 0) await sleep(10);
      const healthy = await startWorker(args);
      workers.push(healthy);
      await waitForAll(client, 1, 30_000);
      // Stopping waits for the blocked process to come back and finish its activity.
      for (const worker of workers) expect(await worker.stop(), worker.stderr()).toBe(0);

      const stats = await verifyChaos(client, logPath, 1);
      const [first, again] = readActivityLog(logPath).executions;
      expect(first?.pid).toBe(blocked.pid);
      expect(again).toMatchObject({ instanceId: first?.instanceId, taskId: first?.taskId });
      expect(again?.pid).toBe(healthy.pid);
      // Taken over while the blocked process still held it, once the lease ran out.
      expect((again?.atMs ?? 0) - (first?.atMs ?? 0)).toBeGreaterThanOrEqual(lockTimeoutMs - 50);
      expect((again?.atMs ?? 0) - (first?.atMs ?? 0)).toBeLessThan(blockMs);
      expect(stats.reexecuted).toBe(1);
      expect(blocked.stderr()).toMatch(
        /lost the lease of activity chaos-0#0; aborting it.*DurableTaskError WorkItemLockLost/,
      );
      expect(blocked.stderr()).not.toMatch(/failed to (process|abandon)/);
    } finally {
      await backend.stop();
    }
  });
});
