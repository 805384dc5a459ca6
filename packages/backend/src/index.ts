export type {
  Backend,
  BackendListener,
  ReusePolicy,
  CreateInstanceOptions,
  CreateInstanceResult,
  OrchestrationWorkItem,
  ActivityWorkItem,
  InstanceUpdate,
  OutboundMessage,
  SubOrchestrationStart,
  TimerStart,
  OrchestrationCommit,
  InstanceQuery,
  InstanceQueryPage,
  InstanceIdQuery,
  InstanceIdPage,
  PurgeFilter,
  WorkKind,
} from "./backend.js";
export { OrchestrationRuntimeState } from "./runtime-state.js";
export { applyActions, defaultChildInstanceId } from "./apply-actions.js";
export type { ApplyOutcome } from "./apply-actions.js";
export { runEpisode } from "./orchestration-episode.js";
export type { EpisodeContext } from "./orchestration-episode.js";
export { WorkDispatcher } from "./work-dispatcher.js";
export type { WorkSource, WorkDispatcherOptions } from "./work-dispatcher.js";
export { createOrchestrationWorkSource, abandonDelayMs } from "./orchestration-worker.js";
export { createActivityWorkSource, activityRequest, resultEvent } from "./activity-worker.js";
export { createTaskHubWorker } from "./task-hub-worker.js";
export type { TaskHubWorker, TaskHubWorkerOptions } from "./task-hub-worker.js";
export { createTaskHubClient } from "./client.js";
export type { TaskHubClient, TaskHubClientOptions, ScheduleOptions, TerminateOptions } from "./client.js";
export type { WaitOptions } from "./wait-for-instance.js";
export { purgeRecursively } from "./purge.js";
