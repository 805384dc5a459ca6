import { equals } from "@bufbuild/protobuf";
import {
  type HistoryEvent,
  HistoryEventSchema,
  type OrchestratorRequest,
  type OrchestratorResponse,
} from "@durabletask/api/proto";
import { endsExecution, minHeldPastEvents } from "../history-tails.js";

interface Held {
  readonly executionId: string;
  readonly events: HistoryEvent[];
}

/**
 * The histories a gRPC worker keeps, so that the sidecar can send it only their tails (see
 * history-tails.ts): by instance, the past events of the latest episode run here, least recently
 * used first, at most `maxEvents` events in all. Histories shorter than the sidecar would send as
 * a tail are not kept, nor those of executions that ended.
 */
export class HeldHistories {
  readonly #maxEvents: number;
  readonly #byInstance = new Map<string, Held>();
  #events = 0;

  constructor(maxEvents: number) {
    this.#maxEvents = maxEvents;
  }

  /** How many events are kept now. */
  get events(): number {
    return this.#events;
  }

  /**
   * `request` (a history tail starting at position `from`) with its whole history, or
   * `undefined` when this worker does not hold that execution's first `from + 1` events or its
   * event `from` differs from the tail's first. The instance is no longer kept until
   * {@link remember} is called again.
   */
  expand(request: OrchestratorRequest, from: number): OrchestratorRequest | undefined {
    const held = this.#byInstance.get(request.instanceId);
    if (held === undefined) return undefined;
    this.#forget(request.instanceId, held);
    const first = request.pastEvents[0];
    const own = held.events[from];
    if (
      held.executionId !== (request.executionId ?? "") ||
      first === undefined ||
      own === undefined ||
      !equals(HistoryEventSchema, own, first)
    ) {
      return undefined;
    }
    // The events before `from` are this execution's committed start, which never changes.
    const events = held.events;
    events.length = from;
    for (const event of request.pastEvents) events.push(event);
    return { ...request, pastEvents: events };
  }

  /** Keeps the past events of `request` (whole), run here with `response`, if worth it. */
  remember(request: OrchestratorRequest, response: OrchestratorResponse): void {
    const previous = this.#byInstance.get(request.instanceId);
    if (previous !== undefined) this.#forget(request.instanceId, previous);
    const events = request.pastEvents;
    if (
      endsExecution(response) ||
      events.length < minHeldPastEvents ||
      events.length > this.#maxEvents
    )
      return;
    this.#byInstance.set(request.instanceId, {
      executionId: request.executionId ?? "",
      events: events as HistoryEvent[],
    });
    this.#events += events.length;
    for (const [instanceId, held] of this.#byInstance) {
      if (this.#events <= this.#maxEvents) break;
      this.#forget(instanceId, held);
    }
  }

  #forget(instanceId: string, held: Held): void {
    this.#byInstance.delete(instanceId);
    this.#events -= held.events.length;
  }
}
