export type { DurableTaskErrorOptions, ErrorCode, FailureDetails } from "./errors.js";
export { DurableTaskError, invalidArgument } from "./errors.js";
export type { ExecuteOptions, Executor } from "./executor.js";
export { failureOf, fromWireFailure, toWireFailure } from "./failure-details.js";
export type { ExecutionStartedInit, HistoryEventKind, HistoryEventOf } from "./history.js";
export {
  describeEvent,
  eventRaisedEvent,
  eventSentEvent,
  eventTimeMs,
  executionCompletedEvent,
  executionResumedEvent,
  executionStartedEvent,
  executionSuspendedEvent,
  executionTerminatedEvent,
  orchestratorCompletedEvent,
  orchestratorStartedEvent,
  subOrchestrationCompletedEvent,
  subOrchestrationCreatedEvent,
  subOrchestrationFailedEvent,
  taskCompletedEvent,
  taskFailedEvent,
  taskScheduledEvent,
  timerCreatedEvent,
  timerFiredEvent,
} from "./history.js";
export type { LogFields, Logger, LogLevel } from "./logger.js";
export { levelEnabled, silentLogger, withLogFields } from "./logger.js";
export type {
  FailureDetailsJson,
  OrchestrationMetadata,
  OrchestrationMetadataJson,
} from "./metadata.js";
export { metadataToJson } from "./metadata.js";
export type { OrchestrationStatus } from "./status.js";
export {
  fromWireStatus,
  isOrchestrationStatus,
  isTerminalStatus,
  orchestrationStatuses,
  terminalStatuses,
  toWireStatus,
} from "./status.js";
export { dateOfTimestamp, msOfTimestamp, timestampOfMs } from "./time.js";
export {
  assertDate,
  assertInstanceId,
  assertName,
  assertNonNegativeMs,
  assertOptionalBoolean,
  assertOptionalSignal,
  describe,
  deserializePayload,
  integerOption,
  maxInstanceIdLength,
  maxNameLength,
  optionsOf,
  serializePayload,
} from "./validation.js";
