import type { Executor } from "@durabletask/api";
import type { Backend, TaskHubClient, TaskHubWorker } from "@durabletask/backend";
import { createTaskHubClient, createTaskHubWorker } from "@durabletask/backend";
import { createTaskExecutor, createTaskRegistry, type TaskRegistry } from "@durabletask/task";
import type { BackendFactory, BackendFactoryOptions } from "./backend-factory.js";

/** A running engine for one test: backend, worker, client and the registry it runs. */
export interface EngineHarness {
  readonly backend: Backend;
  readonly client: TaskHubClient;
  readonly worker: TaskHubWorker;
  readonly registry: TaskRegistry;
  /** Stops the worker (draining) and the backend. */
  stop(): Promise<void>;
}

/** Options of {@link startEngine}. */
export interface StartEngineOptions extends BackendFactoryOptions {
  readonly maxConcurrentOrchestrations?: number;
  readonly maxConcurrentActivities?: number;
  /** Start on this backend instead of a new one (it is then not stopped by `stop()`). */
  readonly backend?: Backend;
  /** The executor's `replayCacheSize` (0: every episode replays from the start). */
  readonly replayCacheSize?: number;
  /** Wraps the in-process executor (to observe or slow down what it runs). */
  readonly wrapExecutor?: (executor: Executor) => Executor;
}

/**
 * Starts an in-process engine on a fresh backend with the orchestrators and activities that
 * `register` adds.
 */
export async function startEngine(
  createBackend: BackendFactory,
  register: (registry: TaskRegistry) => void,
  options: StartEngineOptions = {},
): Promise<EngineHarness> {
  const backend =
    options.backend ??
    (await createBackend({
      orchestrationLockTimeoutMs: options.orchestrationLockTimeoutMs,
      activityLockTimeoutMs: options.activityLockTimeoutMs,
    }));
  const registry = createTaskRegistry();
  register(registry);
  const executor = createTaskExecutor({ registry, replayCacheSize: options.replayCacheSize });
  const worker = createTaskHubWorker({
    backend,
    executor: options.wrapExecutor?.(executor) ?? executor,
    maxConcurrentOrchestrations: options.maxConcurrentOrchestrations,
    maxConcurrentActivities: options.maxConcurrentActivities,
    stopBackendOnStop: options.backend === undefined,
  });
  await worker.start();
  const client = createTaskHubClient({ backend });
  return { backend, client, worker, registry, stop: () => worker.stop() };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
