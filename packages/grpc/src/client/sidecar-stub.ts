import { create, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { DurableTaskError, describe, invalidArgument } from "@durabletask/api";
import { TaskHubSidecarService } from "@durabletask/api/proto";
import {
  ChannelCredentials,
  type ChannelOptions,
  type ClientReadableStream,
  type ClientUnaryCall,
  credentials as grpcCredentials,
  Metadata,
  makeGenericClientConstructor,
} from "@grpc/grpc-js";
import { grpcServiceDefinition } from "../service-definition.js";
import { fromServiceError } from "./service-error.js";

/** Deadlines further away than this (100 years) are sent as none. */
const farDeadlineMs = 100 * 365 * 24 * 60 * 60 * 1000;

/** Where and how to reach a sidecar; shared by the gRPC client and worker. */
export interface SidecarConnectionOptions {
  /** `host:port` of the sidecar (no scheme); default `localhost:4001`. */
  readonly address?: string | undefined;
  /** Channel credentials; default insecure (plain text), like the official SDKs. */
  readonly credentials?: ChannelCredentials | undefined;
  /**
   * Metadata sent with every call (e.g. `{ authorization: "Bearer …" }`). Called once per call,
   * so it can hand out fresh tokens.
   */
  readonly metadata?: (() => Readonly<Record<string, string>>) | undefined;
}

type Methods = typeof TaskHubSidecarService.method;
type MethodsOfKind<Kind> = {
  [K in keyof Methods]: Methods[K]["methodKind"] extends Kind ? K : never;
}[keyof Methods];

/** The unary `TaskHubSidecarService` methods, by local name (`startInstance`, …). */
export type UnaryMethod = MethodsOfKind<"unary">;
/** The server-streaming `TaskHubSidecarService` methods (`getWorkItems`, `streamInstanceHistory`). */
export type StreamMethod = MethodsOfKind<"server_streaming">;
/** The request init shape of `method`. */
export type RequestOf<K extends keyof Methods> = MessageInitShape<Methods[K]["input"]>;
/** The response message of `method`. */
export type ResponseOf<K extends keyof Methods> = MessageShape<Methods[K]["output"]>;

/** Per-call options of a {@link SidecarStub}. */
export interface StubCallOptions {
  /**
   * Absolute deadline in epoch milliseconds; DEADLINE_EXCEEDED (`Timeout`) after it. One more
   * than 100 years away is no deadline.
   */
  readonly deadlineMs?: number | undefined;
  /** Cancels the call (CANCELLED → `Aborted`). */
  readonly signal?: AbortSignal | undefined;
  /** Metadata of this call only, added to the connection's. */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

/** A typed `TaskHubSidecarService` client over one `@grpc/grpc-js` channel. */
export interface SidecarStub {
  readonly address: string;
  /** One unary call; rejects with the {@link DurableTaskError} of {@link fromServiceError}. */
  unary<K extends UnaryMethod>(
    method: K,
    request: RequestOf<K>,
    options?: StubCallOptions,
  ): Promise<ResponseOf<K>>;
  /** Opens a server stream; the caller listens to its `data`/`error`/`end` events. */
  serverStream<K extends StreamMethod>(
    method: K,
    request: RequestOf<K>,
    options?: StubCallOptions,
  ): ClientReadableStream<ResponseOf<K>>;
  /** Every message of a server stream, in order; rejects like {@link unary}. */
  collect<K extends StreamMethod>(
    method: K,
    request: RequestOf<K>,
    options?: StubCallOptions,
  ): Promise<ResponseOf<K>[]>;
  /**
   * Cancels the calls in flight (they reject with `NotInitialized`) and closes the channel;
   * later calls reject with `NotInitialized` too. Idempotent.
   */
  close(): void;
}

/** Extra channel options of {@link createSidecarStub}. */
export interface SidecarStubOptions extends SidecarConnectionOptions {
  readonly channelOptions?: Partial<ChannelOptions> | undefined;
}

type ServiceClient = InstanceType<ReturnType<typeof makeGenericClientConstructor>>;

const SidecarClient = makeGenericClientConstructor(
  grpcServiceDefinition(TaskHubSidecarService),
  TaskHubSidecarService.typeName,
);

// The official SDKs send and accept messages of any size (large inputs and histories).
const defaultChannelOptions: Partial<ChannelOptions> = {
  "grpc.max_send_message_length": -1,
  "grpc.max_receive_message_length": -1,
  "grpc.primary_user_agent": "durabletask-ts",
  // Not served; saves per-call bookkeeping.
  "grpc.enable_channelz": 0,
};

/** The validated `address` option; default `localhost:4001`. */
export function addressOf(value: unknown): string {
  if (value === undefined) return "localhost:4001";
  if (typeof value !== "string" || value.trim() === "") {
    throw invalidArgument(
      "address",
      `must be a non-empty host:port string, got ${describe(value)}`,
    );
  }
  return value;
}

function credentialsOf(value: unknown): ChannelCredentials {
  if (value === undefined) return grpcCredentials.createInsecure();
  if (!(value instanceof ChannelCredentials)) {
    throw invalidArgument("credentials", `must be gRPC ChannelCredentials, got ${describe(value)}`);
  }
  return value;
}

function metadataFunctionOf(value: unknown): SidecarConnectionOptions["metadata"] {
  if (value !== undefined && typeof value !== "function") {
    throw invalidArgument("metadata", `must be a function, got ${describe(value)}`);
  }
  return value as SidecarConnectionOptions["metadata"];
}

/**
 * Opens a channel to the sidecar (lazily: nothing connects before the first call). Throws
 * `InvalidArgument` naming a bad option.
 */
export function createSidecarStub(options: SidecarStubOptions = {}): SidecarStub {
  const address = addressOf(options.address);
  const metadataOf = metadataFunctionOf(options.metadata);
  const client: ServiceClient = new SidecarClient(address, credentialsOf(options.credentials), {
    ...defaultChannelOptions,
    ...options.channelOptions,
  });
  let closed = false;
  // Calls in flight, so that close() can end long polls and streams instead of leaving them.
  const open = new Set<{ cancel(): void }>();

  function metadata(extra: Readonly<Record<string, string>> | undefined): Metadata {
    const result = new Metadata();
    if (extra !== undefined)
      for (const [key, value] of Object.entries(extra)) result.set(key, value);
    if (metadataOf === undefined) return result;
    try {
      for (const [key, value] of Object.entries(metadataOf())) result.set(key, value);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new DurableTaskError(
        "InvalidArgument",
        `metadata: cannot build call metadata (${why})`,
        {
          cause: error,
        },
      );
    }
    return result;
  }

  function closedError(): DurableTaskError {
    return new DurableTaskError("NotInitialized", `The client of sidecar ${address} is closed.`);
  }

  function checkOpen(): void {
    if (closed) throw closedError();
  }

  function invoke<K extends keyof Methods>(
    method: K,
    request: RequestOf<K>,
    options: StubCallOptions,
    callback?: (error: unknown, response: unknown) => void,
  ): ClientUnaryCall | ClientReadableStream<ResponseOf<K>> {
    checkOpen();
    const message = create(TaskHubSidecarService.method[method].input as never, request as never);
    // grpc-js cannot encode a deadline beyond 99,999,999 hours (grpc-timeout); it then never
    // starts the call, which waits forever. Such a deadline means "no deadline" anyway.
    const far = options.deadlineMs !== undefined && options.deadlineMs - Date.now() > farDeadlineMs;
    const callOptions =
      options.deadlineMs === undefined || far ? {} : { deadline: options.deadlineMs };
    const fn = client[method] as (...args: unknown[]) => ClientUnaryCall;
    const args: unknown[] = [message, metadata(options.metadata), callOptions];
    if (callback !== undefined) args.push(callback);
    return fn.apply(client, args);
  }

  return {
    address,
    unary(method, request, callOptions = {}) {
      return new Promise((resolve, reject) => {
        const { signal } = callOptions;
        if (signal?.aborted) return reject(abortedError(signal));
        const onAbort = (): void => call.cancel();
        const call = invoke(method, request, callOptions, (error, response) => {
          signal?.removeEventListener("abort", onAbort);
          open.delete(call);
          if (error === null || error === undefined) resolve(response as never);
          else if (signal?.aborted) reject(abortedError(signal));
          else reject(closed ? closedError() : fromServiceError(error));
        }) as ClientUnaryCall;
        open.add(call);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
    serverStream(method, request, callOptions = {}) {
      const call = invoke(method, request, callOptions) as ClientReadableStream<never>;
      open.add(call);
      call.on("close", () => open.delete(call));
      const { signal } = callOptions;
      if (signal !== undefined) {
        const onAbort = (): void => call.cancel();
        if (signal.aborted) queueMicrotask(onAbort);
        else signal.addEventListener("abort", onAbort, { once: true });
        call.on("close", () => signal.removeEventListener("abort", onAbort));
      }
      return call;
    },
    collect(method, request, callOptions = {}) {
      return new Promise((resolve, reject) => {
        let call: ClientReadableStream<never>;
        try {
          call = this.serverStream(method, request, callOptions) as ClientReadableStream<never>;
        } catch (error) {
          return reject(error);
        }
        const messages: never[] = [];
        call.on("data", (message: never) => messages.push(message));
        call.on("error", (error) => {
          const { signal } = callOptions;
          if (signal?.aborted) reject(abortedError(signal));
          else reject(closed ? closedError() : fromServiceError(error));
        });
        call.on("end", () => resolve(messages));
      });
    },
    close() {
      if (closed) return;
      closed = true;
      for (const call of open) call.cancel();
      open.clear();
      client.close();
    },
  };
}

function abortedError(signal: AbortSignal): DurableTaskError {
  return new DurableTaskError("Aborted", "The call was aborted by its signal.", {
    cause: signal.reason,
  });
}
