export type { Activity, ActivityContext } from "./activity-context.js";
export type {
  CallActivityOptions,
  CallSubOrchestratorOptions,
  ContinueAsNewOptions,
  OrchestrationContext,
  Orchestrator,
  WaitForExternalEventOptions,
} from "./orchestration-context.js";
export type { TaskRegistry } from "./registry.js";
export { createTaskRegistry, wildcardName } from "./registry.js";
export type { RetryPolicy } from "./retry-policy.js";
export type { Task } from "./task.js";
export type { WhenAllResult } from "./task-combinators.js";
export type { TaskExecutorOptions } from "./task-executor.js";
export { createTaskExecutor } from "./task-executor.js";
