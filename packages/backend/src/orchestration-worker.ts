import type { Executor, Logger } from "@durabletask/api";
import type { HistoryEvent } from "@durabletask/api/proto";
import type {
  ActivityWorkItem,
  Backend,
  OrchestrationCommit,
  OrchestrationWorkItem,
} from "./backend.js";
import { type EpisodeContext, failedEpisode, runEpisode } from "./orchestration-episode.js";
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

/**
 * The instances with an episode running in this process. Their episodes run one at a time: an
 * executor is never asked for two episodes of one instance at once (a sidecar matches an SDK's
 * answer to its work item by instance id), even when an episode of an activity's result, which
 * holds no lease while it runs, meets an episode of a lease taken meanwhile.
 */
export class RunningEpisodes {
  readonly #running = new Map<string, Promise<unknown>>();

  /** True while an episode of `instanceId` runs here. */
  has(instanceId: string): boolean {
    return this.#running.has(instanceId);
  }

  /** Runs `episode` once no other episode of `instanceId` runs here. */
  async run<R>(instanceId: string, episode: () => Promise<R>): Promise<R> {
    for (let other = this.#running.get(instanceId); other !== undefined; ) {
      await other.then(ignore, ignore);
      other = this.#running.get(instanceId);
    }
    const running = episode();
    this.#running.set(instanceId, running);
    try {
      return await running;
    } finally {
      if (this.#running.get(instanceId) === running) this.#running.delete(instanceId);
    }
  }
}

function ignore(): void {}

/** How many activities of each instance this process is running now. */
export class RunningActivities {
  readonly #counts = new Map<string, number>();

  /** Runs `activity` of `instanceId`, counted while it runs (its result's delivery included). */
  async run<R>(instanceId: string, activity: () => Promise<R>): Promise<R> {
    this.#counts.set(instanceId, (this.#counts.get(instanceId) ?? 0) + 1);
    try {
      return await activity();
    } finally {
      const left = (this.#counts.get(instanceId) ?? 1) - 1;
      if (left > 0) this.#counts.set(instanceId, left);
      else this.#counts.delete(instanceId);
    }
  }

  /** How many activities of `instanceId` run here now. */
  count(instanceId: string): number {
    return this.#counts.get(instanceId) ?? 0;
  }
}

/** Options of {@link createOrchestrationWorkSource}. */
export interface OrchestrationWorkSourceOptions {
  readonly backend: Backend;
  readonly executor: Executor;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Attempts before an episode that keeps failing outside user code fails the instance. */
  readonly maxEpisodeAttempts?: number | undefined;
  /** Shared with {@link createResultDelivery}, so that an instance's episodes run one at a time. */
  readonly running?: RunningEpisodes | undefined;
}

/** Orchestration episodes as a {@link WorkSource}: lock, run the episode, commit. */
export function createOrchestrationWorkSource(
  options: OrchestrationWorkSourceOptions,
): WorkSource<OrchestrationWorkItem> {
  const { backend, executor, logger } = options;
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxEpisodeAttempts ?? defaultMaxEpisodeAttempts;
  const running = options.running ?? new RunningEpisodes();
  const describe = (item: OrchestrationWorkItem) => `orchestration '${item.instanceId}'`;
  return {
    fetch: (maxCount) => backend.lockOrchestrationWorkItems(maxCount),
    process: (item, signal) =>
      running.run(item.instanceId, async () => {
        const episode = await runTracedEpisode(item, { executor, logger, now, signal });
        await backend.completeOrchestrationWorkItem(item, episode.commit);
        episode.committed();
      }),
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

/** An episode run, and what to do once its commit applied (trace it, log a completion). */
interface RanEpisode {
  readonly commit: OrchestrationCommit;
  committed(): void;
}

async function runTracedEpisode(
  item: OrchestrationWorkItem,
  ctx: Omit<EpisodeContext, "onContinuedAsNew">,
): Promise<RanEpisode> {
  const ended: OrchestrationRuntimeState[] = [];
  const onContinuedAsNew = (state: OrchestrationRuntimeState) => ended.push(state);
  const commit = await runEpisode(item, { ...ctx, onContinuedAsNew });
  // The backend may extend the history array once the commit is done: note its length.
  const historyLength = item.history.length;
  return {
    commit,
    committed() {
      traceCommittedEpisode(item, commit, ended, ctx.now(), ctx.logger, historyLength);
      if (commit.instance.completedAtMs !== undefined && commit.appendHistory.length > 0) {
        ctx.logger.info("orchestration completed", {
          instanceId: item.instanceId,
          status: commit.instance.runtimeStatus,
        });
      }
    },
  };
}

/** Options of {@link createResultDelivery}. */
export interface ResultDeliveryOptions {
  readonly backend: Backend;
  readonly executor: Executor;
  readonly logger: Logger;
  readonly now?: () => number;
  /**
   * Runs an episode in a free orchestration slot, or returns `undefined` when none is free (the
   * orchestration dispatcher's `tryRunInSlot`).
   */
  readonly tryRunInSlot: <R>(work: () => Promise<R>) => Promise<R> | undefined;
  /** Called with the duration of each episode committed together with its activity's result. */
  readonly onEpisodeCommitted?: ((durationMs: number) => void) | undefined;
  /** The orchestration work source's (see {@link RunningEpisodes}). */
  readonly running: RunningEpisodes;
  /** The activity work source's: results of an instance with more activities running here wait. */
  readonly activities: RunningActivities;
}

/** Delivers an activity's result to its orchestration. */
export type DeliverResult = (
  item: ActivityWorkItem,
  result: HistoryEvent,
  signal: AbortSignal,
) => Promise<void>;

/**
 * How the activity worker delivers results: when the backend can commit a result together with
 * the episode it starts ({@link Backend.completeActivityWithEpisode}), an orchestration slot is
 * free and this is the only activity of its instance running here, the episode runs here at
 * once in that slot and one write commits both; otherwise (and whenever the instance is busy or
 * the episode cannot run) the result goes to the inbox as before.
 */
export function createResultDelivery(options: ResultDeliveryOptions): DeliverResult {
  const { backend, executor, logger, tryRunInSlot, onEpisodeCommitted, running, activities } =
    options;
  const now = options.now ?? Date.now;
  const alone: DeliverResult = (item, result) => backend.completeActivityWorkItem(item, result);
  const completeWithEpisode = backend.completeActivityWithEpisode;
  if (completeWithEpisode === undefined) return alone;
  const fused = async (item: ActivityWorkItem, result: HistoryEvent, signal: AbortSignal) => {
    let episode: RanEpisode | undefined;
    let startedAt = 0;
    const applied = await completeWithEpisode.call(backend, item, result, async (workItem) => {
      startedAt = performance.now();
      try {
        episode = await runTracedEpisode(workItem, { executor, logger, now, signal });
        return episode.commit;
      } catch (error) {
        // The result then goes to the inbox, and the episode runs (and is retried) as usual.
        logger.warn("could not run the episode of an activity result; queueing the result", {
          instanceId: item.instanceId,
          taskId: item.event.eventId,
          error,
        });
        return undefined;
      }
    });
    if (!applied || episode === undefined) return;
    onEpisodeCommitted?.(performance.now() - startedAt);
    episode.committed();
  };
  return (item, result, signal) => {
    // An episode of the instance runs here already, or more of its results are on their way
    // (a fan-out): the result waits for the next episode, which takes them all at once.
    if (running.has(item.instanceId) || activities.count(item.instanceId) > 1) {
      return alone(item, result, signal);
    }
    return (
      tryRunInSlot(() => running.run(item.instanceId, () => fused(item, result, signal))) ??
      alone(item, result, signal)
    );
  };
}
