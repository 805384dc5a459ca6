export { activityRequest, createActivityWorkSource, resultEvent } from "./activity-worker.js";
export type { ApplyOutcome } from "./apply-actions.js";
export { applyActions, defaultChildInstanceId } from "./apply-actions.js";
export type {
  ActivityWorkItem,
  Backend,
  BackendListener,
  CreateInstanceOptions,
  CreateInstanceResult,
  InstanceIdPage,
  InstanceIdQuery,
  InstanceQuery,
  InstanceQueryPage,
  InstanceUpdate,
  OrchestrationCommit,
  OrchestrationWorkItem,
  OutboundMessage,
  PurgeFilter,
  ReusePolicy,
  SubOrchestrationStart,
  TimerStart,
  WorkKind,
} from "./backend.js";
export type {
  ScheduleOptions,
  TaskHubClient,
  TaskHubClientOptions,
  TerminateOptions,
} from "./client.js";
export { createTaskHubClient } from "./client.js";
export type { EngineMetrics } from "./metrics.js";
export { createEngineMetrics, metricNames } from "./metrics.js";
export type { EpisodeContext } from "./orchestration-episode.js";
export { runEpisode } from "./orchestration-episode.js";
export { abandonDelayMs, createOrchestrationWorkSource } from "./orchestration-worker.js";
export { defaultMaxEpisodeAttempts, poisonErrorType } from "./poison.js";
export { purgeRecursively } from "./purge.js";
export { OrchestrationRuntimeState } from "./runtime-state.js";
export { orchestratorNameOf, reusePolicyOf, tagsOf } from "./schedule-options.js";
export type { TaskHubWorker, TaskHubWorkerOptions } from "./task-hub-worker.js";
export { createTaskHubWorker } from "./task-hub-worker.js";
export type { TracedExecution } from "./tracing.js";
export {
  activeTraceContext,
  attr as spanAttributes,
  DurableTaskIdGenerator,
  formatTraceParent,
  instrumentationName,
  orchestrationSpanContext,
  parseTraceContext,
  toTraceContext,
  traceActivity,
  traceCreateOrchestration,
  withRemoteParent,
} from "./tracing.js";
export type { WaitOptions } from "./wait-for-instance.js";
export { waitForInstance, waitOptionsOf } from "./wait-for-instance.js";
export type { WorkDispatcherOptions, WorkSource } from "./work-dispatcher.js";
export { WorkDispatcher } from "./work-dispatcher.js";
