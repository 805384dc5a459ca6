import type { Executor, Logger } from "@durabletask/api";
import type { Backend, OrchestrationWorkItem } from "./backend.js";
import { failedEpisode, runEpisode } from "./orchestration-episode.js";
import { defaultMaxEpisodeAttempts, poisonFailure } from "./poison.js";
import type { OrchestrationRuntimeState } from "./runtime-state.js";
import { traceCommittedEpisode } from "./tracing.js";
import type { WorkSource } from "./work-dispatcher.js";

/** Longest delay before an abandoned work item is retried. */
const maxAbandonDelayMs = 5 * 60_000;

/**
 * Retry delay of an item that failed `retryCount` times before: the first retry is immediate,
 * then 1 s, 2 s, 4 s, … up to 5 minutes, so a poison item does not spin.
 */
export function abandonDelayMs(retryCount: number): number {
  if (retryCount <= 0) return 0;
  return Math.min(1000 * 2 ** (retryCount - 1), maxAbandonDelayMs);
}

/** Options of {@link createOrchestrationWorkSource}. */
export interface OrchestrationWorkSourceOptions {
  readonly backend: Backend;
  readonly executor: Executor;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Attempts before an episode that keeps failing outside user code fails the instance. */
  readonly maxEpisodeAttempts?: number | undefined;
}

/** Orchestration episodes as a {@link WorkSource}: lock, run the episode, commit. */
export function createOrchestrationWorkSource(
  options: OrchestrationWorkSourceOptions,
): WorkSource<OrchestrationWorkItem> {
  const { backend, executor, logger } = options;
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxEpisodeAttempts ?? defaultMaxEpisodeAttempts;
  const describe = (item: OrchestrationWorkItem) => `orchestration '${item.instanceId}'`;
  return {
    fetch: (maxCount) => backend.lockOrchestrationWorkItems(maxCount),
    async process(item, signal) {
      const ended: OrchestrationRuntimeState[] = [];
      const onContinuedAsNew = (state: OrchestrationRuntimeState) => ended.push(state);
      const commit = await runEpisode(item, { executor, logger, now, signal, onContinuedAsNew });
      // The backend may extend the history array once the commit is done: note its length.
      const historyLength = item.history.length;
      await backend.completeOrchestrationWorkItem(item, commit);
      traceCommittedEpisode(item, commit, ended, now(), logger, historyLength);
      if (commit.instance.completedAtMs !== undefined && commit.appendHistory.length > 0) {
        logger.info("orchestration completed", {
          instanceId: item.instanceId,
          status: commit.instance.runtimeStatus,
        });
      }
    },
    async abandon(item, error) {
      try {
        const failure = poisonFailure(describe(item), error, {
          retryCount: item.retryCount,
          maxAttempts,
        });
        const commit = failure && failedEpisode(item, failure, { logger, now });
        if (commit !== undefined) {
          const historyLength = item.history.length;
          await backend.completeOrchestrationWorkItem(item, commit);
          traceCommittedEpisode(item, commit, [], now(), logger, historyLength);
          logger.error("poison work item: orchestration failed", {
            instanceId: item.instanceId,
            failure: failure?.errorMessage,
          });
          return;
        }
        await backend.abandonOrchestrationWorkItem(item, abandonDelayMs(item.retryCount));
      } catch (abandonError) {
        logger.warn("failed to abandon orchestration work item", {
          instanceId: item.instanceId,
          workItem: "orchestration",
          error: abandonError,
          cause: error,
        });
      }
    },
    leaseExpiresAtMs: (item) => item.lockExpiresAtMs,
    renew: (item) => backend.renewOrchestrationWorkItemLock(item),
    describe,
    logFields: (item) => ({ instanceId: item.instanceId, workItem: "orchestration" }),
  };
}
