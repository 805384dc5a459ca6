import {
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
import { replayOrchestration } from "./orchestration-replay.js";
import type { TaskRegistry } from "./registry.js";
import { runActivity } from "./run-activity.js";

/** Options of {@link createTaskExecutor}. */
export interface TaskExecutorOptions {
  /** The orchestrators and activities to run. */
  readonly registry: TaskRegistry;
  /** Where diagnostics go; default {@link silentLogger}. */
  readonly logger?: Logger | undefined;
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
  return {
    executeOrchestrator(request: OrchestratorRequest): Promise<OrchestratorResponse> {
      return replayOrchestration(
        request,
        registry,
        withLogFields(logger, { instanceId: request.instanceId }),
      );
    },
    executeActivity(request: ActivityRequest, execute?: ExecuteOptions): Promise<ActivityResponse> {
      return runActivity(registry, request, execute?.signal ?? new AbortController().signal);
    },
  };
}
