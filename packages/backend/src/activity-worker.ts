import { create } from "@bufbuild/protobuf";
import {
  type Executor,
  type Logger,
  taskCompletedEvent,
  taskFailedEvent,
  toWireFailure,
} from "@durabletask/api";
import {
  ActivityRequestSchema,
  type ActivityResponse,
  type HistoryEvent,
} from "@durabletask/api/proto";
import type { ActivityWorkItem, Backend } from "./backend.js";
import { abandonDelayMs, type DeliverResult, RunningActivities } from "./orchestration-worker.js";
import { defaultMaxEpisodeAttempts, poisonFailure } from "./poison.js";
import { traceActivity } from "./tracing.js";
import type { WorkSource } from "./work-dispatcher.js";

/** Options of {@link createActivityWorkSource}. */
export interface ActivityWorkSourceOptions {
  readonly backend: Backend;
  readonly executor: Executor;
  readonly logger: Logger;
  readonly now?: () => number;
  /**
   * Attempts before a task whose work item keeps failing outside the activity's code (the
   * executor throws, its result cannot be stored) is failed with a `PoisonWorkItem` failure.
   */
  readonly maxEpisodeAttempts?: number | undefined;
  /** How results reach their orchestration; default `backend.completeActivityWorkItem`. */
  readonly deliver?: DeliverResult | undefined;
  /** Counts the activities of each instance while they run (for `deliver`). */
  readonly running?: RunningActivities | undefined;
}

/** Activity tasks as a {@link WorkSource}: lock, execute, deliver the result. */
export function createActivityWorkSource(
  options: ActivityWorkSourceOptions,
): WorkSource<ActivityWorkItem> {
  const { backend, executor, logger } = options;
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxEpisodeAttempts ?? defaultMaxEpisodeAttempts;
  const running = options.running ?? new RunningActivities();
  const deliver: DeliverResult =
    options.deliver ?? ((item, result) => backend.completeActivityWorkItem(item, result));
  const describe = (item: ActivityWorkItem) => `activity ${item.instanceId}#${item.event.eventId}`;
  return {
    fetch: (maxCount) => backend.lockActivityWorkItems(maxCount),
    process: (item, signal) =>
      running.run(item.instanceId, async () => {
        const request = activityRequest(item);
        const response = await traceActivity(request, () =>
          executor.executeActivity(request, { signal }),
        );
        // A failure caused by shutdown or a lost lease is not the activity's result: give the
        // task back so it runs again. A success is committed (a lost lease then fails the commit).
        if (signal.aborted && response.failureDetails !== undefined) throw signal.reason;
        await deliver(item, resultEvent(item, response, now()), signal);
      }),
    async abandon(item, error) {
      try {
        const failure = poisonFailure(describe(item), error, {
          retryCount: item.retryCount,
          maxAttempts,
        });
        if (failure !== undefined) {
          const failed = taskFailedEvent(now(), item.event.eventId, toWireFailure(failure));
          await backend.completeActivityWorkItem(item, failed);
          logger.error("poison work item: activity failed", {
            instanceId: item.instanceId,
            taskId: item.event.eventId,
            failure: failure.errorMessage,
          });
          return;
        }
        await backend.abandonActivityWorkItem(item, abandonDelayMs(item.retryCount));
      } catch (abandonError) {
        logger.warn("failed to abandon activity work item", {
          instanceId: item.instanceId,
          taskId: item.event.eventId,
          workItem: "activity",
          error: abandonError,
          cause: error,
        });
      }
    },
    leaseExpiresAtMs: (item) => item.lockExpiresAtMs,
    renew: (item) => backend.renewActivityWorkItemLock(item),
    describe,
    logFields: (item) => ({
      instanceId: item.instanceId,
      taskId: item.event.eventId,
      workItem: "activity",
    }),
  };
}

/** The wire request for an activity work item. */
export function activityRequest(item: ActivityWorkItem) {
  const scheduled =
    item.event.eventType.case === "taskScheduled" ? item.event.eventType.value : undefined;
  return create(ActivityRequestSchema, {
    name: scheduled?.name ?? "",
    version: scheduled?.version,
    input: scheduled?.input,
    orchestrationInstance: { instanceId: item.instanceId, executionId: item.executionId },
    taskId: item.event.eventId,
    parentTraceContext: scheduled?.parentTraceContext,
    tags: scheduled?.tags ?? {},
  });
}

/** The history event that reports an activity's response to its orchestration. */
export function resultEvent(
  item: ActivityWorkItem,
  response: ActivityResponse,
  atMs: number,
): HistoryEvent {
  if (response.failureDetails !== undefined) {
    return taskFailedEvent(atMs, item.event.eventId, response.failureDetails);
  }
  return taskCompletedEvent(atMs, item.event.eventId, response.result);
}
