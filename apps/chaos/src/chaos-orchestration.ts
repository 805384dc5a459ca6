import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { ActivityContext, OrchestrationContext, TaskRegistry } from "@durabletask/task";

/** The orchestrator the chaos test schedules. */
export const chaosOrchestrationName = "ChaosOrchestration";

/** The external event every chaos orchestration waits for. */
export const approvalEvent = "approval";

/** Input of {@link chaosOrchestration}. */
export interface ChaosInput {
  readonly index: number;
}

/** Output of {@link chaosOrchestration}: everything it did, derived from its input. */
export interface ChaosOutput {
  readonly index: number;
  readonly first: string;
  readonly children: readonly string[];
  readonly approval: string;
  readonly last: readonly string[];
}

/** Settings of the chaos worker's orchestrations and activities. */
export interface ChaosSettings {
  /** The activity log every activity execution appends a line to. */
  readonly logPath: string;
  /** Longest random pause of an activity after it logged, in ms (widens the crash window). */
  readonly activityDelayMs: number;
  /** The orchestration's durable timer, in ms. */
  readonly timerMs: number;
  /**
   * After this many activity executions, later ones log their line and then never finish (until
   * their signal fires): the process is stuck with leased work. Default: never.
   */
  readonly stallAfter?: number | undefined;
  /**
   * The first activity execution blocks the event loop for this long after it logged (no timer,
   * no lease renewal runs meanwhile): a stuck process. Default 0.
   */
  readonly blockFirstMs?: number | undefined;
}

/** The data the test raises as `approval` for orchestration `index`. */
export function approvalFor(index: number): string {
  return `approved-${index}`;
}

/** The output orchestration `index` must end with. */
export function expectedOutput(index: number): ChaosOutput {
  return {
    index,
    first: `first-${index}:done`,
    children: [`child-1-${index}:done`, `child-2-${index}:done`],
    approval: approvalFor(index),
    last: [`last-a-${index}:done`, `last-b-${index}:done`],
  };
}

/**
 * Registers the chaos orchestration: an activity, a durable timer, a sub-orchestration of two
 * activities, a wait for the `approval` event, then two activities in parallel. Every activity
 * execution appends (and fsyncs) a line `<instanceId> <taskId> <value> <pid> <epochMs>` to the
 * log, so
 * the test can count executions per activity call.
 */
export function registerChaos(registry: TaskRegistry, settings: ChaosSettings): void {
  const { timerMs } = settings;
  registry
    .addActivity("Record", createRecordActivity(settings))
    .addOrchestrator("ChaosChild", async (ctx: OrchestrationContext, input: ChaosInput) => {
      const one = await ctx.callActivity<string>("Record", `child-1-${input.index}`);
      const two = await ctx.callActivity<string>("Record", `child-2-${input.index}`);
      return [one, two];
    })
    .addOrchestrator(
      chaosOrchestrationName,
      async (ctx: OrchestrationContext, input: ChaosInput) => {
        const { index } = input;
        const first = await ctx.callActivity<string>("Record", `first-${index}`);
        await ctx.createTimer(timerMs);
        const children = await ctx.callSubOrchestrator<string[]>("ChaosChild", input, {
          instanceId: `${ctx.instanceId}:child`,
        });
        const approval = await ctx.waitForExternalEvent<string>(approvalEvent);
        const last = await Promise.all([
          ctx.callActivity<string>("Record", `last-a-${index}`),
          ctx.callActivity<string>("Record", `last-b-${index}`),
        ]);
        const output: ChaosOutput = { index, first, children, approval, last };
        return output;
      },
    );
}

function createRecordActivity(settings: ChaosSettings) {
  let executions = 0;
  return async (ctx: ActivityContext, value: string): Promise<string> => {
    executions++;
    appendDurably(
      settings.logPath,
      `${ctx.instanceId} ${ctx.taskId} ${value} ${process.pid} ${Date.now()}\n`,
    );
    // The pause comes after the log line: a kill inside it makes a logged execution whose result
    // is never committed, which must be re-executed (and is then counted).
    if (executions === 1) blockEventLoop(settings.blockFirstMs ?? 0);
    const stalled = executions > (settings.stallAfter ?? Number.POSITIVE_INFINITY);
    const pauseMs = stalled ? 2 ** 31 - 1 : Math.floor(Math.random() * settings.activityDelayMs);
    await sleep(pauseMs, undefined, { signal: ctx.signal });
    return `${value}:done`;
  };
}

function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // Busy on purpose: nothing else in this process runs meanwhile.
  }
}

/** Appends `line` with one write(2) and fsyncs it, so a kill never leaves half a line. */
export function appendDurably(path: string, line: string): void {
  const fd = openSync(path, "a");
  try {
    writeSync(fd, line);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
