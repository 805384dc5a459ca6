import type { FailureDetails } from "./errors.js";
import type { OrchestrationStatus } from "./status.js";

/**
 * What is known about one orchestration instance. Payloads (`serialized*`) are JSON text exactly
 * as stored; they are left out when the caller asked for metadata without payloads.
 */
export interface OrchestrationMetadata {
  readonly instanceId: string;
  readonly name: string;
  readonly runtimeStatus: OrchestrationStatus;
  readonly createdAt: Date;
  readonly lastUpdatedAt: Date;
  readonly completedAt?: Date | undefined;
  /** When the first episode may run (only for instances scheduled in the future). */
  readonly scheduledStartAt?: Date | undefined;
  readonly executionId?: string | undefined;
  readonly version?: string | undefined;
  readonly parentInstanceId?: string | undefined;
  readonly serializedInput?: string | undefined;
  readonly serializedOutput?: string | undefined;
  readonly serializedCustomStatus?: string | undefined;
  readonly failureDetails?: FailureDetails | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
}

/** The JSON shape of {@link OrchestrationMetadata} (durabletask-go compatible keys). */
export interface OrchestrationMetadataJson {
  id: string;
  name: string;
  status: OrchestrationStatus;
  createdAt: string;
  lastUpdatedAt: string;
  completedAt?: string;
  serializedInput?: string;
  serializedOutput?: string;
  serializedCustomStatus?: string;
  failureDetails?: FailureDetailsJson;
}

/** The JSON shape of {@link FailureDetails}. */
export interface FailureDetailsJson {
  type: string;
  message: string;
  stackTrace?: string;
  innerFailure?: FailureDetailsJson;
}

function failureToJson(details: FailureDetails): FailureDetailsJson {
  const json: FailureDetailsJson = { type: details.errorType, message: details.errorMessage };
  if (details.stackTrace !== undefined) json.stackTrace = details.stackTrace;
  if (details.innerFailure !== undefined) json.innerFailure = failureToJson(details.innerFailure);
  return json;
}

/** Metadata as a JSON-ready object: ISO times, optional fields only when present. */
export function metadataToJson(metadata: OrchestrationMetadata): OrchestrationMetadataJson {
  const json: OrchestrationMetadataJson = {
    id: metadata.instanceId,
    name: metadata.name,
    status: metadata.runtimeStatus,
    createdAt: metadata.createdAt.toISOString(),
    lastUpdatedAt: metadata.lastUpdatedAt.toISOString(),
  };
  if (metadata.completedAt !== undefined) json.completedAt = metadata.completedAt.toISOString();
  if (metadata.serializedInput !== undefined) json.serializedInput = metadata.serializedInput;
  if (metadata.serializedOutput !== undefined) json.serializedOutput = metadata.serializedOutput;
  if (metadata.serializedCustomStatus !== undefined) {
    json.serializedCustomStatus = metadata.serializedCustomStatus;
  }
  if (metadata.failureDetails !== undefined) {
    json.failureDetails = failureToJson(metadata.failureDetails);
  }
  return json;
}
