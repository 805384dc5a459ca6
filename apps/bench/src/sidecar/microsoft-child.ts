#!/usr/bin/env node
// Workload child of the `sidecar-microsoft` mode: the official @microsoft/durabletask-js 0.4.0
// worker and client against the sidecar, unmodified. The worker registers the three-step
// orchestration (generator style, as that SDK wants); the client is adapted to the BenchClient
// the workloads use, so the measured workload code is the same as in every other mode.
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
} from "@microsoft/durabletask-js";
import type { BenchClient } from "../workloads/bench-client.js";
import { threeStepsName } from "../workloads/three-steps.js";
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
  if (options.workload.name !== "W1" && options.workload.name !== "W1-seq") {
    throw new Error(`sidecar-microsoft: no orchestrations registered for ${options.workload.name}`);
  }
  const logger = new NoOpLogger();
  const hostAddress = options.address;
  const client = new TaskHubGrpcClient({ hostAddress, logger });
  await untilReachable(client);
  const worker = new TaskHubGrpcWorker({ hostAddress, logger, shutdownTimeoutMs: 5000 });
  worker.addNamedOrchestrator(threeStepsName, threeSteps);
  worker.addNamedActivity("BenchStep", benchStep);
  await worker.start();
  return {
    client: benchClientOf(client),
    async stop() {
      await Promise.all([worker.stop(), client.stop()]);
    },
  };
}

runWorkloadChild(connect);
