import { create } from "@bufbuild/protobuf";
import * as wire from "@durabletask/api/proto";
import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { grpcServiceDefinition } from "../../src/index.js";

/** One call a {@link FakeSidecar} received. */
export interface RecordedCall {
  readonly method: string;
  readonly request: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** A unary handler: returns the response (an init shape) or throws `{ code, details }`. */
export type FakeUnary = (request: never, call: ServerUnaryCall<unknown, unknown>) => unknown;
/** A server-streaming handler. */
export type FakeStream = (call: ServerWritableStream<unknown, unknown>) => void;

/** A scripted `TaskHubSidecarService` for tests of the client and worker on the wire. */
export interface FakeSidecar {
  readonly address: string;
  readonly port: number;
  readonly calls: RecordedCall[];
  callsOf(method: string): RecordedCall[];
  stop(): Promise<void>;
}

/** A gRPC error for a fake handler to throw. */
export function grpcError(code: status, details: string): Partial<ServiceError> {
  return { code, details };
}

/**
 * Starts a sidecar whose methods do what `unary`/`streams` say (Hello answers OK unless
 * scripted); unscripted methods answer UNIMPLEMENTED. Every call is recorded.
 */
export async function startFakeSidecar(
  unary: Readonly<Record<string, FakeUnary>> = {},
  streams: Readonly<Record<string, FakeStream>> = {},
  port = 0,
): Promise<FakeSidecar> {
  const calls: RecordedCall[] = [];
  const service = wire.TaskHubSidecarService;
  const implementation: Record<string, unknown> = {};
  for (const method of service.methods) {
    const name = method.localName;
    const record = (call: { request: unknown; metadata: { getMap(): Record<string, unknown> } }) =>
      calls.push({ method: name, request: call.request, metadata: call.metadata.getMap() });
    if (method.methodKind === "server_streaming") {
      implementation[name] = (call: ServerWritableStream<unknown, unknown>) => {
        record(call);
        const handler = streams[name];
        if (handler === undefined)
          call.destroy(Object.assign(new Error("unimplemented"), { code: status.UNIMPLEMENTED }));
        else handler(call);
      };
      continue;
    }
    implementation[name] = (
      call: ServerUnaryCall<unknown, unknown>,
      callback: sendUnaryData<unknown>,
    ) => {
      record(call);
      const handler = unary[name] ?? (name === "hello" ? () => ({}) : undefined);
      if (handler === undefined) {
        callback(
          { code: status.UNIMPLEMENTED, details: `${name} is not scripted` } as ServiceError,
          null,
        );
        return;
      }
      Promise.resolve()
        .then(() => handler(call.request as never, call))
        .then(
          (response) => callback(null, create(method.output, response as never)),
          (error: Partial<ServiceError>) => callback(error as ServiceError, null),
        );
    };
  }
  const server = new Server();
  server.addService(grpcServiceDefinition(service), implementation as UntypedServiceImplementation);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`localhost:${port}`, ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  return {
    address: `localhost:${bound}`,
    port: bound,
    calls,
    callsOf: (method) => calls.filter((c) => c.method === method),
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

/** A work item for a fake stream to send. */
export function activityWorkItem(
  token: string,
  instanceId: string,
  taskId: number,
  name: string,
  input?: string,
) {
  return create(wire.WorkItemSchema, {
    completionToken: token,
    request: {
      case: "activityRequest",
      value: { name, taskId, input, orchestrationInstance: { instanceId } },
    },
  });
}
