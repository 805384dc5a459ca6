export type { ErrorCode, FailureDetails, DurableTaskErrorOptions } from "./errors.js";
export { DurableTaskError, invalidArgument } from "./errors.js";
export type { Logger, LogFields, LogLevel } from "./logger.js";
export { silentLogger, levelEnabled, withLogFields } from "./logger.js";
export type { OrchestrationStatus } from "./status.js";
export {
  orchestrationStatuses,
  terminalStatuses,
  isTerminalStatus,
  toWireStatus,
  fromWireStatus,
  isOrchestrationStatus,
} from "./status.js";
export type {
  OrchestrationMetadata,
  OrchestrationMetadataJson,
  FailureDetailsJson,
} from "./metadata.js";
export { metadataToJson } from "./metadata.js";
export { toWireFailure, fromWireFailure, failureOf } from "./failure-details.js";
export { timestampOfMs, msOfTimestamp, dateOfTimestamp } from "./time.js";
export type { HistoryEventKind, HistoryEventOf, ExecutionStartedInit } from "./history.js";
export {
  executionStartedEvent,
  executionCompletedEvent,
  executionTerminatedEvent,
  executionSuspendedEvent,
  executionResumedEvent,
  eventRaisedEvent,
  orchestratorStartedEvent,
  orchestratorCompletedEvent,
  taskScheduledEvent,
  taskCompletedEvent,
  taskFailedEvent,
  timerCreatedEvent,
  timerFiredEvent,
  subOrchestrationCreatedEvent,
  subOrchestrationCompletedEvent,
  subOrchestrationFailedEvent,
  eventSentEvent,
  eventTimeMs,
  describeEvent,
} from "./history.js";
export type { Executor, ExecuteOptions } from "./executor.js";
export {
  maxInstanceIdLength,
  maxNameLength,
  assertInstanceId,
  assertName,
  assertNonNegativeMs,
  assertDate,
  serializePayload,
  deserializePayload,
  describe,
} from "./validation.js";
