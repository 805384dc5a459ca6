import {
  assertDate,
  assertInstanceId,
  assertName,
  assertOptionalBoolean,
  eventRaisedEvent,
  executionResumedEvent,
  executionStartedEvent,
  executionSuspendedEvent,
  executionTerminatedEvent,
  invalidArgument,
  isTerminalStatus,
  type Logger,
  type OrchestrationMetadata,
  type OrchestrationStatus,
  optionsOf,
  serializePayload,
  silentLogger,
} from "@durabletask/api";
import type {
  Backend,
  InstanceIdPage,
  InstanceIdQuery,
  InstanceQuery,
  InstanceQueryPage,
  PurgeFilter,
  ReusePolicy,
} from "./backend.js";
import { purgeRecursively } from "./purge.js";
import { orchestratorNameOf, reusePolicyOf, tagsOf } from "./schedule-options.js";
import { traceCreateOrchestration } from "./tracing.js";
import { type WaitOptions, waitForInstance } from "./wait-for-instance.js";

const isStarted = (status: OrchestrationStatus): boolean => status !== "PENDING";

/** Options of {@link TaskHubClient.scheduleNewOrchestration}. */
export interface ScheduleOptions {
  /** Default: a random UUID. */
  readonly instanceId?: string | undefined;
  /** JSON-serializable input. */
  readonly input?: unknown;
  /** Do not run the first episode before this time. */
  readonly startAt?: Date | undefined;
  readonly reusePolicy?: ReusePolicy | undefined;
  readonly version?: string | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
}

/** Options of {@link TaskHubClient.terminateOrchestration}. */
export interface TerminateOptions {
  /** JSON-serializable output recorded as the instance's output. */
  readonly output?: unknown;
  /** Terminate sub-orchestrations too; default true. */
  readonly recursive?: boolean | undefined;
}

/** Manages orchestration instances: the in-process client over a {@link Backend}. */
export interface TaskHubClient {
  /** Schedules a new instance and returns its id. `InstanceExists` per the reuse policy. */
  scheduleNewOrchestration(
    orchestrator: string | { name: string },
    options?: ScheduleOptions,
  ): Promise<string>;
  /** The instance's metadata (payloads unless `fetchPayloads: false`), or undefined. */
  getOrchestrationState(
    instanceId: string,
    options?: { readonly fetchPayloads?: boolean | undefined },
  ): Promise<OrchestrationMetadata | undefined>;
  /** Waits until the instance has started (left PENDING). `InstanceNotFound`, `Timeout`, `Aborted`. */
  waitForOrchestrationStart(
    instanceId: string,
    options?: WaitOptions,
  ): Promise<OrchestrationMetadata>;
  /** Waits until the instance is COMPLETED, FAILED or TERMINATED. `InstanceNotFound`, `Timeout`, `Aborted`. */
  waitForOrchestrationCompletion(
    instanceId: string,
    options?: WaitOptions,
  ): Promise<OrchestrationMetadata>;
  /** Delivers an external event. `InstanceNotFound` for unknown ids; ignored by terminal instances. */
  raiseEvent(instanceId: string, eventName: string, data?: unknown): Promise<void>;
  /** Terminates a running or suspended instance (and, by default, its sub-orchestrations). */
  terminateOrchestration(instanceId: string, options?: TerminateOptions): Promise<void>;
  suspendOrchestration(instanceId: string, reason?: string): Promise<void>;
  resumeOrchestration(instanceId: string, reason?: string): Promise<void>;
  /**
   * Deletes a terminal instance (and with `recursive`, its sub-orchestrations); returns how many
   * instances were deleted. `InstanceNotFound`, `NotCompleted`.
   */
  purgeOrchestrationState(
    instanceId: string,
    options?: { readonly recursive?: boolean | undefined },
  ): Promise<number>;
  /** Deletes terminal instances matching `filter`; returns how many. */
  purgeInstances(filter: PurgeFilter): Promise<number>;
  /** One page of instances matching `query`. */
  queryInstances(query?: InstanceQuery): Promise<InstanceQueryPage>;
  /** One page of instance ids matching `query`. */
  listInstanceIds(query?: InstanceIdQuery): Promise<InstanceIdPage>;
  /** The instance's committed history. `InstanceNotFound`. */
  getOrchestrationHistory(instanceId: string): ReturnType<Backend["getOrchestrationHistory"]>;
}

/** Options of {@link createTaskHubClient}. */
export interface TaskHubClientOptions {
  readonly backend: Backend;
  readonly logger?: Logger | undefined;
}

/**
 * Creates the in-process client. It talks to the backend directly; waits are woken by the
 * backend's change notifications and fall back to polling for changes made by other processes.
 */
export function createTaskHubClient(options: TaskHubClientOptions): TaskHubClient {
  const { backend } = options;
  const logger = options.logger ?? silentLogger;
  const now = Date.now;
  return {
    async scheduleNewOrchestration(orchestrator, options) {
      const opts = optionsOf(options);
      const name = orchestratorNameOf(orchestrator);
      const instanceId = opts.instanceId ?? crypto.randomUUID();
      assertInstanceId(instanceId, "instanceId");
      if (opts.startAt !== undefined) assertDate(opts.startAt, "startAt");
      if (opts.version !== undefined) assertName(opts.version, "version");
      const reusePolicy = reusePolicyOf(opts.reusePolicy);
      const tags = tagsOf(opts.tags);
      const input = serializePayload(opts.input, "input");
      await traceCreateOrchestration(name, opts.version, instanceId, undefined, (trace) => {
        const start = executionStartedEvent(
          {
            name,
            instanceId,
            executionId: crypto.randomUUID(),
            input,
            version: opts.version,
            scheduledStartMs: opts.startAt?.getTime(),
            parentTraceContext: trace,
            tags,
          },
          now(),
        );
        return backend.createOrchestrationInstance(start, { reusePolicy });
      });
      logger.debug("scheduled orchestration", { instanceId, name });
      return instanceId;
    },
    async getOrchestrationState(instanceId, options) {
      const opts = optionsOf(options);
      assertInstanceId(instanceId);
      assertOptionalBoolean(opts.fetchPayloads, "fetchPayloads");
      return backend.getOrchestrationMetadata(instanceId, {
        fetchPayloads: opts.fetchPayloads ?? true,
      });
    },
    waitForOrchestrationStart: (instanceId, opts) =>
      waitForInstance(backend, instanceId, (m) => isStarted(m.runtimeStatus), opts, isStarted),
    waitForOrchestrationCompletion: (instanceId, opts) =>
      waitForInstance(
        backend,
        instanceId,
        (m) => isTerminalStatus(m.runtimeStatus),
        opts,
        isTerminalStatus,
      ),
    async raiseEvent(instanceId, eventName, data) {
      assertInstanceId(instanceId);
      assertName(eventName, "eventName");
      const input = serializePayload(data, "data");
      await backend.addNewOrchestrationEvent(instanceId, eventRaisedEvent(now(), eventName, input));
    },
    async terminateOrchestration(instanceId, options) {
      const opts = optionsOf(options);
      assertInstanceId(instanceId);
      const output = serializePayload(opts.output, "output");
      const recursive = opts.recursive ?? true;
      if (typeof recursive !== "boolean") throw invalidArgument("recursive", "must be a boolean");
      await backend.addNewOrchestrationEvent(
        instanceId,
        executionTerminatedEvent(now(), output, recursive),
      );
    },
    async suspendOrchestration(instanceId, reason) {
      assertInstanceId(instanceId);
      if (reason !== undefined && typeof reason !== "string")
        throw invalidArgument("reason", "must be a string");
      await backend.addNewOrchestrationEvent(instanceId, executionSuspendedEvent(now(), reason));
    },
    async resumeOrchestration(instanceId, reason) {
      assertInstanceId(instanceId);
      if (reason !== undefined && typeof reason !== "string")
        throw invalidArgument("reason", "must be a string");
      await backend.addNewOrchestrationEvent(instanceId, executionResumedEvent(now(), reason));
    },
    async purgeOrchestrationState(instanceId, options) {
      const opts = optionsOf(options);
      assertInstanceId(instanceId);
      assertOptionalBoolean(opts.recursive, "recursive");
      if (!opts.recursive) {
        await backend.purgeOrchestrationState(instanceId);
        return 1;
      }
      return purgeRecursively(backend, instanceId);
    },
    purgeInstances: async (filter) => backend.purgeInstances(filter),
    async queryInstances(query) {
      const q = optionsOf(query, "query");
      assertOptionalBoolean(q.fetchPayloads, "fetchPayloads");
      return backend.queryInstances(q);
    },
    listInstanceIds: async (query) => backend.listInstanceIds(optionsOf(query, "query")),
    async getOrchestrationHistory(instanceId) {
      assertInstanceId(instanceId);
      return backend.getOrchestrationHistory(instanceId);
    },
  };
}
