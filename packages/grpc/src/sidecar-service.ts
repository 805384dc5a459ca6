import { create } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import {
  assertInstanceId,
  assertName,
  DurableTaskError,
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
  silentLogger,
} from "@durabletask/api";
import * as wire from "@durabletask/api/proto";
import {
  type Backend,
  purgeRecursively,
  type ReusePolicy,
  traceCreateOrchestration,
  waitForInstance,
} from "@durabletask/backend";
import type { GrpcExecutor } from "./grpc-executor.js";
import { dateOf, statusesOf, toOrchestrationState } from "./wire-mapping.js";

/** Options of {@link createSidecarService}. */
export interface SidecarServiceOptions {
  readonly backend: Backend;
  readonly executor: GrpcExecutor;
  readonly logger?: Logger | undefined;
  /** Events per `HistoryChunk` of `StreamInstanceHistory`; default 500. */
  readonly historyChunkSize?: number | undefined;
}

/** Per-call context the transport provides. */
export interface CallContext {
  /** Fires when the caller cancels or disconnects. */
  readonly signal: AbortSignal;
}

const maxPageSize = 1000;

/**
 * The unary `TaskHubSidecarService` methods as transport-agnostic async functions over a
 * {@link Backend}. They validate every request and throw `DurableTaskError`s whose `code` the
 * transport maps to a gRPC status; messages name the offending field.
 */
export function createSidecarService(options: SidecarServiceOptions) {
  const { backend, executor } = options;
  const logger = options.logger ?? silentLogger;
  const now = Date.now;

  async function startInstance(
    req: wire.CreateInstanceRequest,
  ): Promise<wire.CreateInstanceResponse> {
    assertName(req.name, "name");
    const instanceId =
      req.instanceId === "" ? crypto.randomUUID().replaceAll("-", "") : req.instanceId;
    assertInstanceId(instanceId, "instanceId");
    const startAt = dateOf(req.scheduledStartTimestamp);
    const replaceable = statusesOf(
      req.orchestrationIdReusePolicy?.replaceableStatus ?? [],
      "orchestrationIdReusePolicy.replaceableStatus",
    );
    const reusePolicy: ReusePolicy | undefined =
      replaceable === undefined ? undefined : { action: "terminate", statuses: replaceable };
    await traceCreateOrchestration(
      req.name,
      req.version,
      instanceId,
      req.parentTraceContext,
      (parentTraceContext) => {
        const start = executionStartedEvent(
          {
            name: req.name,
            instanceId,
            executionId: req.executionId || crypto.randomUUID(),
            input: req.input,
            version: req.version,
            scheduledStartMs:
              startAt !== undefined && startAt.getTime() > now() ? startAt.getTime() : undefined,
            parentTraceContext,
            tags: req.tags,
          },
          now(),
        );
        return backend.createOrchestrationInstance(start, { reusePolicy });
      },
    );
    logger.debug("started instance", { instanceId, name: req.name });
    return create(wire.CreateInstanceResponseSchema, { instanceId });
  }

  function instanceResponse(metadata: OrchestrationMetadata | undefined, withPayloads: boolean) {
    if (metadata === undefined) return create(wire.GetInstanceResponseSchema, { exists: false });
    return create(wire.GetInstanceResponseSchema, {
      exists: true,
      orchestrationState: toOrchestrationState(metadata, withPayloads),
    });
  }

  async function getInstance(req: wire.GetInstanceRequest): Promise<wire.GetInstanceResponse> {
    assertInstanceId(req.instanceId);
    const metadata = await backend.getOrchestrationMetadata(req.instanceId, {
      fetchPayloads: req.getInputsAndOutputs,
    });
    return instanceResponse(metadata, req.getInputsAndOutputs);
  }

  async function waitFor(
    req: wire.GetInstanceRequest,
    ctx: CallContext,
    until: (status: OrchestrationStatus) => boolean,
  ): Promise<wire.GetInstanceResponse> {
    assertInstanceId(req.instanceId);
    try {
      const done = (m: OrchestrationMetadata) => until(m.runtimeStatus);
      const options = { signal: ctx.signal, fetchPayloads: req.getInputsAndOutputs };
      const metadata = await waitForInstance(backend, req.instanceId, done, options, until);
      return instanceResponse(metadata, req.getInputsAndOutputs);
    } catch (error) {
      if (DurableTaskError.is(error, "InstanceNotFound")) return instanceResponse(undefined, false);
      throw error;
    }
  }

  async function send(instanceId: string, event: wire.HistoryEvent): Promise<void> {
    assertInstanceId(instanceId);
    await backend.addNewOrchestrationEvent(instanceId, event);
  }

  async function queryInstances(
    req: wire.QueryInstancesRequest,
  ): Promise<wire.QueryInstancesResponse> {
    const q = req.query;
    const pageSize = pageSizeOf(q?.maxInstanceCount ?? 0, "query.maxInstanceCount");
    const page = await backend.queryInstances({
      statuses: statusesOf(q?.runtimeStatus ?? [], "query.runtimeStatus"),
      createdFrom: dateOf(q?.createdTimeFrom),
      createdTo: dateOf(q?.createdTimeTo),
      instanceIdPrefix: q?.instanceIdPrefix || undefined,
      pageSize,
      continuationToken: q?.continuationToken || undefined,
      fetchPayloads: q?.fetchInputsAndOutputs ?? false,
    });
    return create(wire.QueryInstancesResponseSchema, {
      orchestrationState: page.instances.map((m) =>
        toOrchestrationState(m, q?.fetchInputsAndOutputs ?? false),
      ),
      continuationToken: page.continuationToken,
    });
  }

  async function listInstanceIds(
    req: wire.ListInstanceIdsRequest,
  ): Promise<wire.ListInstanceIdsResponse> {
    const page = await backend.listInstanceIds({
      statuses: statusesOf(req.runtimeStatus, "runtimeStatus"),
      completedFrom: dateOf(req.completedTimeFrom),
      completedTo: dateOf(req.completedTimeTo),
      pageSize: pageSizeOf(req.pageSize, "pageSize"),
      lastInstanceKey: req.lastInstanceKey || undefined,
    });
    return create(wire.ListInstanceIdsResponseSchema, {
      instanceIds: [...page.instanceIds],
      lastInstanceKey: page.lastInstanceKey,
    });
  }

  async function purgeOne(instanceId: string, recursive: boolean): Promise<number> {
    assertInstanceId(instanceId);
    try {
      if (recursive) return await purgeRecursively(backend, instanceId);
      await backend.purgeOrchestrationState(instanceId);
      return 1;
    } catch (error) {
      // Purging what is already gone is not an error: report that nothing was deleted.
      if (DurableTaskError.is(error, "InstanceNotFound")) return 0;
      throw error;
    }
  }

  async function purgeInstances(
    req: wire.PurgeInstancesRequest,
  ): Promise<wire.PurgeInstancesResponse> {
    let deleted = 0;
    const r = req.request;
    if (r.case === "instanceId") deleted = await purgeOne(r.value, req.recursive);
    else if (r.case === "instanceBatch") {
      for (const id of r.value.instanceIds) deleted += await purgeOne(id, req.recursive);
    } else if (r.case === "purgeInstanceFilter") {
      const statuses = statusesOf(r.value.runtimeStatus, "purgeInstanceFilter.runtimeStatus");
      const terminal = statuses?.filter(isTerminalStatus);
      // Only terminal instances can be purged. An empty list means "all terminal statuses" to
      // the backend, so a filter that names only non-terminal ones must not reach it.
      if (terminal === undefined || terminal.length > 0) {
        deleted = await backend.purgeInstances({
          createdFrom: dateOf(r.value.createdTimeFrom),
          createdTo: dateOf(r.value.createdTimeTo),
          statuses: terminal,
        });
      }
    } else {
      throw invalidArgument(
        "request",
        "one of instanceId, purgeInstanceFilter or instanceBatch is required",
      );
    }
    return create(wire.PurgeInstancesResponseSchema, {
      deletedInstanceCount: deleted,
      isComplete: true,
    });
  }

  async function restartInstance(
    req: wire.RestartInstanceRequest,
  ): Promise<wire.RestartInstanceResponse> {
    assertInstanceId(req.instanceId);
    const m = await backend.getOrchestrationMetadata(req.instanceId, { fetchPayloads: true });
    if (m === undefined) {
      throw new DurableTaskError(
        "InstanceNotFound",
        `No orchestration instance with id '${req.instanceId}'.`,
      );
    }
    if (!isTerminalStatus(m.runtimeStatus)) {
      throw new DurableTaskError(
        "NotCompleted",
        `instanceId: '${req.instanceId}' is ${m.runtimeStatus}; only terminal instances can be restarted.`,
      );
    }
    const instanceId = req.restartWithNewInstanceId
      ? crypto.randomUUID().replaceAll("-", "")
      : req.instanceId;
    const start = executionStartedEvent(
      {
        name: m.name,
        instanceId,
        executionId: crypto.randomUUID(),
        input: m.serializedInput,
        version: m.version,
        tags: m.tags,
      },
      now(),
    );
    await backend.createOrchestrationInstance(start, {
      reusePolicy: { action: "terminate", statuses: ["COMPLETED", "FAILED", "TERMINATED"] },
    });
    return create(wire.RestartInstanceResponseSchema, { instanceId });
  }

  async function createTaskHub(
    req: wire.CreateTaskHubRequest,
  ): Promise<wire.CreateTaskHubResponse> {
    if (req.recreateIfExists) {
      try {
        await backend.deleteTaskHub();
      } catch (error) {
        if (!DurableTaskError.is(error, "TaskHubNotFound")) throw error;
      }
    }
    await backend.createTaskHub();
    // DeleteTaskHub stopped the backend; serve again without a sidecar restart.
    await backend.start();
    return create(wire.CreateTaskHubResponseSchema, {});
  }

  return {
    hello: async () => create(EmptySchema, {}),
    startInstance,
    getInstance,
    waitForInstanceStart: (req: wire.GetInstanceRequest, ctx: CallContext) =>
      waitFor(req, ctx, (status) => status !== "PENDING"),
    waitForInstanceCompletion: (req: wire.GetInstanceRequest, ctx: CallContext) =>
      waitFor(req, ctx, isTerminalStatus),
    async raiseEvent(req: wire.RaiseEventRequest) {
      assertName(req.name, "name");
      await send(req.instanceId, eventRaisedEvent(now(), req.name, req.input));
      return create(wire.RaiseEventResponseSchema, {});
    },
    async terminateInstance(req: wire.TerminateRequest) {
      await send(req.instanceId, executionTerminatedEvent(now(), req.output, req.recursive));
      return create(wire.TerminateResponseSchema, {});
    },
    async suspendInstance(req: wire.SuspendRequest) {
      await send(req.instanceId, executionSuspendedEvent(now(), req.reason));
      return create(wire.SuspendResponseSchema, {});
    },
    async resumeInstance(req: wire.ResumeRequest) {
      await send(req.instanceId, executionResumedEvent(now(), req.reason));
      return create(wire.ResumeResponseSchema, {});
    },
    queryInstances,
    listInstanceIds,
    purgeInstances,
    restartInstance,
    createTaskHub,
    async deleteTaskHub() {
      await backend.deleteTaskHub();
      return create(wire.DeleteTaskHubResponseSchema, {});
    },
    async completeOrchestratorTask(req: wire.OrchestratorResponse) {
      requireCorrelation(req.completionToken, req.instanceId);
      executor.completeOrchestration(req);
      return create(wire.CompleteTaskResponseSchema, {});
    },
    async completeActivityTask(req: wire.ActivityResponse) {
      requireCorrelation(req.completionToken, req.instanceId);
      executor.completeActivity(req);
      return create(wire.CompleteTaskResponseSchema, {});
    },
    async abandonTaskOrchestratorWorkItem(req: wire.AbandonOrchestrationTaskRequest) {
      assertName(req.completionToken, "completionToken");
      executor.abandon("orchestration", req.completionToken);
      return create(wire.AbandonOrchestrationTaskResponseSchema, {});
    },
    async abandonTaskActivityWorkItem(req: wire.AbandonActivityTaskRequest) {
      assertName(req.completionToken, "completionToken");
      executor.abandon("activity", req.completionToken);
      return create(wire.AbandonActivityTaskResponseSchema, {});
    },
    /** Committed history of an instance in chunks; `InstanceNotFound` if unknown. */
    async *streamInstanceHistory(
      req: wire.StreamInstanceHistoryRequest,
    ): AsyncGenerator<wire.HistoryChunk> {
      assertInstanceId(req.instanceId);
      const events = await backend.getOrchestrationHistory(req.instanceId);
      const size = options.historyChunkSize ?? 500;
      for (let i = 0; i < events.length || i === 0; i += size) {
        yield create(wire.HistoryChunkSchema, { events: events.slice(i, i + size) });
        if (events.length === 0) break;
      }
    },
  };
}

/** The handlers {@link createSidecarService} returns. */
export type SidecarService = ReturnType<typeof createSidecarService>;

function pageSizeOf(value: number, field: string): number | undefined {
  if (value === 0) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > maxPageSize) {
    throw invalidArgument(field, `must be between 1 and ${maxPageSize}, got ${value}`);
  }
  return value;
}

function requireCorrelation(completionToken: string, instanceId: string): void {
  if (completionToken === "" && instanceId === "") {
    throw invalidArgument("instanceId", "either completionToken or instanceId is required");
  }
}
