#!/usr/bin/env node
// Workload child of the `sidecar-microsoft` mode: the official @microsoft/durabletask-js 0.4.0
// worker and client against the sidecar, unmodified. The worker registers the three-step
// orchestration and the selected workload's own (each written again in the generator style that
// SDK wants, doing what the workload's orchestration does); the client is adapted to the
// BenchClient the workloads use, so the measured workload code is the same as in every other mode.
// Started by the benchmark (see workload-child.ts); not meant to be run by hand.
//
// This process loads no other Durable Task SDK (two google-protobuf based SDKs cannot share a
// process); our own packages here are only the workloads' plain helpers.
import type { OrchestrationStatus } from "@durabletask/api";
import {
  type ActivityContext,
  OrchestrationStatus as MicrosoftStatus,
  NoOpLogger,
  type OrchestrationContext,
  PurgeInstanceCriteria,
  type Task,
  TaskHubGrpcClient,
  TaskHubGrpcWorker,
  whenAll,
} from "@microsoft/durabletask-js";
import type { BenchClient } from "../workloads/bench-client.js";
import { threeStepsName } from "../workloads/three-steps.js";
import { fanOutItemName, fanOutName, sumOf } from "../workloads/w2.js";
import {
  type SequenceOutput,
  sequenceName,
  sequenceOutput,
  stampName,
  stampNow,
} from "../workloads/w3.js";
import { eventName, waiterName } from "../workloads/w4.js";
import { timerName } from "../workloads/w5.js";
import { type ChildEngine, type ChildOptions, runWorkloadChild } from "./workload-child.js";

/**
 * Our status names → the SDK's enum (the same names). Statuses the SDK has no name for
 * (CANCELED, which no benchmark instance reaches) are left out.
 */
function toMicrosoft(statuses: readonly OrchestrationStatus[]): MicrosoftStatus[] {
  const byName = MicrosoftStatus as unknown as Record<string, MicrosoftStatus | undefined>;
  return statuses.flatMap((status) => byName[status] ?? []);
}

/** The SDK's enum → our status names. */
function fromMicrosoft(status: MicrosoftStatus): OrchestrationStatus {
  return MicrosoftStatus[status] as OrchestrationStatus;
}

/** The official client as the workloads' {@link BenchClient}. */
function benchClientOf(client: TaskHubGrpcClient): BenchClient {
  return {
    scheduleNewOrchestration: (orchestrator, { instanceId, input }) =>
      client.scheduleNewOrchestration(orchestrator, input, { instanceId }),
    // The SDK's timeout is in seconds and only client-side.
    waitForOrchestrationCompletion: (instanceId, { timeoutMs, fetchPayloads }) =>
      client.waitForOrchestrationCompletion(instanceId, fetchPayloads, timeoutMs / 1000),
    raiseEvent: (instanceId, eventName, data) =>
      client.raiseOrchestrationEvent(instanceId, eventName, data),
    async listInstanceIds({ statuses, pageSize, lastInstanceKey }) {
      const page = await client.listInstanceIds({
        runtimeStatus: toMicrosoft(statuses),
        pageSize,
        lastInstanceKey,
      });
      return { instanceIds: page.values, lastInstanceKey: page.continuationToken || undefined };
    },
    async queryInstances({ instanceIdPrefix, pageSize, continuationToken, fetchPayloads }) {
      const pages = client
        .getAllInstances({ instanceIdPrefix, pageSize, fetchInputsAndOutputs: fetchPayloads })
        .asPages(continuationToken, pageSize);
      for await (const page of pages) {
        return {
          instances: page.values.map((state) => ({
            instanceId: state.instanceId,
            runtimeStatus: fromMicrosoft(state.runtimeStatus),
            serializedOutput: state.serializedOutput,
          })),
          continuationToken: page.continuationToken || undefined,
        };
      }
      return { instances: [] };
    },
    // W2 and W3 count episodes: the SDK names event types in PascalCase, ours in camelCase.
    async getOrchestrationHistory(instanceId) {
      const history = await client.getOrchestrationHistory(instanceId);
      return history.map((event) => ({
        eventType: { case: event.type.charAt(0).toLowerCase() + event.type.slice(1) },
      }));
    },
    async purgeInstances({ statuses }) {
      const criteria = new PurgeInstanceCriteria();
      criteria.setCreatedTimeFrom(new Date(0));
      criteria.setCreatedTimeTo(new Date(Date.now() + 60_000));
      criteria.setRuntimeStatusList(toMicrosoft(statuses));
      const result = await client.purgeOrchestration(criteria);
      return result?.deletedInstanceCount ?? 0;
    },
  };
}

/**
 * The three-step orchestration of W1 and W1-seq (three-steps.ts), in the SDK's style: it only
 * replays orchestrators that return an async generator.
 */
async function* threeSteps(
  ctx: OrchestrationContext,
  input: string,
): AsyncGenerator<Task<string>, string, string> {
  const first = yield ctx.callActivity("BenchStep", input);
  const second = yield ctx.callActivity("BenchStep", first);
  return yield ctx.callActivity("BenchStep", second);
}

function benchStep(_ctx: ActivityContext, value: string): string {
  return `${value}+`;
}

/** W2's fan-out: `count` activities at once, joined; returns the sum of their results. */
async function* fanOut(
  ctx: OrchestrationContext,
  input: string,
): AsyncGenerator<Task<number[]>, number, number[]> {
  const tasks = Array.from({ length: Number(input) }, (_, i) =>
    ctx.callActivity<number, number>(fanOutItemName, i),
  );
  return sumOf(yield whenAll(tasks));
}

/** W3's sequence: `count` activities one after another, each returning when it ran. */
async function* sequence(
  ctx: OrchestrationContext,
  input: string,
): AsyncGenerator<Task<number>, SequenceOutput, number> {
  const stamps: number[] = [];
  for (let i = 0; i < Number(input); i++) {
    stamps.push(yield ctx.callActivity<number, number>(stampName, i));
  }
  return sequenceOutput(stamps);
}

/** W4's waiter: the data of the external event, with a mark. */
async function* waitForGo(
  ctx: OrchestrationContext,
  _input: string,
): AsyncGenerator<Task<string>, string, string> {
  const data = yield ctx.waitForExternalEvent(eventName);
  return `${data}!`;
}

/** W5's timer: its lateness, from history timestamps (as the workload's own orchestrator). */
async function* timerLateness(
  ctx: OrchestrationContext,
  input: string,
): AsyncGenerator<Task<unknown>, number, unknown> {
  const fireAtMs = ctx.currentUtcDateTime.getTime() + Number(input);
  yield ctx.createTimer(new Date(fireAtMs));
  return ctx.currentUtcDateTime.getTime() - fireAtMs;
}

/** Registers the orchestrations (and activities) of `workload` beside the three-step one. */
function registerWorkload(worker: TaskHubGrpcWorker, workload: string): void {
  worker.addNamedOrchestrator(threeStepsName, threeSteps);
  worker.addNamedActivity("BenchStep", benchStep);
  switch (workload) {
    case "W1":
    case "W1-seq":
      return;
    case "W2":
      worker.addNamedOrchestrator(fanOutName, fanOut);
      worker.addNamedActivity(fanOutItemName, (_ctx: ActivityContext, i: number) => i);
      return;
    case "W3":
      worker.addNamedOrchestrator(sequenceName, sequence);
      worker.addNamedActivity(stampName, stampNow);
      return;
    case "W4":
      worker.addNamedOrchestrator(waiterName, waitForGo);
      return;
    case "W5":
      worker.addNamedOrchestrator(timerName, timerLateness);
      return;
    default:
      throw new Error(`sidecar-microsoft: no orchestrations registered for ${workload}`);
  }
}

/** Retries a cheap call until the sidecar answers: the SDK worker never retries its first Hello. */
async function untilReachable(client: TaskHubGrpcClient): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.getOrchestrationState("bench-probe", false);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function connect(options: ChildOptions): Promise<ChildEngine> {
  const logger = new NoOpLogger();
  const hostAddress = options.address;
  const client = new TaskHubGrpcClient({ hostAddress, logger });
  await untilReachable(client);
  const worker = new TaskHubGrpcWorker({ hostAddress, logger, shutdownTimeoutMs: 5000 });
  registerWorkload(worker, options.workload.name);
  await worker.start();
  return {
    client: benchClientOf(client),
    async stop() {
      await Promise.all([worker.stop(), client.stop()]);
    },
  };
}

runWorkloadChild(connect);
