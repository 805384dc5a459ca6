import {
  assertNonNegativeMs,
  describe,
  invalidArgument,
  type Logger,
  silentLogger,
} from "@durabletask/api";
import { type Backend, createTaskHubWorker, type TaskHubWorker } from "@durabletask/backend";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { bearerTokenInterceptor } from "./access-control.js";
import { createGrpcExecutor } from "./grpc-executor.js";
import { addSidecarServices } from "./grpc-server.js";

/** The default of {@link SidecarServerOptions.maxReceiveMessageBytes}: 256 MiB. */
export const defaultMaxReceiveMessageBytes = 256 * 1024 * 1024;

/** The largest {@link SidecarServerOptions.maxReceiveMessageBytes}: gRPC frames are 2 GiB at most. */
export const maxMessageBytesLimit = 0x7fffffff;

/** Options of {@link createSidecarServer}. */
export interface SidecarServerOptions {
  readonly backend: Backend;
  readonly logger?: Logger | undefined;
  /** Default `localhost`. */
  readonly host?: string | undefined;
  /** Default 4001; 0 picks a free port (see {@link SidecarServer.port}). */
  readonly port?: number | undefined;
  /**
   * Largest request accepted, in bytes (after decompression); larger ones are refused with
   * RESOURCE_EXHAUSTED before they reach the engine, so this also bounds every payload (input,
   * output, event data) the engine stores. Default 256 MiB (gRPC's own default is 4 MiB).
   */
  readonly maxReceiveMessageBytes?: number | undefined;
  /** Episodes handed to SDK workers at once; default 1000. */
  readonly maxConcurrentOrchestrations?: number | undefined;
  /** Activities handed to SDK workers at once; default 1000. */
  readonly maxConcurrentActivities?: number | undefined;
  /**
   * Attempts before a work item that keeps failing outside user code is failed with
   * `PoisonWorkItem` (see `TaskHubWorkerOptions.maxEpisodeAttempts`); default 10.
   */
  readonly maxEpisodeAttempts?: number | undefined;
  /** How long `stop()` waits for SDK workers to finish in-flight work; default 30 s. */
  readonly drainTimeoutMs?: number | undefined;
  /** Interval of health pings on work item streams; default 30 s, 0 = none. */
  readonly healthPingIntervalMs?: number | undefined;
  /** Default: insecure (plain-text) credentials; `ServerCredentials.createSsl(…)` serves TLS. */
  readonly credentials?: ServerCredentials | undefined;
  /**
   * When set, every `TaskHubSidecarService` call (unary and streams) must carry
   * `authorization: Bearer <authToken>` metadata, or it fails with UNAUTHENTICATED (see
   * {@link bearerTokenInterceptor}). The health service stays open, for probes. Printable ASCII
   * without spaces; never logged. Default: no check. Send it over TLS only, or it can be sniffed.
   */
  readonly authToken?: string | undefined;
}

/** A running Durable Task sidecar. */
export interface SidecarServer {
  /** The bound port (useful with `port: 0`). */
  readonly port: number;
  /** `host:port` the server listens on. */
  readonly address: string;
  /**
   * Stops taking new work, lets SDK workers finish in-flight work (up to `drainTimeoutMs`), ends
   * the work item streams, shuts the server down and stops the backend. Idempotent.
   */
  stop(): Promise<void>;
}

/**
 * Starts a `TaskHubSidecarService` server over `backend`: the official Durable Task SDKs (and
 * `TaskHubGrpcClient` / `TaskHubGrpcWorker`) connect to it as their sidecar.
 */
export async function createSidecarServer(options: SidecarServerOptions): Promise<SidecarServer> {
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? "localhost";
  const port = options.port ?? 4001;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw invalidArgument("port", `must be 0–65535, got ${port}`);
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
  assertNonNegativeMs(drainTimeoutMs, "drainTimeoutMs");
  const maxReceiveMessageBytes = options.maxReceiveMessageBytes ?? defaultMaxReceiveMessageBytes;
  if (
    !Number.isInteger(maxReceiveMessageBytes) ||
    maxReceiveMessageBytes < 1 ||
    maxReceiveMessageBytes > maxMessageBytesLimit
  ) {
    throw invalidArgument(
      "maxReceiveMessageBytes",
      `must be an integer from 1 to ${maxMessageBytesLimit}, got ${describe(maxReceiveMessageBytes)}`,
    );
  }
  const interceptors =
    options.authToken === undefined ? [] : [bearerTokenInterceptor(options.authToken, { logger })];
  const executor = createGrpcExecutor({ logger });
  const worker: TaskHubWorker = createTaskHubWorker({
    backend: options.backend,
    executor,
    logger,
    maxConcurrentOrchestrations: options.maxConcurrentOrchestrations ?? 1000,
    maxConcurrentActivities: options.maxConcurrentActivities ?? 1000,
    drainTimeoutMs,
    maxEpisodeAttempts: options.maxEpisodeAttempts,
    stopBackendOnStop: false,
  });
  let serving = false;
  const server = new Server({
    "grpc.max_receive_message_length": maxReceiveMessageBytes,
    "grpc.max_send_message_length": -1,
    // Channelz (gRPC's live introspection service) is not served; its per-call bookkeeping is
    // a few percent of the sidecar's CPU.
    "grpc.enable_channelz": 0,
    interceptors,
  });
  const handle = addSidecarServices(server, {
    backend: options.backend,
    executor,
    logger,
    healthPingIntervalMs: options.healthPingIntervalMs,
    isServing: () => serving,
  });
  await worker.start();
  let boundPort: number;
  try {
    boundPort = await bind(
      server,
      `${host}:${port}`,
      options.credentials ?? ServerCredentials.createInsecure(),
    );
  } catch (error) {
    // Nothing is served: release what start() acquired, or the caller's process never exits.
    server.forceShutdown();
    await worker.stop();
    executor.close();
    await options.backend.stop();
    throw error;
  }
  serving = true;
  const address = `${host}:${boundPort}`;
  logger.debug(`serving on ${address}`, {
    backend: options.backend.description,
    authToken: options.authToken === undefined ? "none" : "required",
  });
  let stopping: Promise<void> | undefined;
  return {
    port: boundPort,
    address,
    stop() {
      stopping ??= (async () => {
        serving = false;
        logger.info("shutting down: draining in-flight work");
        await worker.stop();
        executor.close();
        handle.closeStreams();
        handle.cancelCalls();
        await shutdown(server, 5000);
        await options.backend.stop();
        logger.info("stopped");
      })();
      return stopping;
    },
  };
}

function bind(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) =>
      error ? reject(error) : resolve(port),
    );
  });
}

/** Lets running calls finish for up to `graceMs`, then cuts the rest (long polls) off. */
function shutdown(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
