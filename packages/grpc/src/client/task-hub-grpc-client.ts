import {
  assertInstanceId,
  assertName,
  assertOptionalBoolean,
  DurableTaskError,
  describe,
  invalidArgument,
  type Logger,
  optionsOf,
  serializePayload,
  silentLogger,
} from "@durabletask/api";
import type { HistoryEvent } from "@durabletask/api/proto";
import type { TaskHubClient } from "@durabletask/backend";
import { createInstanceRequest } from "./create-instance-request.js";
import { longPoll } from "./long-poll.js";
import { fromOrchestrationState } from "./orchestration-state.js";
import {
  instanceIdQueryRequest,
  instanceQueryRequest,
  purgeFilterRequest,
} from "./query-requests.js";
import {
  createSidecarStub,
  type SidecarConnectionOptions,
  type SidecarStub,
} from "./sidecar-stub.js";

/** Options of {@link createTaskHubGrpcClient}. */
export interface TaskHubGrpcClientOptions extends SidecarConnectionOptions {
  readonly logger?: Logger | undefined;
}

/** A {@link TaskHubClient} that manages instances through a sidecar over gRPC. */
export interface TaskHubGrpcClient extends TaskHubClient {
  /**
   * Closes the channel. Calls in flight (waits included) and later calls reject with
   * `NotInitialized`. Idempotent.
   */
  close(): void;
}

/**
 * Creates a {@link TaskHubClient} that talks to a Durable Task sidecar (`TaskHubSidecarService`)
 * instead of a backend: the same methods, validation and {@link DurableTaskError} codes as the
 * in-process client, with gRPC statuses mapped back to codes and the server's messages kept.
 *
 * - Payloads are JSON text, as in process. `scheduleNewOrchestration` sends
 *   `scheduledStartTimestamp` only with `startAt`. Reuse policies: `"terminate"` is sent as
 *   `orchestrationIdReusePolicy`; `"error"` is the sidecar's default; `"ignore"` is done here:
 *   an `InstanceExists` answer whose existing instance has a listed status resolves with the id.
 * - The waits are long polls: `timeoutMs` is the call's deadline (`Timeout`), `signal` cancels
 *   it (`Aborted`), and a dropped connection (UNAVAILABLE) re-issues the call until the
 *   deadline. Other calls are not retried (they are not all idempotent).
 * - The channel connects lazily, accepts messages of any size, and is closed by `close()`.
 *
 * Throws `InvalidArgument` naming a bad option.
 *
 * @example
 * ```ts
 * const client = createTaskHubGrpcClient({ address: "localhost:4001" });
 * const id = await client.scheduleNewOrchestration("hello", { input: "Tokyo" });
 * const done = await client.waitForOrchestrationCompletion(id, { timeoutMs: 30_000 });
 * client.close();
 * ```
 */
export function createTaskHubGrpcClient(options: TaskHubGrpcClientOptions = {}): TaskHubGrpcClient {
  const logger = options.logger ?? silentLogger;
  const stub = createSidecarStub(options);
  return {
    async scheduleNewOrchestration(orchestrator, options) {
      const opts = optionsOf(options);
      const plan = createInstanceRequest(orchestrator, opts);
      try {
        const response = await stub.unary("startInstance", plan.request);
        logger.debug("scheduled orchestration", { instanceId: response.instanceId });
        return response.instanceId || plan.instanceId;
      } catch (error) {
        if (plan.ignoreStatuses === undefined || !DurableTaskError.is(error, "InstanceExists")) {
          throw error;
        }
        const existing = await getState(stub, plan.instanceId, false);
        if (existing === undefined || !plan.ignoreStatuses.includes(existing.runtimeStatus)) {
          throw error;
        }
        return plan.instanceId;
      }
    },
    async getOrchestrationState(instanceId, options) {
      const opts = optionsOf(options);
      assertInstanceId(instanceId);
      assertOptionalBoolean(opts.fetchPayloads, "fetchPayloads");
      return getState(stub, instanceId, opts.fetchPayloads ?? true);
    },
    waitForOrchestrationStart: (instanceId, opts) =>
      longPoll(stub, "waitForInstanceStart", instanceId, opts, logger),
    waitForOrchestrationCompletion: (instanceId, opts) =>
      longPoll(stub, "waitForInstanceCompletion", instanceId, opts, logger),
    async raiseEvent(instanceId, eventName, data) {
      assertInstanceId(instanceId);
      assertName(eventName, "eventName");
      const input = serializePayload(data, "data");
      await stub.unary("raiseEvent", { instanceId, name: eventName, input });
    },
    async terminateOrchestration(instanceId, options) {
      const opts = optionsOf(options);
      assertInstanceId(instanceId);
      const output = serializePayload(opts.output, "output");
      const recursive = opts.recursive ?? true;
      if (typeof recursive !== "boolean") throw invalidArgument("recursive", "must be a boolean");
      await stub.unary("terminateInstance", { instanceId, output, recursive });
    },
    async suspendOrchestration(instanceId, reason) {
      assertInstanceId(instanceId);
      await stub.unary("suspendInstance", { instanceId, reason: reasonOf(reason) });
    },
    async resumeOrchestration(instanceId, reason) {
      assertInstanceId(instanceId);
      await stub.unary("resumeInstance", { instanceId, reason: reasonOf(reason) });
    },
    async purgeOrchestrationState(instanceId, options) {
      const opts = optionsOf(options);
      assertInstanceId(instanceId);
      assertOptionalBoolean(opts.recursive, "recursive");
      const response = await stub.unary("purgeInstances", {
        request: { case: "instanceId", value: instanceId },
        recursive: Boolean(opts.recursive),
      });
      // The sidecar reports an unknown instance as "0 deleted"; a successful purge deletes at
      // least the instance itself, so 0 means what the in-process client reports as not found.
      if (response.deletedInstanceCount === 0) {
        throw new DurableTaskError(
          "InstanceNotFound",
          `No orchestration instance with id '${instanceId}'.`,
        );
      }
      return response.deletedInstanceCount;
    },
    async purgeInstances(filter) {
      const response = await stub.unary("purgeInstances", purgeFilterRequest(filter));
      return response.deletedInstanceCount;
    },
    async queryInstances(query = {}) {
      const response = await stub.unary("queryInstances", instanceQueryRequest(query));
      return {
        instances: response.orchestrationState.map(fromOrchestrationState),
        continuationToken: response.continuationToken || undefined,
      };
    },
    async listInstanceIds(query = {}) {
      const response = await stub.unary("listInstanceIds", instanceIdQueryRequest(query));
      return {
        instanceIds: response.instanceIds,
        lastInstanceKey: response.lastInstanceKey || undefined,
      };
    },
    async getOrchestrationHistory(instanceId) {
      assertInstanceId(instanceId);
      const chunks = await stub.collect("streamInstanceHistory", { instanceId });
      return chunks.flatMap((chunk): HistoryEvent[] => chunk.events);
    },
    close: () => stub.close(),
  };
}

async function getState(stub: SidecarStub, instanceId: string, fetchPayloads: boolean) {
  const response = await stub.unary("getInstance", {
    instanceId,
    getInputsAndOutputs: fetchPayloads,
  });
  if (!response.exists || response.orchestrationState === undefined) return undefined;
  return fromOrchestrationState(response.orchestrationState);
}

function reasonOf(reason: unknown): string | undefined {
  if (reason !== undefined && typeof reason !== "string") {
    throw invalidArgument("reason", `must be a string, got ${describe(reason)}`);
  }
  return reason;
}
