import { setTimeout as sleep } from "node:timers/promises";
import { createTaskHubClient, type TaskHubClient } from "@durabletask/backend";
import { createSqliteBackend } from "@durabletask/sqlite";
import { checkTaskHubFile, createSeededRandom } from "@durabletask/testing";
import { expect } from "vitest";
import {
  approvalEvent,
  approvalFor,
  chaosOrchestrationName,
  expectedOutput,
} from "../src/chaos-orchestration.js";
import { groupByCall, readActivityLog } from "./activity-log.js";
import { completedTaskIds, countKinds, scheduledCalls } from "./history-check.js";

/** Instance ids of the chaos orchestrations start with this; children add `:child`. */
export const chaosPrefix = "chaos-";

/** The id of chaos orchestration `i`. */
export function chaosId(i: number): string {
  return `${chaosPrefix}${i}`;
}

/** A process the chaos run kills and restarts. */
export interface Killable {
  kill(): Promise<void>;
}

/** What {@link killRepeatedly} needs. */
export interface KillPlan {
  readonly client: TaskHubClient;
  readonly random: () => number;
  readonly logPath: string;
  readonly orchestrations: number;
  readonly kills: number;
  /** Starts (or restarts) the process to kill. */
  readonly start: () => Promise<Killable>;
}

/**
 * Lifetime k of the killed process schedules slice k of the orchestrations and approves slice
 * k - 1, at random moments over 0.3–1.5 s, and ends with a SIGKILL; so every kill lands amid
 * activities, timers, sub-orchestrations and event deliveries. A last lifetime approves the last
 * slice and is left running. Returns `completed/logged executions` at each kill.
 */
export async function killRepeatedly(plan: KillPlan): Promise<string[]> {
  const { client, random, kills } = plan;
  const schedule = (i: number) => () =>
    client.scheduleNewOrchestration(chaosOrchestrationName, {
      instanceId: chaosId(i),
      input: { index: i },
    });
  const approve = (i: number) => () => client.raiseEvent(chaosId(i), approvalEvent, approvalFor(i));
  const slices = slicesOf(shuffle(range(plan.orchestrations), random), kills + 1);
  const atKills: string[] = [];
  for (let k = 0; k < kills; k++) {
    const killed = await plan.start();
    const actions = [...(slices[k] ?? []).map(schedule), ...(slices[k - 1] ?? []).map(approve)];
    await runSpread(shuffle(actions, random), 300 + Math.floor(random() * 1200), random);
    const logged = readActivityLog(plan.logPath).executions.length;
    const done = await countCompleted(client);
    await killed.kill();
    atKills.push(`${done}/${logged}`);
  }
  await plan.start();
  const last = slices[kills] ?? [];
  await runSpread([...last.map(schedule), ...(slices[kills - 1] ?? []).map(approve)], 0, random);
  await runSpread(last.map(approve), 0, random);
  return atKills;
}

/** The size of a chaos run and its seed: `CHAOS_LONG=1` asks for 2000 orchestrations, 20 kills. */
export interface ChaosScale {
  readonly long: boolean;
  readonly orchestrations: number;
  readonly kills: number;
  /** `CHAOS_SEED=<n>` replays a kill plan (timings still vary). */
  readonly seed: number;
}

/** The scale of a run: `smoke` in CI, 2000 orchestrations and 20 kills with `CHAOS_LONG=1`. */
export function chaosScale(smoke: { orchestrations: number; kills: number }): ChaosScale {
  const long = process.env.CHAOS_LONG === "1";
  const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 1e9));
  return long ? { long, orchestrations: 2000, kills: 20, seed } : { long, ...smoke, seed };
}

/** What {@link runChaos} needs: the kill plan, without the client, on database `dbPath`. */
export interface ChaosRun extends Omit<KillPlan, "client" | "random"> {
  readonly dbPath: string;
  readonly seed: number;
  /** How long to wait for the last orchestrations after the last kill. */
  readonly waitMs: number;
  /** Stops what `start` started for good (SIGTERM), once everything finished. */
  readonly finish: () => Promise<void>;
}

/**
 * A whole chaos run through a client of its own on `dbPath`: {@link killRepeatedly}, wait until
 * every orchestration finished, `finish`, then {@link verifyChaos}. Returns the figures.
 */
export async function runChaos(
  run: ChaosRun,
): Promise<ChaosStats & { atKills: string[]; seconds: string }> {
  const startedAt = Date.now();
  const backend = createSqliteBackend({ path: run.dbPath });
  await backend.start();
  try {
    const client = createTaskHubClient({ backend });
    const atKills = await killRepeatedly({ ...run, client, random: createRandom(run.seed) });
    await waitForAll(client, run.orchestrations, run.waitMs);
    await run.finish();
    const stats = await verifyChaos(client, run.logPath, run.orchestrations);
    // The storage rules hold after every kill, not just the outcomes the client can see.
    expect(checkTaskHubFile(run.dbPath), "task hub invariants").toEqual([]);
    return { ...stats, atKills, seconds: ((Date.now() - startedAt) / 1000).toFixed(1) };
  } finally {
    await backend.stop();
  }
}

/** Activity figures of a verified run. */
export interface ChaosStats {
  readonly calls: number;
  readonly executions: number;
  readonly reexecuted: number;
  /** Most executions of any one call. */
  readonly maxPerCall: number;
}

/** Checks every orchestration and returns the activity execution counts. */
export async function verifyChaos(
  client: TaskHubClient,
  logPath: string,
  orchestrations: number,
): Promise<ChaosStats> {
  const { executions, torn } = readActivityLog(logPath);
  expect(torn).toEqual([]);
  const byCall = groupByCall(executions);
  let calls = 0;
  for (let i = 0; i < orchestrations; i++) {
    const id = chaosId(i);
    const parent = await verifyInstance(client, id, byCall, { activities: 3, parent: true });
    expect(JSON.parse(parent.output ?? "null"), `output of ${id}`).toEqual(expectedOutput(i));
    await verifyInstance(client, `${id}:child`, byCall, { activities: 2, parent: false });
    calls += 5;
  }
  // Every logged execution belongs to a call some committed history scheduled.
  expect(byCall.size, "activity calls in the log").toBe(calls);
  const maxPerCall = Math.max(0, ...[...byCall.values()].map((e) => e.length));
  return {
    calls,
    executions: executions.length,
    reexecuted: executions.length - calls,
    maxPerCall,
  };
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

/** Runs `actions` in order, pausing a random share of `spanMs` before each; then waits out the span. */
export async function runSpread(
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

/** How many chaos orchestrations (parents) reached a terminal status. */
export async function countCompleted(client: TaskHubClient): Promise<number> {
  let done = 0;
  let continuationToken: string | undefined;
  do {
    const page = await client.queryInstances({
      instanceIdPrefix: chaosPrefix,
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

/** Waits until `orchestrations` chaos orchestrations finished; throws after `timeoutMs`. */
export async function waitForAll(
  client: TaskHubClient,
  orchestrations: number,
  timeoutMs: number,
): Promise<void> {
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

/** Shuffles `items` in place with `random`. */
export function shuffle<T>(items: T[], random: () => number): T[] {
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

/** A seeded generator, so a kill plan can be replayed with CHAOS_SEED. */
export const createRandom = createSeededRandom;
