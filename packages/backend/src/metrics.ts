// Engine metrics through the OpenTelemetry API (meter `durabletask`). Instruments are created
// when a worker is created, from the meter provider registered then; without one they are the
// API's no-op instruments.
import { DurableTaskError } from "@durabletask/api";
import { type Attributes, type BatchObservableCallback, metrics } from "@opentelemetry/api";
import type { Backend, WorkKind } from "./backend.js";
import { instrumentationName } from "./tracing.js";
import type { WorkSource } from "./work-dispatcher.js";

/** Names of the engine's metrics. */
export const metricNames = {
  started: "durabletask.work_items.started",
  completed: "durabletask.work_items.completed",
  failed: "durabletask.work_items.failed",
  episodeDuration: "durabletask.orchestration.episode.duration",
  activityDuration: "durabletask.activity.duration",
  backlog: "durabletask.work_items.backlog",
  leaseRenewals: "durabletask.lease.renewals",
  leaseLost: "durabletask.lease.lost",
} as const;

const kindAttributes: Readonly<Record<WorkKind, Attributes>> = {
  orchestration: Object.freeze({ kind: "orchestration" }),
  activity: Object.freeze({ kind: "activity" }),
};

/** The instruments of one worker. */
export interface EngineMetrics {
  /** `source` with its items counted and timed, and its lease renewals counted. */
  instrument<T>(source: WorkSource<T>, kind: WorkKind): WorkSource<T>;
  /** Reports `backend`'s backlog while subscribed; returns the unsubscribe function. */
  observeBacklog(backend: Backend): () => void;
  /**
   * Counts and times an orchestration episode that ran outside the orchestration dispatcher's
   * fetch loop (committed together with an activity's result) as one processed work item.
   */
  episodeCommitted(durationMs: number): void;
}

/** Creates the engine's instruments on the globally registered meter provider. */
export function createEngineMetrics(): EngineMetrics {
  const meter = metrics.getMeter(instrumentationName);
  const started = meter.createCounter(metricNames.started, {
    description: "Work items taken for processing",
  });
  const completed = meter.createCounter(metricNames.completed, {
    description: "Work items processed and committed",
  });
  const failed = meter.createCounter(metricNames.failed, {
    description: "Work items whose processing failed (given back to run again)",
  });
  const durations: Record<WorkKind, ReturnType<typeof meter.createHistogram>> = {
    orchestration: meter.createHistogram(metricNames.episodeDuration, {
      description: "Time to run and commit one orchestration episode",
      unit: "ms",
    }),
    activity: meter.createHistogram(metricNames.activityDuration, {
      description: "Time to run an activity and deliver its result",
      unit: "ms",
    }),
  };
  const renewals = meter.createCounter(metricNames.leaseRenewals, {
    description: "Work item leases extended",
  });
  const lost = meter.createCounter(metricNames.leaseLost, {
    description: "Work item leases lost (another worker may run the item)",
  });
  const backlog = meter.createObservableGauge(metricNames.backlog, {
    description: "Work items ready to be taken now",
  });
  return {
    instrument(source, kind) {
      const attributes = kindAttributes[kind];
      const duration = durations[kind];
      const renew = source.renew;
      return {
        ...source,
        process(item, signal) {
          started.add(1, attributes);
          const startedAt = performance.now();
          return source.process(item, signal).then(
            () => {
              completed.add(1, attributes);
              duration.record(performance.now() - startedAt, attributes);
            },
            (error: unknown) => {
              failed.add(1, attributes);
              if (DurableTaskError.is(error, "WorkItemLockLost")) lost.add(1, attributes);
              duration.record(performance.now() - startedAt, attributes);
              throw error;
            },
          );
        },
        // A lost lease is counted once, by the attempt it ends (its commit is refused, or it is
        // aborted with the renewal's WorkItemLockLost). A renewal that fails after the item's
        // commit removed the lease is not a loss.
        renew:
          renew === undefined
            ? undefined
            : async (item) => {
                const expiresAtMs = await renew.call(source, item);
                renewals.add(1, attributes);
                return expiresAtMs;
              },
      };
    },
    episodeCommitted(durationMs) {
      const attributes = kindAttributes.orchestration;
      started.add(1, attributes);
      completed.add(1, attributes);
      durations.orchestration.record(durationMs, attributes);
    },
    observeBacklog(backend) {
      if (backend.countReadyWorkItems === undefined) return () => {};
      const observe: BatchObservableCallback = async (result) => {
        try {
          const counts = await backend.countReadyWorkItems?.();
          if (counts === undefined) return;
          result.observe(backlog, counts.orchestration, kindAttributes.orchestration);
          result.observe(backlog, counts.activity, kindAttributes.activity);
        } catch {
          // A stopped or unreachable backend has no backlog to report this time.
        }
      };
      meter.addBatchObservableCallback(observe, [backlog]);
      return () => meter.removeBatchObservableCallback(observe, [backlog]);
    },
  };
}
