import {
  assertNonNegativeMs,
  describe,
  integerOption,
  invalidArgument,
  type Logger,
  silentLogger,
} from "@durabletask/api";
import { createTaskExecutor, type TaskRegistry } from "@durabletask/task";
import type { BackoffOptions } from "./backoff.js";
import { addressOf, type SidecarConnectionOptions } from "./sidecar-stub.js";
import { WorkerSession, type WorkerSessionOptions } from "./worker-session.js";

/** Reconnect back-off of {@link TaskHubGrpcWorkerOptions}. */
export interface ReconnectOptions {
  /** First wait after a lost or failed connection; default 500 ms. */
  readonly initialDelayMs?: number | undefined;
  /** Longest wait (the delay doubles up to it, ±20 % jitter); default 15,000 ms. */
  readonly maxDelayMs?: number | undefined;
}

/** Options of {@link createTaskHubGrpcWorker}. */
export interface TaskHubGrpcWorkerOptions extends SidecarConnectionOptions {
  /** The orchestrators and activities this worker runs. */
  readonly registry: TaskRegistry;
  readonly logger?: Logger | undefined;
  /** Orchestration work items run at once (also sent to the sidecar); default 100. */
  readonly maxConcurrentOrchestrations?: number | undefined;
  /** Activity work items run at once (also sent to the sidecar); default 100. */
  readonly maxConcurrentActivities?: number | undefined;
  readonly reconnect?: ReconnectOptions | undefined;
  /**
   * How long {@link TaskHubGrpcWorker.stop} lets in-flight work items finish and deliver their
   * results; after it, activities' `AbortSignal` fires and unfinished items are given back to
   * the sidecar. Default 30,000 ms.
   */
  readonly drainTimeoutMs?: number | undefined;
  /**
   * How long {@link TaskHubGrpcWorker.start} keeps trying to reach the sidecar before it
   * rejects with `Unavailable`; default 30,000 ms.
   */
  readonly startTimeoutMs?: number | undefined;
  /**
   * Most history events this worker keeps between episodes, over all instances (least recently
   * used dropped first); default 100,000, 0 keeps none. With them this package's sidecar sends
   * an instance's next episode only the history this worker has not seen, instead of all of it,
   * so a long orchestration's episodes do not grow more expensive with every step. Histories
   * shorter than 32 events and those of ended executions are not kept. Other sidecars ignore it.
   */
  readonly heldHistoryEvents?: number | undefined;
}

/** Runs a registry's orchestrations and activities for a sidecar, out of process. */
export interface TaskHubGrpcWorker {
  /**
   * Connects (`Hello`, then the `GetWorkItems` stream) and starts running work items. Resolves
   * once the first stream is open. If the sidecar cannot be reached within `startTimeoutMs` it
   * rejects with `Unavailable` (the last connection error as `cause`) and leaves the worker
   * stopped, ready for another `start()`. After a successful start, lost connections are
   * re-established in the background. `InvalidArgument` after `stop()`.
   */
  start(): Promise<void>;
  /**
   * Stops taking work, cancels the stream, waits for in-flight work items to finish and deliver
   * their results (up to `drainTimeoutMs`; then activities' `AbortSignal` fires and unfinished
   * items are abandoned so the sidecar hands them out again), and closes the channel.
   * Idempotent.
   */
  stop(): Promise<void>;
}

/**
 * Creates a worker that runs `registry`'s orchestrations and activities for a Durable Task
 * sidecar over gRPC (the out-of-process counterpart of `createTaskHubWorker`). Unlike the
 * official SDKs' workers it also retries when the very first `Hello` fails, within
 * `startTimeoutMs`. Throws `InvalidArgument` naming a bad option.
 *
 * @example
 * ```ts
 * const worker = createTaskHubGrpcWorker({ address: "localhost:4001", registry });
 * await worker.start();
 * // …
 * await worker.stop();
 * ```
 */
export function createTaskHubGrpcWorker(options: TaskHubGrpcWorkerOptions): TaskHubGrpcWorker {
  const settings = settingsOf(options);
  const drainTimeoutMs = optionalMs(options.drainTimeoutMs, "drainTimeoutMs", 30_000);
  const startTimeoutMs = optionalMs(options.startTimeoutMs, "startTimeoutMs", 30_000);
  let state: "new" | "starting" | "started" | "stopped" = "new";
  let session: WorkerSession | undefined;
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  async function start(current: WorkerSession): Promise<void> {
    try {
      await current.waitConnected(startTimeoutMs);
      if (state === "starting") state = "started";
    } catch (error) {
      if (state === "starting") {
        state = "new";
        session = undefined;
        await current.stop(0);
      }
      throw error;
    }
  }

  return {
    start() {
      if (state === "stopped") {
        return Promise.reject(invalidArgument("worker", "cannot restart a stopped worker"));
      }
      if (state === "new") {
        state = "starting";
        session = new WorkerSession(settings);
        starting = start(session);
      }
      return starting ?? Promise.resolve();
    },
    stop() {
      if (state === "new") return Promise.resolve();
      if (state !== "stopped") {
        state = "stopped";
        settings.logger.info("worker stopping: draining in-flight work");
        const current = session;
        stopping = (async () => {
          await current?.stop(drainTimeoutMs);
          settings.logger.info("worker stopped");
        })();
      }
      return stopping ?? Promise.resolve();
    },
  };
}

function settingsOf(options: TaskHubGrpcWorkerOptions): WorkerSessionOptions {
  if (typeof options !== "object" || options === null) {
    throw invalidArgument("options", `must be an object, got ${describe(options)}`);
  }
  const logger = options.logger ?? silentLogger;
  addressOf(options.address);
  return {
    connection: options,
    executor: createTaskExecutor({ registry: options.registry, logger }),
    logger,
    maxConcurrentOrchestrations: limitOf(
      options.maxConcurrentOrchestrations,
      "maxConcurrentOrchestrations",
    ),
    maxConcurrentActivities: limitOf(options.maxConcurrentActivities, "maxConcurrentActivities"),
    reconnect: reconnectOf(options.reconnect),
    heldHistoryEvents: integerOption(
      options.heldHistoryEvents,
      "heldHistoryEvents",
      100_000,
      1_000_000_000,
    ),
  };
}

// The sidecar reads the limits as int32; 0 would mean "unlimited" there.
function limitOf(value: unknown, field: string): number {
  if (value === undefined) return 100;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 0x7fffffff) {
    throw invalidArgument(field, `must be an integer ≥ 1, got ${describe(value)}`);
  }
  return value;
}

function optionalMs(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  assertNonNegativeMs(value, field);
  return value;
}

function reconnectOf(value: ReconnectOptions | undefined): BackoffOptions {
  if (value !== undefined && (typeof value !== "object" || value === null)) {
    throw invalidArgument("reconnect", `must be an object, got ${describe(value)}`);
  }
  const initialDelayMs = optionalMs(value?.initialDelayMs, "reconnect.initialDelayMs", 500);
  const maxDelayMs = optionalMs(value?.maxDelayMs, "reconnect.maxDelayMs", 15_000);
  if (initialDelayMs <= 0) throw invalidArgument("reconnect.initialDelayMs", "must be > 0");
  if (maxDelayMs < initialDelayMs) {
    throw invalidArgument(
      "reconnect.maxDelayMs",
      `must be ≥ reconnect.initialDelayMs (${initialDelayMs})`,
    );
  }
  return { initialDelayMs, maxDelayMs };
}
