import {
  DurableTaskError,
  dateOfTimestamp,
  fromWireFailure,
  fromWireStatus,
  type OrchestrationMetadata,
} from "@durabletask/api";
import type { OrchestrationState } from "@durabletask/api/proto";

/**
 * The {@link OrchestrationMetadata} of a wire `OrchestrationState`, shaped like the in-process
 * client's: payloads as JSON text (absent when not fetched), missing timestamps as the epoch,
 * empty tags as `undefined`. `Internal` for a status number this engine does not know.
 */
export function fromOrchestrationState(state: OrchestrationState): OrchestrationMetadata {
  const runtimeStatus = fromWireStatus(state.orchestrationStatus);
  if (runtimeStatus === undefined) {
    throw new DurableTaskError(
      "Internal",
      `The sidecar reported unknown status ${state.orchestrationStatus} for '${state.instanceId}'.`,
    );
  }
  const createdAt = dateOfTimestamp(state.createdTimestamp) ?? new Date(0);
  return {
    instanceId: state.instanceId,
    name: state.name,
    runtimeStatus,
    createdAt,
    lastUpdatedAt: dateOfTimestamp(state.lastUpdatedTimestamp) ?? createdAt,
    completedAt: dateOfTimestamp(state.completedTimestamp),
    scheduledStartAt: dateOfTimestamp(state.scheduledStartTimestamp),
    executionId: state.executionId,
    version: state.version,
    parentInstanceId: state.parentInstanceId,
    serializedInput: state.input,
    serializedOutput: state.output,
    serializedCustomStatus: state.customStatus,
    failureDetails:
      state.failureDetails === undefined ? undefined : fromWireFailure(state.failureDetails),
    tags: Object.keys(state.tags).length === 0 ? undefined : { ...state.tags },
  };
}
