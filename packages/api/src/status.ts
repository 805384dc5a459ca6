import { OrchestrationStatus as WireStatus } from "./gen/orchestrator_service_pb.js";

/**
 * Runtime status of an orchestration instance. `CANCELED` exists on the wire but is never
 * produced by this engine (the official SDKs cannot decode it).
 */
export type OrchestrationStatus =
  | "PENDING"
  | "RUNNING"
  | "COMPLETED"
  | "CONTINUED_AS_NEW"
  | "FAILED"
  | "CANCELED"
  | "TERMINATED"
  | "SUSPENDED";

/** Every status, in wire-number order. */
export const orchestrationStatuses: readonly OrchestrationStatus[] = [
  "RUNNING",
  "COMPLETED",
  "CONTINUED_AS_NEW",
  "FAILED",
  "CANCELED",
  "TERMINATED",
  "PENDING",
  "SUSPENDED",
];

/** Statuses after which an instance does nothing more until it is purged or re-created. */
export const terminalStatuses: readonly OrchestrationStatus[] = [
  "COMPLETED",
  "FAILED",
  "TERMINATED",
  "CANCELED",
];

/** True for COMPLETED, FAILED, TERMINATED (and the never-produced CANCELED). */
export function isTerminalStatus(status: OrchestrationStatus): boolean {
  return terminalStatuses.includes(status);
}

/** The wire enum value of a status. */
export function toWireStatus(status: OrchestrationStatus): WireStatus {
  return WireStatus[status];
}

/** The status named by a wire enum value; unknown numbers are reported as `undefined`. */
export function fromWireStatus(status: WireStatus): OrchestrationStatus | undefined {
  const name = WireStatus[status];
  return typeof name === "string" ? (name as OrchestrationStatus) : undefined;
}

/** True when `value` is one of the status names. */
export function isOrchestrationStatus(value: unknown): value is OrchestrationStatus {
  return typeof value === "string" && (orchestrationStatuses as readonly string[]).includes(value);
}
