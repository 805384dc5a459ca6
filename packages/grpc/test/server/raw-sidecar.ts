// A sidecar on a free loopback port and a raw @grpc/grpc-js client of it that speaks the wire
// messages directly, like an SDK does, so server tests control every field the SDKs send.
import {
  create,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import * as wire from "@durabletask/api/proto";
import type { Backend } from "@durabletask/backend";
import { createSqliteBackend, type SqliteBackendOptions } from "@durabletask/sqlite";
import {
  type Client,
  type ClientReadableStream,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";
import { grpcServiceDefinition } from "../../src/service-definition.js";
import {
  createSidecarServer,
  type SidecarServer,
  type SidecarServerOptions,
} from "../../src/sidecar-server.js";

type Callback = (error: ServiceError | null, response: unknown) => void;
type RawClient = Client &
  Record<string, (request: unknown, callback: Callback) => void> & {
    getWorkItems(
      request: wire.GetWorkItemsRequest,
      metadata?: Metadata,
    ): ClientReadableStream<wire.WorkItem>;
  };

/** A started sidecar with a raw client; `stop()` closes everything. */
export interface RawSidecar {
  readonly server: SidecarServer;
  readonly backend: Backend;
  /** Calls unary method `method` (camelCase) with a request built from `init`. */
  call<I extends DescMessage, O = unknown>(
    method: string,
    schema: I,
    init: MessageInitShape<I>,
  ): Promise<O>;
  /** Opens a GetWorkItems stream that collects what it receives. */
  connectWorker(
    init?: MessageInitShape<typeof wire.GetWorkItemsRequestSchema>,
    metadata?: Readonly<Record<string, string>>,
  ): FakeWorker;
  stop(): Promise<void>;
}

/** A GetWorkItems stream with what it received so far. */
export interface FakeWorker {
  readonly items: wire.WorkItem[];
  /** Resolves with the first received item (in arrival order) that `match` accepts. */
  next(match?: (item: wire.WorkItem) => boolean, timeoutMs?: number): Promise<wire.WorkItem>;
  /** Cancels the stream, as an SDK's `stop()` does. */
  cancel(): void;
}

/** Starts a sidecar over an in-memory SQLite backend (or `backend` options) and a raw client. */
export async function startRawSidecar(
  options: Partial<Omit<SidecarServerOptions, "backend">> & { sqlite?: SqliteBackendOptions } = {},
): Promise<RawSidecar> {
  const backend = createSqliteBackend(options.sqlite ?? {});
  const server = await createSidecarServer({
    host: "127.0.0.1",
    port: 0,
    drainTimeoutMs: 500,
    ...options,
    backend,
  });
  const Constructor = makeGenericClientConstructor(
    grpcServiceDefinition(wire.TaskHubSidecarService),
    "Sidecar",
  );
  const client = new Constructor(
    server.address,
    credentials.createInsecure(),
  ) as unknown as RawClient;
  const streams: ClientReadableStream<wire.WorkItem>[] = [];
  return {
    server,
    backend,
    call<I extends DescMessage, O>(
      method: string,
      schema: I,
      init: MessageInitShape<I>,
    ): Promise<O> {
      const fn = client[method];
      if (fn === undefined) throw new Error(`no method ${method}`);
      return new Promise((resolve, reject) =>
        fn.call(client, create(schema, init), (error, response) =>
          error ? reject(error) : resolve(response as O),
        ),
      );
    },
    connectWorker(init = {}, headers = {}) {
      const metadata = new Metadata();
      for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
      const stream = client.getWorkItems(create(wire.GetWorkItemsRequestSchema, init), metadata);
      streams.push(stream);
      return fakeWorker(stream);
    },
    async stop() {
      for (const stream of streams) stream.cancel();
      client.close();
      await server.stop();
    },
  };
}

function fakeWorker(stream: ClientReadableStream<wire.WorkItem>): FakeWorker {
  const items: wire.WorkItem[] = [];
  const waiters = new Set<{
    match: (item: wire.WorkItem) => boolean;
    resolve: (item: wire.WorkItem) => void;
  }>();
  const taken = new Set<wire.WorkItem>();
  stream.on("data", (item: wire.WorkItem) => {
    items.push(item);
    for (const waiter of waiters) {
      if (taken.has(item) || !waiter.match(item)) continue;
      taken.add(item);
      waiters.delete(waiter);
      waiter.resolve(item);
    }
  });
  stream.on("error", () => {});
  return {
    items,
    next(match = () => true, timeoutMs = 10_000) {
      const found = items.find((item) => !taken.has(item) && match(item));
      if (found !== undefined) {
        taken.add(found);
        return Promise.resolve(found);
      }
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve };
        waiters.add(waiter);
        setTimeout(() => {
          if (waiters.delete(waiter))
            reject(new Error(`no matching work item within ${timeoutMs} ms`));
        }, timeoutMs).unref();
      });
    },
    cancel: () => stream.cancel(),
  };
}

/** Is `item` an orchestrator request (of `instanceId`, if given)? */
export const isOrchestration =
  (instanceId?: string) =>
  (item: wire.WorkItem): boolean =>
    item.request.case === "orchestratorRequest" &&
    (instanceId === undefined || item.request.value.instanceId === instanceId);

/** Is `item` an activity request (of `instanceId`, if given)? */
export const isActivity =
  (instanceId?: string) =>
  (item: wire.WorkItem): boolean =>
    item.request.case === "activityRequest" &&
    (instanceId === undefined ||
      item.request.value.orchestrationInstance?.instanceId === instanceId);

/** An OrchestratorResponse that completes `instanceId` with `status` and `result`. */
export function completion(
  instanceId: string,
  status: wire.OrchestrationStatus,
  result: string,
  completionToken = "",
): MessageShape<typeof wire.OrchestratorResponseSchema> {
  return create(wire.OrchestratorResponseSchema, {
    instanceId,
    completionToken,
    actions: [
      {
        id: 1,
        orchestratorActionType: {
          case: "completeOrchestration",
          value: { orchestrationStatus: status, result },
        },
      },
    ],
  });
}
