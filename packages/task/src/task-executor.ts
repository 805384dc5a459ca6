import {
  describe,
  type ExecuteOptions,
  type Executor,
  invalidArgument,
  type Logger,
  silentLogger,
  withLogFields,
} from "@durabletask/api";
import type {
  ActivityRequest,
  ActivityResponse,
  OrchestratorRequest,
  OrchestratorResponse,
} from "@durabletask/api/proto";
import { OrchestrationReplay } from "./orchestration-replay.js";
import type { TaskRegistry } from "./registry.js";
import { runActivity } from "./run-activity.js";

/** Options of {@link createTaskExecutor}. */
export interface TaskExecutorOptions {
  /** The orchestrators and activities to run. */
  readonly registry: TaskRegistry;
  /** Where diagnostics go; default {@link silentLogger}. */
  readonly logger?: Logger | undefined;
  /**
   * How many running orchestration executions stay replayed in memory between episodes; default
   * 256, 0 turns it off. An episode of a cached execution applies only the events it has not
   * seen (when its history starts with exactly what was applied; otherwise it replays from the
   * start), so a long history is not replayed again at every step. The least recently used
   * execution is dropped first; completed, failed and continued-as-new ones at once.
   */
  readonly replayCacheSize?: number | undefined;
}

/** The default of {@link TaskExecutorOptions.replayCacheSize}. */
export const defaultReplayCacheSize = 256;

function cacheSizeOf(value: unknown): number {
  if (value === undefined) return defaultReplayCacheSize;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument("replayCacheSize", `must be an integer ≥ 0, got ${describe(value)}`);
  }
  return value;
}

/** Replays kept between episodes, by instance and execution, least recently used first. */
class ReplayCache {
  readonly #max: number;
  readonly #replays = new Map<string, OrchestrationReplay>();

  constructor(max: number) {
    this.#max = max;
  }

  /** Removes and returns the replay `request` continues, if any (a mismatch is dropped). */
  take(request: OrchestratorRequest): OrchestrationReplay | undefined {
    const key = keyOf(request);
    const replay = this.#replays.get(key);
    if (replay === undefined) return undefined;
    this.#replays.delete(key);
    return replay.continues(request) ? replay : undefined;
  }

  put(request: OrchestratorRequest, replay: OrchestrationReplay): void {
    if (this.#max === 0 || !replay.resumable) return;
    this.#replays.set(keyOf(request), replay);
    if (this.#replays.size > this.#max) {
      const oldest = this.#replays.keys().next().value as string;
      this.#replays.delete(oldest);
    }
  }
}

function keyOf(request: OrchestratorRequest): string {
  return `${request.instanceId}\u0000${request.executionId}`;
}

/**
 * An in-process {@link Executor} that runs the TypeScript orchestrators and activities of
 * `registry`.
 *
 * - `executeOrchestrator` replays the request's history against the orchestrator and returns
 *   its new actions, sorted by sequence number. It never throws: unregistered orchestrators,
 *   errors of user code, unserializable output and nondeterminism (history that does not match
 *   what the code does now, or awaiting a non-durable promise) all complete the orchestration
 *   FAILED, with `errorType` `OrchestratorNotRegistered` or `NonDeterminism` for the engine's
 *   own verdicts.
 * - `executeActivity` runs one activity and returns its JSON result or its failure details
 *   (`ActivityNotRegistered` when nobody registered the name). It rejects with a
 *   {@link DurableTaskError} `Aborted` only when `options.signal` fires first.
 *
 * @throws {@link DurableTaskError} `InvalidArgument` when `registry` is missing.
 * @example
 * ```ts
 * const registry = createTaskRegistry()
 *   .addActivity(async function greet(_ctx, name: string) { return `Hello, ${name}!`; })
 *   .addOrchestrator(async function hello(ctx) { return await ctx.callActivity(greet, "Tokyo"); });
 * const executor = createTaskExecutor({ registry });
 * ```
 */
export function createTaskExecutor(options: TaskExecutorOptions): Executor {
  const registry = options?.registry;
  if (registry === undefined || typeof registry.getOrchestrator !== "function") {
    throw invalidArgument("registry", "must be a TaskRegistry (see createTaskRegistry)");
  }
  const logger = options.logger ?? silentLogger;
  const cache = new ReplayCache(cacheSizeOf(options.replayCacheSize));
  return {
    async executeOrchestrator(
      request: OrchestratorRequest,
      execute?: ExecuteOptions,
    ): Promise<OrchestratorResponse> {
      const replay =
        cache.take(request) ??
        new OrchestrationReplay(
          request,
          registry,
          withLogFields(logger, { instanceId: request.instanceId }),
        );
      await replay.run(request);
      const response = replay.response(request);
      // An aborted episode is not committed: its successor must not build on it.
      if (execute?.signal?.aborted !== true) cache.put(request, replay);
      return response;
    },
    executeActivity(request: ActivityRequest, execute?: ExecuteOptions): Promise<ActivityResponse> {
      return runActivity(registry, request, execute?.signal ?? new AbortController().signal);
    },
  };
}
