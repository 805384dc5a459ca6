/** What an activity knows about the call it serves. */
export interface ActivityContext {
  /** Instance id of the orchestration that scheduled the activity. */
  readonly instanceId: string;
  /** Sequence number of the call within that orchestration execution. */
  readonly taskId: number;
  /** The activity name the orchestration called. */
  readonly name: string;
  /**
   * Fires when the worker gives up on this call (shutdown, lost lease). The result of an aborted
   * activity is discarded and the call is delivered again later, so stop work promptly.
   */
  readonly signal: AbortSignal;
}

/**
 * An activity: ordinary (non-deterministic) code that an orchestration calls. It gets the JSON
 * input of the call and returns a JSON-serializable result (`undefined` for none); a thrown error
 * fails the call with the error's failure details.
 */
export type Activity<TIn = unknown, TOut = unknown> = (
  ctx: ActivityContext,
  input: TIn,
) => Promise<TOut> | TOut;
