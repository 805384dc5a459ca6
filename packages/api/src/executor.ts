import type {
  ActivityRequest,
  ActivityResponse,
  OrchestratorRequest,
  OrchestratorResponse,
} from "./gen/orchestrator_service_pb.js";

/** Options of one {@link Executor} call. */
export interface ExecuteOptions {
  /** Fires when the engine gives up on the call (shutdown, lost lease). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Runs orchestrator episodes and activities: the seam between the engine (which stores state and
 * dispatches work) and the code that users wrote. The in-process executor of `@durabletask/task`
 * runs TypeScript functions; the gRPC executor hands the same messages to an SDK worker.
 *
 * Both methods speak the wire messages so that one history format serves every SDK.
 */
export interface Executor {
  /**
   * Replays `request.pastEvents`, applies `request.newEvents` and returns the orchestrator's new
   * actions. Failures of user code are reported as a FAILED completion action, not thrown; a
   * thrown error means the episode could not be run at all and will be retried.
   */
  executeOrchestrator(
    request: OrchestratorRequest,
    options?: ExecuteOptions,
  ): Promise<OrchestratorResponse>;

  /**
   * Runs one activity. A failing activity yields a response with `failureDetails`; a thrown
   * error means the activity could not be run at all and will be retried.
   */
  executeActivity(request: ActivityRequest, options?: ExecuteOptions): Promise<ActivityResponse>;

  /**
   * Optional: how many more work items of `kind` the executor can take right now. Workers fetch
   * no more than this, so an executor with nobody to run the work (a sidecar with no SDK worker
   * connected) leaves it unlocked for other processes. Absent means unlimited.
   */
  capacity?(kind: "orchestration" | "activity"): number;

  /** Optional: calls `listener` when capacity becomes available; returns the unsubscribe function. */
  onCapacityAvailable?(listener: () => void): () => void;
}
