import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Backend, createTaskHubClient, type TaskHubClient } from "@durabletask/backend";
import { createLibsqlBackend } from "@durabletask/libsql";
import { createSqliteBackend } from "@durabletask/sqlite";
import { checkTaskHubFile } from "@durabletask/testing";
import { afterAll, describe, expect, it } from "vitest";
import { approvalEvent, approvalFor, chaosOrchestrationName } from "../src/chaos-orchestration.js";
import { groupByCall, type LoggedExecution, readActivityLog } from "./activity-log.js";
import { chaosId, verifyChaos, waitForAll } from "./chaos-run.js";
import { completedTaskIds } from "./history-check.js";
import { startWorker, type WorkerProcess } from "./worker-process.js";

// Four worker processes share one database and run the chaos orchestrations; one of them gets
// stuck with leased activities and is SIGKILLed. CHAOS_LONG=1: 1000 orchestrations.
const long = process.env.CHAOS_LONG === "1";
const orchestrations = long ? 1000 : 60;
const workerCount = 4;
const lockTimeoutMs = 2000;
const maxActivities = 5;
/** The victim's activities after this many hang: it holds leased work when it is killed. */
const stallAfter = 3;

interface Store {
  readonly name: string;
  readonly args: (dir: string) => string[];
  readonly client: (dir: string) => Backend;
  /** The database file, for the invariant check. */
  readonly file: (dir: string) => string;
}

// The libSQL backend on a `file:` URL: four processes contend on one database file through
// libSQL's own SQLite engine and file locks (a Hrana test server would serialise every batch
// in one process and exercise less contention).
const stores: Store[] = [
  {
    name: "one SQLite file",
    args: (dir) => ["--db", join(dir, "shared.sqlite3")],
    client: (dir) => createSqliteBackend({ path: join(dir, "shared.sqlite3") }),
    file: (dir) => join(dir, "shared.sqlite3"),
  },
  {
    name: "one libSQL database (file: URL)",
    args: (dir) => ["--libsql-url", `file:${join(dir, "shared.db")}`],
    client: (dir) => createLibsqlBackend({ url: `file:${join(dir, "shared.db")}` }),
    file: (dir) => join(dir, "shared.db"),
  },
];

/** The `stats {…}` line a crash worker prints when it stops. */
interface WorkerStats {
  readonly episodes: number;
  readonly activities: number;
  readonly lockLost: number;
}

function statsOf(worker: WorkerProcess): WorkerStats {
  const line = /^stats (.*)$/m.exec(worker.stdout());
  if (line === null) throw new Error(`no stats from ${worker.pid}\n${worker.stderr()}`);
  return JSON.parse(line[1] ?? "{}") as WorkerStats;
}

/** Waits for the victim's first stalled activity (execution `stallAfter + 1`) and returns it. */
async function firstStalled(logPath: string, pid: number): Promise<LoggedExecution> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const mine = readActivityLog(logPath).executions.filter((e) => e.pid === pid);
    const stalled = mine[stallAfter];
    if (stalled !== undefined) return stalled;
    if (Date.now() > deadline) throw new Error(`worker ${pid} ran ${mine.length} activities`);
    await sleep(10);
  }
}

/** Waits until one of the results of `pid`'s normal (not stalled) activities is in history. */
async function someResultCommitted(
  client: TaskHubClient,
  logPath: string,
  pid: number,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const normal = readActivityLog(logPath)
      .executions.filter((e) => e.pid === pid)
      .slice(0, stallAfter);
    for (const run of normal) {
      const history = await client.getOrchestrationHistory(run.instanceId);
      if (completedTaskIds(history).includes(run.taskId)) return;
    }
    if (Date.now() > deadline) throw new Error(`no result of worker ${pid} was committed`);
    await sleep(20);
  }
}

describe.each(stores)("4 worker processes on $name", (store) => {
  const dir = mkdtempSync(join(tmpdir(), "durabletask-multi-"));
  const logPath = join(dir, "activities.log");
  const workers: WorkerProcess[] = [];
  let backend: Backend | undefined;

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await backend?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`run ${orchestrations} orchestrations: each committed once, none lost, all 4 progress; a killed worker's leases are taken over`, {
    timeout: long ? 600_000 : 90_000,
  }, async () => {
    const startedAt = Date.now();
    backend = store.client(dir);
    await backend.start(); // creates the schema before the workers race for it
    const client = createTaskHubClient({ backend });
    const common = [...store.args(dir), "--log", logPath, "--lock-timeout-ms", `${lockTimeoutMs}`];
    common.push("--max-activities", `${maxActivities}`, "--activity-delay-ms", "200");
    for (let i = 0; i < workerCount; i++) {
      const stall = i === 0 ? ["--stall-after", `${stallAfter}`] : [];
      workers.push(await startWorker([...common, ...stall]));
    }
    const [victim, ...survivors] = workers;
    if (victim === undefined) throw new Error("no workers");
    for (let i = 0; i < orchestrations; i++) {
      const instanceId = chaosId(i);
      await client.scheduleNewOrchestration(chaosOrchestrationName, {
        instanceId,
        input: { index: i },
      });
      await client.raiseEvent(instanceId, approvalEvent, approvalFor(i));
    }
    const stalled = await firstStalled(logPath, victim.pid);
    await someResultCommitted(client, logPath, victim.pid);
    const killedAtMs = Date.now();
    await victim.kill();
    await waitForAll(client, orchestrations, long ? 480_000 : 60_000);
    for (const worker of survivors) expect(await worker.stop(), worker.stderr()).toBe(0);

    const stats = await verifyChaos(client, logPath, orchestrations);
    expect(checkTaskHubFile(store.file(dir)), "task hub invariants").toEqual([]);
    const executions = readActivityLog(logPath).executions;
    // The stalled call was taken over by another process, once its lease ran out.
    const calls = groupByCall(executions);
    const takeovers = (calls.get(`${stalled.instanceId} ${stalled.taskId}`) ?? []).filter(
      (e) => e.pid !== victim.pid,
    );
    expect(takeovers.length, "executions of the stalled call by other workers").toBe(1);
    const takenOverAfterMs = (takeovers[0]?.atMs ?? 0) - killedAtMs;
    // A lease renewed at half its time has at least half of it left when its holder dies.
    expect(takenOverAfterMs).toBeGreaterThanOrEqual(lockTimeoutMs / 2 - 50);
    // Only the killed worker's leased activities ran twice.
    expect(stats.reexecuted).toBeGreaterThanOrEqual(1);
    expect(stats.reexecuted).toBeLessThanOrEqual(maxActivities);
    // Every process committed results: calls executed by it alone were committed by it.
    const soleRuns = new Map<number, number>();
    for (const runs of calls.values()) {
      const [only] = runs;
      if (runs.length === 1 && only !== undefined) {
        soleRuns.set(only.pid, (soleRuns.get(only.pid) ?? 0) + 1);
      }
    }
    const perPid = JSON.stringify([...soleRuns]);
    for (const worker of workers) {
      expect(soleRuns.get(worker.pid) ?? 0, `${worker.pid} in ${perPid}`).toBeGreaterThan(0);
    }
    const survivorStats = survivors.map(statsOf);
    for (const s of survivorStats) {
      expect(s.episodes).toBeGreaterThan(0);
      expect(s.activities).toBeGreaterThan(0);
    }
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
    console.log(
      `${store.name}: ${orchestrations} orchestrations on ${workerCount} processes; ` +
        `activities committed alone per process ${workers.map((w) => soleRuns.get(w.pid) ?? 0).join("/")}; ` +
        `survivors' committed episodes/activities/lock-lost ` +
        `${survivorStats.map((s) => `${s.episodes}/${s.activities}/${s.lockLost}`).join(" ")}; ` +
        `stalled call taken over ${takenOverAfterMs} ms after the kill (lock timeout ${lockTimeoutMs} ms); ` +
        `${stats.reexecuted} re-executed; ${seconds} s`,
    );
  });
});
