import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Backend, createTaskHubClient, type TaskHubClient } from "@durabletask/backend";
import { createSqliteBackend } from "@durabletask/sqlite";
import { afterAll, describe, expect, it } from "vitest";
import {
  approvalEvent,
  approvalFor,
  chaosOrchestrationName,
  expectedOutput,
} from "../src/chaos-orchestration.js";
import { groupByCall, readActivityLog } from "./activity-log.js";
import { completedTaskIds, countKinds, scheduledCalls } from "./history-check.js";
import { startWorker, type WorkerProcess } from "./worker-process.js";

// CHAOS_LONG=1: 2000 orchestrations and 20 kills (minutes). CHAOS_SEED=<n> replays a kill plan.
const long = process.env.CHAOS_LONG === "1";
const orchestrations = long ? 2000 : 50;
const kills = long ? 20 : 5;
const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 1e9));
const maxActivities = 10;
const lockTimeoutMs = 1000;
const prefix = "chaos-";

describe("crash recovery of a SQLite worker process", () => {
  const dir = mkdtempSync(join(tmpdir(), "durabletask-chaos-"));
  const dbPath = join(dir, "chaos.sqlite3");
  const logPath = join(dir, "activities.log");
  const workerArgs = ["--db", dbPath, "--log", logPath];
  workerArgs.push("--lock-timeout-ms", `${lockTimeoutMs}`, "--max-activities", `${maxActivities}`);
  let worker: WorkerProcess | undefined;
  let backend: Backend | undefined;

  afterAll(async () => {
    await worker?.kill();
    await backend?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`completes ${orchestrations} orchestrations exactly once across ${kills} SIGKILLs of the worker`, {
    timeout: long ? 900_000 : 90_000,
  }, async () => {
    const random = createRandom(seed);
    const startedAt = Date.now();
    backend = createSqliteBackend({ path: dbPath });
    await backend.start();
    const client = createTaskHubClient({ backend });
    const atKills = await killRepeatedly(client, random, logPath, async () => {
      worker = await startWorker(workerArgs);
      return worker;
    });
    await waitForAll(client, long ? 600_000 : 45_000);
    expect(await worker?.stop()).toBe(0);

    const stats = await verify(client, logPath);
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
    console.log(
      `chaos seed=${seed}: ${orchestrations} orchestrations, ${kills} kills ` +
        `(completed/logged at each kill: ${atKills.join(" ")}), ${stats.calls} activity calls, ` +
        `${stats.executions} executions, ${stats.reexecuted} re-executed, ${seconds} s`,
    );
    // Each kill can lose at most the activities in flight in the killed worker.
    expect(stats.reexecuted).toBeLessThanOrEqual(kills * maxActivities);
  });
});

/**
 * Worker lifetime k schedules slice k of the orchestrations and approves slice k - 1, at random
 * moments over 0.3–1.5 s, and ends with a SIGKILL; so every kill lands amid activities, timers,
 * sub-orchestrations and event deliveries. A last lifetime approves the last slice and is left
 * running. Returns `completed/logged executions` at each kill.
 */
async function killRepeatedly(
  client: TaskHubClient,
  random: () => number,
  logPath: string,
  start: () => Promise<WorkerProcess>,
): Promise<string[]> {
  const schedule = (i: number) => () =>
    client.scheduleNewOrchestration(chaosOrchestrationName, {
      instanceId: id(i),
      input: { index: i },
    });
  const approve = (i: number) => () => client.raiseEvent(id(i), approvalEvent, approvalFor(i));
  const slices = slicesOf(shuffle(range(orchestrations), random), kills + 1);
  const atKills: string[] = [];
  for (let k = 0; k < kills; k++) {
    const worker = await start();
    const actions = [...(slices[k] ?? []).map(schedule), ...(slices[k - 1] ?? []).map(approve)];
    await runSpread(shuffle(actions, random), 300 + Math.floor(random() * 1200), random);
    const logged = readActivityLog(logPath).executions.length;
    const done = await countCompleted(client);
    await worker.kill();
    atKills.push(`${done}/${logged}`);
  }
  await start();
  const last = slices[kills] ?? [];
  await runSpread([...last.map(schedule), ...(slices[kills - 1] ?? []).map(approve)], 0, random);
  await runSpread(last.map(approve), 0, random);
  return atKills;
}

/** Checks every orchestration and returns the activity execution counts. */
async function verify(client: TaskHubClient, logPath: string) {
  const { executions, torn } = readActivityLog(logPath);
  expect(torn).toEqual([]);
  const byCall = groupByCall(executions);
  let calls = 0;
  for (let i = 0; i < orchestrations; i++) {
    const parent = await verifyInstance(client, id(i), byCall, { activities: 3, parent: true });
    expect(JSON.parse(parent.output ?? "null"), `output of ${id(i)}`).toEqual(expectedOutput(i));
    await verifyInstance(client, `${id(i)}:child`, byCall, { activities: 2, parent: false });
    calls += 5;
  }
  // Every logged execution belongs to a call some committed history scheduled.
  expect(byCall.size, "activity calls in the log").toBe(calls);
  return { calls, executions: executions.length, reexecuted: executions.length - calls };
}

/**
 * One instance: COMPLETED once (one start, one completion in history), every scheduled activity
 * completed exactly once in history and executed at least once according to the log.
 */
async function verifyInstance(
  client: TaskHubClient,
  instanceId: string,
  byCall: Map<string, unknown[]>,
  expected: { activities: number; parent: boolean },
): Promise<{ output: string | undefined }> {
  const metadata = await client.getOrchestrationState(instanceId);
  expect(metadata?.runtimeStatus, `status of ${instanceId}`).toBe("COMPLETED");
  const history = await client.getOrchestrationHistory(instanceId);
  const kinds = countKinds(history);
  const once = { executionStarted: 1, executionCompleted: 1 };
  const parentOnly = expected.parent
    ? { timerCreated: 1, timerFired: 1, eventRaised: 1, subOrchestrationInstanceCreated: 1 }
    : {};
  expect(kinds, `history of ${instanceId}`).toMatchObject({ ...once, ...parentOnly });
  const scheduled = scheduledCalls(history);
  expect(scheduled).toHaveLength(expected.activities);
  const completed = completedTaskIds(history).sort((a, b) => a - b);
  expect(completed, `completed tasks of ${instanceId}`).toEqual(scheduled.map((c) => c.taskId));
  for (const call of scheduled) {
    const logged = byCall.get(`${instanceId} ${call.taskId}`) ?? [];
    expect(logged.length, `executions of ${instanceId} task ${call.taskId}`).toBeGreaterThan(0);
  }
  return { output: metadata?.serializedOutput };
}

function id(i: number): string {
  return `${prefix}${i}`;
}

/** Runs `actions` in order, pausing a random share of `spanMs` before each; then waits out the span. */
async function runSpread(
  actions: readonly (() => Promise<unknown>)[],
  spanMs: number,
  random: () => number,
): Promise<void> {
  const deadline = Date.now() + spanMs;
  for (const action of actions) {
    await sleep(Math.floor((random() * spanMs) / Math.max(1, actions.length)));
    await action();
  }
  await sleep(Math.max(0, deadline - Date.now()));
}

async function countCompleted(client: TaskHubClient): Promise<number> {
  let done = 0;
  let continuationToken: string | undefined;
  do {
    const page = await client.queryInstances({
      instanceIdPrefix: prefix,
      statuses: ["COMPLETED", "FAILED", "TERMINATED"],
      pageSize: 1000,
      continuationToken,
      fetchPayloads: false,
    });
    done += page.instances.filter((m) => !m.instanceId.endsWith(":child")).length;
    continuationToken = page.continuationToken;
  } while (continuationToken !== undefined);
  return done;
}

async function waitForAll(client: TaskHubClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let done = await countCompleted(client);
  while (done < orchestrations) {
    if (Date.now() > deadline) {
      throw new Error(
        `only ${done} of ${orchestrations} orchestrations finished in ${timeoutMs} ms`,
      );
    }
    await sleep(200);
    done = await countCompleted(client);
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

function slicesOf<T>(items: readonly T[], count: number): T[][] {
  const size = Math.ceil(items.length / count);
  return Array.from({ length: count }, (_, k) => items.slice(k * size, (k + 1) * size));
}

/** mulberry32: a seeded generator, so a kill plan can be replayed with CHAOS_SEED. */
function createRandom(seedValue: number): () => number {
  let state = seedValue >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
