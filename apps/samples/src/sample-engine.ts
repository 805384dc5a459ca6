import { DurableTaskError, type Logger, type OrchestrationMetadata } from "@durabletask/api";
import { createTaskHubClient, createTaskHubWorker, type TaskHubClient } from "@durabletask/backend";
import { createSqliteBackend } from "@durabletask/sqlite";
import { createTaskExecutor, type TaskRegistry } from "@durabletask/task";

/** Options every sample's `main()` takes. */
export interface SampleOptions {
  /** SQLite database file; default `":memory:"` (the CLI defaults to a file instead). */
  readonly dbPath?: string | undefined;
  /** Where the engine's diagnostics go; default: nowhere. */
  readonly logger?: Logger | undefined;
  /** Where the sample's human summary goes; default `console.log`. */
  readonly print?: ((line: string) => void) | undefined;
}

/** What a running sample works with. */
export interface SampleEngine {
  readonly client: TaskHubClient;
  readonly print: (line: string) => void;
}

/** How long a sample waits for its orchestration before giving up. */
export const sampleTimeoutMs = 60_000;

/**
 * Starts a worker running `registry` on a SQLite backend, calls `run` with a client, and always
 * stops the worker (draining in-flight work) before returning `run`'s result.
 */
export async function withSampleEngine<T>(
  registry: TaskRegistry,
  options: SampleOptions,
  run: (engine: SampleEngine) => Promise<T>,
): Promise<T> {
  const { logger } = options;
  const backend = createSqliteBackend({ path: options.dbPath ?? ":memory:", logger });
  const executor = createTaskExecutor({ registry, logger });
  const worker = createTaskHubWorker({ backend, executor, logger });
  await worker.start();
  try {
    const client = createTaskHubClient({ backend, logger });
    return await run({ client, print: options.print ?? ((line) => console.log(line)) });
  } finally {
    await worker.stop();
  }
}

/** Schedules `orchestrator` with `input` and waits for it to finish. */
export async function runToCompletion(
  client: TaskHubClient,
  orchestrator: string,
  input?: unknown,
): Promise<OrchestrationMetadata> {
  const id = await client.scheduleNewOrchestration(orchestrator, { input });
  return client.waitForOrchestrationCompletion(id, { timeoutMs: sampleTimeoutMs });
}

/**
 * The parsed output of a COMPLETED orchestration.
 *
 * @throws {@link DurableTaskError} `TaskFailed` with the failure details when it did not complete.
 */
export function outputOf<T>(metadata: OrchestrationMetadata): T {
  if (metadata.runtimeStatus !== "COMPLETED") {
    const reason = metadata.failureDetails?.errorMessage ?? "no failure details";
    throw new DurableTaskError(
      "TaskFailed",
      `Orchestration '${metadata.instanceId}' ended ${metadata.runtimeStatus}: ${reason}`,
      { failureDetails: metadata.failureDetails },
    );
  }
  const text = metadata.serializedOutput;
  return (text === undefined ? undefined : JSON.parse(text)) as T;
}
