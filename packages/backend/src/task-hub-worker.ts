import {
  assertNonNegativeMs,
  DurableTaskError,
  type Executor,
  invalidArgument,
  type Logger,
  silentLogger,
} from "@durabletask/api";
import { createActivityWorkSource } from "./activity-worker.js";
import type { ActivityWorkItem, Backend, OrchestrationWorkItem } from "./backend.js";
import { createEngineMetrics } from "./metrics.js";
import {
  createOrchestrationWorkSource,
  createResultDelivery,
  RunningActivities,
  RunningEpisodes,
} from "./orchestration-worker.js";
import { defaultMaxEpisodeAttempts } from "./poison.js";
import { WorkDispatcher, type WorkSource } from "./work-dispatcher.js";

/** Options of {@link createTaskHubWorker}. */
export interface TaskHubWorkerOptions {
  readonly backend: Backend;
  /** Runs the episodes and activities (e.g. `createTaskExecutor` of `@durabletask/task`). */
  readonly executor: Executor;
  readonly logger?: Logger | undefined;
  /** Orchestration episodes run at once; default 100. */
  readonly maxConcurrentOrchestrations?: number | undefined;
  /** Activities run at once; default 100. */
  readonly maxConcurrentActivities?: number | undefined;
  /**
   * Longest idle wait between polls, default 1000 ms. Work created in this process is picked up
   * at once; polling only finds work that other processes sharing the store created.
   */
  readonly maxPollIntervalMs?: number | undefined;
  /**
   * How long {@link TaskHubWorker.stop} lets in-flight work finish before it fires the
   * activities' `AbortSignal` and gives unfinished work back for a later run; default 30 s.
   */
  readonly drainTimeoutMs?: number | undefined;
  /**
   * How many times an orchestration episode or an activity work item may fail outside user code
   * (the executor throws or cannot run it, the result cannot be stored) before it is given up:
   * the orchestration then fails, or the activity reports a failure to its orchestration, with
   * error type `PoisonWorkItem` and a message naming the attempts and the last error. Failed
   * attempts are retried after 0 s, 1 s, 2 s, 4 s, … (at most 5 min); shutdown, lost leases and
   * `Unavailable` storage never end an item. Default 10.
   */
  readonly maxEpisodeAttempts?: number | undefined;
  /** Stop the backend after draining in {@link TaskHubWorker.stop}; default true. */
  readonly stopBackendOnStop?: boolean | undefined;
}

/** Runs orchestrations and activities stored in a backend. */
export interface TaskHubWorker {
  /** Starts the backend (creating the task hub if needed) and both workers. */
  start(): Promise<void>;
  /**
   * Stops fetching work and waits for in-flight work to finish and commit. Activities still
   * running after `drainTimeoutMs` see their `AbortSignal` fire and are given back to run again
   * later. Then stops the backend (unless `stopBackendOnStop: false`). Idempotent.
   */
  stop(): Promise<void>;
}

function positiveInteger(value: number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw invalidArgument(field, `must be an integer ≥ 1, got ${value}`);
  return value;
}

/** Limits a work source to what the executor can take now, when the executor says. */
function withCapacity<T>(
  source: WorkSource<T>,
  executor: Executor,
  kind: "orchestration" | "activity",
): WorkSource<T> {
  const capacity = executor.capacity;
  if (capacity === undefined) return source;
  return { ...source, capacity: () => capacity.call(executor, kind) };
}

/**
 * Creates a worker that runs the backend's orchestrations and activities with `executor`.
 *
 * @example
 * const worker = createTaskHubWorker({ backend, executor: createTaskExecutor({ registry }) });
 * await worker.start();
 */
export function createTaskHubWorker(options: TaskHubWorkerOptions): TaskHubWorker {
  const { backend, executor } = options;
  const logger = options.logger ?? silentLogger;
  const maxPollIntervalMs = positiveInteger(options.maxPollIntervalMs, "maxPollIntervalMs", 1000);
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
  assertNonNegativeMs(drainTimeoutMs, "drainTimeoutMs");
  const maxEpisodeAttempts = positiveInteger(
    options.maxEpisodeAttempts,
    "maxEpisodeAttempts",
    defaultMaxEpisodeAttempts,
  );
  const metrics = createEngineMetrics();
  const running = new RunningEpisodes();
  const runningActivities = new RunningActivities();
  const orchestrations = new WorkDispatcher<OrchestrationWorkItem>(
    withCapacity(
      metrics.instrument(
        createOrchestrationWorkSource({ backend, executor, logger, maxEpisodeAttempts, running }),
        "orchestration",
      ),
      executor,
      "orchestration",
    ),
    {
      name: "orchestration-worker",
      logger,
      maxConcurrent: positiveInteger(
        options.maxConcurrentOrchestrations,
        "maxConcurrentOrchestrations",
        100,
      ),
      maxPollIntervalMs,
    },
  );
  // An activity's result and the episode it starts are committed together when they can be.
  const deliver = createResultDelivery({
    backend,
    executor,
    logger,
    tryRunInSlot: (work) => orchestrations.tryRunInSlot(work),
    onEpisodeCommitted: (durationMs) => metrics.episodeCommitted(durationMs),
    running,
    activities: runningActivities,
  });
  const activities = new WorkDispatcher<ActivityWorkItem>(
    metrics.instrument(
      createActivityWorkSource({
        backend,
        executor,
        logger,
        maxEpisodeAttempts,
        deliver,
        running: runningActivities,
      }),
      "activity",
    ),
    {
      name: "activity-worker",
      logger,
      maxConcurrent: positiveInteger(
        options.maxConcurrentActivities,
        "maxConcurrentActivities",
        100,
      ),
      maxPollIntervalMs,
    },
  );
  let unsubscribe: (() => void) | undefined;
  let state: "new" | "started" | "stopped" = "new";
  return {
    async start() {
      if (state === "started") return;
      if (state === "stopped")
        throw new DurableTaskError("InvalidArgument", "worker: cannot restart a stopped worker");
      await backend.start();
      const unsubscribeBackend = backend.subscribe({
        onWork: (kind, visibleAtMs) =>
          (kind === "orchestration" ? orchestrations : activities).notify(visibleAtMs),
      });
      const unsubscribeExecutor = executor.onCapacityAvailable?.(() => {
        orchestrations.notifyCapacity();
        activities.notifyCapacity();
      });
      const unobserveBacklog = metrics.observeBacklog(backend);
      unsubscribe = () => {
        unsubscribeBackend();
        unsubscribeExecutor?.();
        unobserveBacklog();
      };
      orchestrations.start();
      activities.start();
      state = "started";
      logger.info("worker started", { backend: backend.description });
    },
    async stop() {
      if (state !== "started") return;
      state = "stopped";
      logger.info("worker stopping: draining in-flight work");
      const abortAfterMs = drainTimeoutMs;
      await Promise.all([orchestrations.stop({ abortAfterMs }), activities.stop({ abortAfterMs })]);
      unsubscribe?.();
      if (options.stopBackendOnStop ?? true) await backend.stop();
      logger.info("worker stopped");
    },
  };
}
