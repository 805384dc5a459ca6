export type { Exposure } from "./access.js";
export { exposureProblem, isLoopbackHost } from "./access.js";
export type { Command } from "./flags.js";
export { flags, parseCommand, usage } from "./flags.js";
export type { LogFormat, LoggerOptions } from "./logger.js";
export { createLogger, logFormats, logLevels } from "./logger.js";
export type { BackendKind, Sidecar, SidecarOptions, SqliteSynchronous } from "./sidecar.js";
export { createSidecar, maxReceiveMessageBytes, sqliteSynchronousModes } from "./sidecar.js";
export type {
  OtlpProtocol,
  Telemetry,
  TelemetryExporter,
  TelemetrySettings,
} from "./telemetry.js";
export { startTelemetry, telemetrySettings } from "./telemetry.js";
export { UsageError } from "./usage-error.js";
