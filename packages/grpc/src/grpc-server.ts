import { create, type DescService } from "@bufbuild/protobuf";
import { DurableTaskError, type ErrorCode, type Logger, silentLogger } from "@durabletask/api";
import * as wire from "@durabletask/api/proto";
import type { Backend } from "@durabletask/backend";
import {
  type MethodDefinition,
  type Server,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { GrpcExecutor, WorkItemStream } from "./grpc-executor.js";
import { historyTailsHeader } from "./history-tails.js";
import { grpcServiceDefinition } from "./service-definition.js";
import { type CallContext, createSidecarService } from "./sidecar-service.js";

const codeToStatus: Readonly<Record<ErrorCode, status>> = {
  InvalidArgument: status.INVALID_ARGUMENT,
  InstanceNotFound: status.NOT_FOUND,
  InstanceExists: status.ALREADY_EXISTS,
  NotCompleted: status.FAILED_PRECONDITION,
  NotStarted: status.FAILED_PRECONDITION,
  WorkItemLockLost: status.ABORTED,
  NonDeterminism: status.FAILED_PRECONDITION,
  NotRegistered: status.NOT_FOUND,
  TaskFailed: status.FAILED_PRECONDITION,
  TaskCanceled: status.CANCELLED,
  Timeout: status.DEADLINE_EXCEEDED,
  Aborted: status.CANCELLED,
  NotInitialized: status.UNAVAILABLE,
  TaskHubExists: status.ALREADY_EXISTS,
  TaskHubNotFound: status.NOT_FOUND,
  PayloadTooLarge: status.RESOURCE_EXHAUSTED,
  Unavailable: status.UNAVAILABLE,
  Unimplemented: status.UNIMPLEMENTED,
  Unauthenticated: status.UNAUTHENTICATED,
  Internal: status.INTERNAL,
};

/**
 * Longest status message sent, in characters. Messages quote what the caller sent (ids, tokens)
 * and the message travels in an HTTP/2 trailer: a megabyte there makes the caller's HTTP/2 layer
 * tear down the whole connection, failing every other call on it.
 */
const maxDetailsLength = 2048;

/** `message` cut to {@link maxDetailsLength} characters, saying how much was left out. */
function boundedDetails(message: string): string {
  if (message.length <= maxDetailsLength) return message;
  return `${message.slice(0, maxDetailsLength)}… (${message.length - maxDetailsLength} more characters)`;
}

/** The gRPC status for anything a handler threw; unexpected errors are INTERNAL and logged. */
export function toServiceError(error: unknown, logger: Logger): Partial<ServiceError> {
  if (DurableTaskError.is(error)) {
    return { code: codeToStatus[error.code], details: boundedDetails(error.message) };
  }
  logger.error("unexpected error in a gRPC handler", { error });
  const message = error instanceof Error ? error.message : String(error);
  return { code: status.INTERNAL, details: boundedDetails(message) };
}

/** Options of {@link addSidecarServices}. */
export interface SidecarServicesOptions {
  readonly backend: Backend;
  readonly executor: GrpcExecutor;
  readonly logger?: Logger | undefined;
  /** Interval of HealthPing work items on idle `GetWorkItems` streams; default 30 s, 0 = none. */
  readonly healthPingIntervalMs?: number | undefined;
  /** Answer of the health service; default: serving. */
  readonly isServing?: (() => boolean) | undefined;
}

/** A handle to end the long-lived `GetWorkItems` streams, e.g. on shutdown. */
export interface SidecarServicesHandle {
  /** Ends every open `GetWorkItems` stream (the SDKs then reconnect elsewhere or retry). */
  closeStreams(): void;
  /** Ends running unary calls (long polls) with UNAVAILABLE "shutting down". */
  cancelCalls(): void;
}

type Handler = (call: never, callback: never) => void;

/**
 * Registers `TaskHubSidecarService` (and `grpc.health.v1.Health`) on a `@grpc/grpc-js` server.
 * Entity RPCs, RewindInstance and SkipGracefulOrchestrationTerminations answer UNIMPLEMENTED.
 */
export function addSidecarServices(
  server: Server,
  options: SidecarServicesOptions,
): SidecarServicesHandle {
  const logger = options.logger ?? silentLogger;
  const service = createSidecarService(options);
  const streams = new Set<ServerWritableStream<unknown, unknown>>();
  const calls = new Set<AbortController>();

  function unary<Req, Res>(fn: (req: Req, ctx: CallContext) => Promise<Res>): Handler {
    return ((call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const controller = new AbortController();
      calls.add(controller);
      // grpc-js reports "cancelled" when the stream closes, after every answered call too:
      // only a call still running is aborted (an error per answered call cost ~3% of the CPU).
      call.on("cancelled", () => {
        if (calls.has(controller))
          controller.abort(new DurableTaskError("Aborted", "the caller cancelled"));
      });
      fn(call.request, { signal: controller.signal })
        .then(
          (response) => callback(null, response),
          (error: unknown) => {
            // A call cut short by shutdown reports why, so clients retry instead of giving up.
            const reason = controller.signal.reason;
            const cause = DurableTaskError.is(reason, "Unavailable") ? reason : error;
            callback(toServiceError(cause, logger) as ServiceError, null);
          },
        )
        .finally(() => calls.delete(controller));
    }) as Handler;
  }

  function unimplemented(rpc: string, why: string): Handler {
    return ((_call: unknown, callback: sendUnaryData<unknown>) =>
      callback(
        {
          code: status.UNIMPLEMENTED,
          details: `${rpc} is not supported by this sidecar: ${why}`,
        } as ServiceError,
        null,
      )) as Handler;
  }

  const entities = "durable entities are not implemented yet";
  const implementation: Record<string, Handler> = {
    hello: unary(service.hello),
    startInstance: unary(service.startInstance),
    getInstance: unary(service.getInstance),
    rewindInstance: unimplemented("RewindInstance", "rewinding history is not implemented yet"),
    restartInstance: unary(service.restartInstance),
    waitForInstanceStart: unary(service.waitForInstanceStart),
    waitForInstanceCompletion: unary(service.waitForInstanceCompletion),
    raiseEvent: unary(service.raiseEvent),
    terminateInstance: unary(service.terminateInstance),
    suspendInstance: unary(service.suspendInstance),
    resumeInstance: unary(service.resumeInstance),
    queryInstances: unary(service.queryInstances),
    listInstanceIds: unary(service.listInstanceIds),
    purgeInstances: unary(service.purgeInstances),
    getWorkItems: ((call: ServerWritableStream<wire.GetWorkItemsRequest, wire.WorkItem>) =>
      serveWorkItems(call, options, logger, streams)) as Handler,
    completeActivityTask: unary(service.completeActivityTask),
    completeOrchestratorTask: unary(service.completeOrchestratorTask),
    completeEntityTask: unimplemented("CompleteEntityTask", entities),
    streamInstanceHistory: ((
      call: ServerWritableStream<wire.StreamInstanceHistoryRequest, wire.HistoryChunk>,
    ) => streamHistory(call, service.streamInstanceHistory, logger)) as Handler,
    createTaskHub: unary(service.createTaskHub),
    deleteTaskHub: unary(service.deleteTaskHub),
    signalEntity: unimplemented("SignalEntity", entities),
    getEntity: unimplemented("GetEntity", entities),
    queryEntities: unimplemented("QueryEntities", entities),
    cleanEntityStorage: unimplemented("CleanEntityStorage", entities),
    abandonTaskActivityWorkItem: unary(service.abandonTaskActivityWorkItem),
    abandonTaskOrchestratorWorkItem: unary(service.abandonTaskOrchestratorWorkItem),
    abandonTaskEntityWorkItem: unimplemented("AbandonTaskEntityWorkItem", entities),
    skipGracefulOrchestrationTerminations: unimplemented(
      "SkipGracefulOrchestrationTerminations",
      "terminations are always immediate here",
    ),
  };
  addService(server, wire.TaskHubSidecarService, implementation);
  addHealthService(server, options.isServing ?? (() => true));
  return {
    closeStreams() {
      for (const call of streams) call.end();
      streams.clear();
    },
    cancelCalls() {
      const reason = new DurableTaskError("Unavailable", "the sidecar is shutting down; retry");
      for (const controller of calls) controller.abort(reason);
    },
  };
}

function serveWorkItems(
  call: ServerWritableStream<wire.GetWorkItemsRequest, wire.WorkItem>,
  options: SidecarServicesOptions,
  logger: Logger,
  streams: Set<ServerWritableStream<unknown, unknown>>,
): void {
  const req = call.request;
  if (req.maxConcurrentOrchestrationWorkItems < 0 || req.maxConcurrentActivityWorkItems < 0) {
    failStream(
      call,
      Object.assign(new Error("maxConcurrent*WorkItems: must not be negative"), {
        code: status.INVALID_ARGUMENT,
      }),
    );
    return;
  }
  const peer = `${call.getPeer()} ${String(call.metadata.get("user-agent")[0] ?? "")}`.trim();
  const stream: WorkItemStream = {
    label: peer,
    maxOrchestrations: req.maxConcurrentOrchestrationWorkItems,
    maxActivities: req.maxConcurrentActivityWorkItems,
    historyTails: call.metadata.get(historyTailsHeader)[0] === "1",
    send(item) {
      if (call.cancelled || call.destroyed) throw new Error("stream closed");
      call.write(item);
    },
  };
  streams.add(call as ServerWritableStream<unknown, unknown>);
  const pingMs = options.healthPingIntervalMs ?? 30_000;
  const ping =
    pingMs > 0
      ? setInterval(() => {
          if (!call.cancelled)
            call.write(create(wire.WorkItemSchema, { request: { case: "healthPing", value: {} } }));
        }, pingMs)
      : undefined;
  ping?.unref();
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(ping);
    streams.delete(call as ServerWritableStream<unknown, unknown>);
    options.executor.disconnect(stream);
  };
  call.on("cancelled", close);
  call.on("close", close);
  call.on("error", (error) => {
    logger.debug("work item stream error", { stream: peer, error });
    close();
  });
  call.on("finish", close);
  options.executor.connect(stream);
}

function streamHistory(
  call: ServerWritableStream<wire.StreamInstanceHistoryRequest, wire.HistoryChunk>,
  chunks: (req: wire.StreamInstanceHistoryRequest) => AsyncGenerator<wire.HistoryChunk>,
  logger: Logger,
): void {
  (async () => {
    for await (const chunk of chunks(call.request)) {
      if (call.cancelled) return;
      call.write(chunk);
    }
    call.end();
  })().catch((error: unknown) => {
    const serviceError = toServiceError(error, logger);
    failStream(call, Object.assign(new Error(serviceError.details), serviceError));
  });
}

/**
 * Ends a server stream with an error status. `destroy(error)` would not do: grpc-js then never
 * sends the status and the caller waits forever; an `error` event makes it end the call with
 * the error's code and details.
 */
function failStream(
  call: ServerWritableStream<unknown, unknown>,
  error: Partial<ServiceError> & Error,
): void {
  call.emit("error", error);
}

function addHealthService(server: Server, isServing: () => boolean): void {
  const { health } = wire;
  const answer = () =>
    create(health.HealthCheckResponseSchema, {
      status: isServing()
        ? health.HealthCheckResponse_ServingStatus.SERVING
        : health.HealthCheckResponse_ServingStatus.NOT_SERVING,
    });
  addService(server, health.Health, {
    check: ((_call: unknown, callback: sendUnaryData<unknown>) =>
      callback(null, answer())) as Handler,
    watch: ((call: ServerWritableStream<unknown, unknown>) => {
      call.write(answer());
    }) as Handler,
  });
}

/** What a request that did not decode is handed to the service as, instead of a message. */
class MalformedRequest {
  constructor(readonly problem: string) {}
}

/**
 * Adds `service` with its `implementation` to `server`, answering requests that do not decode
 * (truncated, wrong wire types, nesting too deep…) with INVALID_ARGUMENT naming the method and
 * the message type: grpc-js itself would answer them INTERNAL, as if the server were at fault.
 */
function addService(
  server: Server,
  service: DescService,
  implementation: Readonly<Record<string, Handler>>,
): void {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {
    ...grpcServiceDefinition(service),
  };
  const guarded: Record<string, Handler> = {};
  for (const method of service.methods) {
    const entry = definition[method.localName];
    const handler = implementation[method.localName];
    if (entry === undefined || handler === undefined) continue;
    const decode = entry.requestDeserialize;
    definition[method.localName] = {
      ...entry,
      requestDeserialize(bytes: Buffer) {
        try {
          return decode(bytes);
        } catch (error) {
          return new MalformedRequest(error instanceof Error ? error.message : String(error));
        }
      },
    };
    guarded[method.localName] = ((
      call: { request: unknown },
      callback?: sendUnaryData<unknown>,
    ) => {
      const request = call.request;
      if (!(request instanceof MalformedRequest)) {
        (handler as (call: unknown, callback: unknown) => void)(call, callback);
        return;
      }
      const details = boundedDetails(
        `${method.name}: the request is not a valid ${method.input.typeName} message (${request.problem})`,
      );
      const error = Object.assign(new Error(details), { code: status.INVALID_ARGUMENT, details });
      if (callback !== undefined) callback(error as ServiceError, null);
      else failStream(call as ServerWritableStream<unknown, unknown>, error);
    }) as Handler;
  }
  server.addService(definition, guarded as unknown as UntypedServiceImplementation);
}
