import { create } from "@bufbuild/protobuf";
import {
  DurableTaskError,
  type ExecuteOptions,
  type Executor,
  type Logger,
  silentLogger,
} from "@durabletask/api";
import {
  type ActivityRequest,
  type ActivityResponse,
  type OrchestratorRequest,
  type OrchestratorResponse,
  type WorkItem,
  WorkItemSchema,
} from "@durabletask/api/proto";
import { endsExecution, minHeldPastEvents, withHistoryTail } from "./history-tails.js";

type Kind = "orchestration" | "activity";

/** One connected `GetWorkItems` stream: an SDK worker that competes for work items. */
export interface WorkItemStream {
  /** Sends a work item; throws if the stream is gone. */
  send(item: WorkItem): void;
  /** Most orchestration work items outstanding at once on this stream; 0 = no limit. */
  readonly maxOrchestrations: number;
  /** Most activity work items outstanding at once on this stream; 0 = no limit. */
  readonly maxActivities: number;
  /** A label for logs (peer, user agent). */
  readonly label: string;
  /** The worker keeps histories: it may be sent history tails (see history-tails.ts). */
  readonly historyTails?: boolean | undefined;
}

interface Pending {
  readonly kind: Kind;
  /** Changes when an episode sent as a history tail is sent again whole. */
  token: string;
  readonly key: string;
  readonly workItem: WorkItem;
  stream: WorkItemStream | undefined;
  /** Its last send to a stream left out the history the stream was believed to hold. */
  sentTail: boolean;
  settle(response: OrchestratorResponse | ActivityResponse | Error): void;
}

interface StreamState {
  readonly stream: WorkItemStream;
  readonly items: Set<Pending>;
  orchestrations: number;
  activities: number;
  /**
   * For a stream of a worker that keeps histories: by instance id, the execution and number of
   * past events of the latest episode sent to it, least recently sent first.
   */
  readonly held:
    | Map<string, { readonly executionId: string; readonly pastEvents: number }>
    | undefined;
}

/** Most instances whose history a stream is remembered to hold. */
const maxHeldPerStream = 10_000;

/** Options of {@link createGrpcExecutor}. */
export interface GrpcExecutorOptions {
  readonly logger?: Logger | undefined;
}

/**
 * The sidecar's {@link Executor}: it hands each episode and activity to an SDK worker connected
 * through `GetWorkItems`, and resolves when that worker calls `CompleteOrchestratorTask` /
 * `CompleteActivityTask`.
 *
 * - Streams compete for work; each gets no more than its declared `maxConcurrent*WorkItems`.
 * - Work created while no stream is connected waits (the engine fetches nothing it cannot run).
 * - When a stream ends, its unfinished work items go to another stream; the first completion
 *   wins and later ones are reported as unknown.
 * - Completions are matched by completion token, or without one by instance id (episodes) and
 *   instance id + task id (activities), as the SDKs that predate tokens send them.
 */
export class GrpcExecutor implements Executor {
  private readonly logger: Logger;
  private readonly queue: Pending[] = [];
  private readonly byToken = new Map<string, Pending>();
  private readonly byKey = new Map<string, Pending>();
  private readonly streams = new Map<WorkItemStream, StreamState>();
  private readonly capacityListeners = new Set<() => void>();
  private nextStream = 0;

  constructor(options: GrpcExecutorOptions = {}) {
    this.logger = options.logger ?? silentLogger;
  }

  executeOrchestrator(
    request: OrchestratorRequest,
    options: ExecuteOptions = {},
  ): Promise<OrchestratorResponse> {
    const workItem = create(WorkItemSchema, {
      request: { case: "orchestratorRequest", value: request },
    });
    return this.execute(
      "orchestration",
      request.instanceId,
      workItem,
      options,
    ) as Promise<OrchestratorResponse>;
  }

  executeActivity(
    request: ActivityRequest,
    options: ExecuteOptions = {},
  ): Promise<ActivityResponse> {
    const workItem = create(WorkItemSchema, {
      request: { case: "activityRequest", value: request },
    });
    const key = activityKey(request.orchestrationInstance?.instanceId ?? "", request.taskId);
    return this.execute("activity", key, workItem, options) as Promise<ActivityResponse>;
  }

  capacity(kind: Kind): number {
    let total = 0;
    for (const state of this.streams.values()) {
      const limit =
        kind === "orchestration" ? state.stream.maxOrchestrations : state.stream.maxActivities;
      if (limit <= 0) return Number.POSITIVE_INFINITY;
      total += Math.max(
        0,
        limit - (kind === "orchestration" ? state.orchestrations : state.activities),
      );
    }
    // Items already waiting for a stream count against the free slots.
    return Math.max(0, total - this.queue.filter((p) => p.kind === kind).length);
  }

  onCapacityAvailable(listener: () => void): () => void {
    this.capacityListeners.add(listener);
    return () => this.capacityListeners.delete(listener);
  }

  /** Number of connected streams. */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Registers a connected stream and sends it whatever is waiting. */
  connect(stream: WorkItemStream): void {
    this.streams.set(stream, {
      stream,
      items: new Set(),
      orchestrations: 0,
      activities: 0,
      held: stream.historyTails === true ? new Map() : undefined,
    });
    this.logger.info("work item stream connected", {
      stream: stream.label,
      streams: this.streams.size,
    });
    this.dispatch();
    this.announceCapacity();
  }

  /** Unregisters a stream; its unfinished work items go back to the front of the queue. */
  disconnect(stream: WorkItemStream): void {
    const state = this.streams.get(stream);
    if (state === undefined) return;
    this.streams.delete(stream);
    const orphans = [...state.items];
    for (const item of orphans) item.stream = undefined;
    this.queue.unshift(...orphans);
    this.logger.info("work item stream closed", {
      stream: stream.label,
      redelivered: orphans.length,
      streams: this.streams.size,
    });
    this.dispatch();
  }

  /**
   * Completes an episode; `NotFound`-style error when no such work item is outstanding. An
   * answer of `requiresHistory` to a history tail sends the episode again, whole.
   */
  completeOrchestration(response: OrchestratorResponse): void {
    const pending = this.find("orchestration", response.completionToken, response.instanceId);
    const state = pending.stream === undefined ? undefined : this.streams.get(pending.stream);
    const request = requestOf(pending);
    if (response.requiresHistory) {
      // A pending without a stream waits for another one (its own closed): it is sent again.
      if (state === undefined) return;
      if (pending.sentTail && request !== undefined) {
        this.resendWhole(pending, request, state);
      } else {
        const why = "requiresHistory: the worker asked for the history of an episode sent whole.";
        this.finish(pending, new DurableTaskError("InvalidArgument", why));
      }
      return;
    }
    if (request !== undefined && endsExecution(response)) state?.held?.delete(request.instanceId);
    this.finish(pending, response);
  }

  /** Completes an activity; `NotFound`-style error when no such work item is outstanding. */
  completeActivity(response: ActivityResponse): void {
    const pending = this.find(
      "activity",
      response.completionToken,
      activityKey(response.instanceId, response.taskId),
    );
    this.finish(pending, response);
  }

  /** Gives a work item back: the engine retries it later with back-off. */
  abandon(kind: Kind, completionToken: string): void {
    const pending = this.byToken.get(completionToken);
    if (pending === undefined || pending.kind !== kind) {
      throw new DurableTaskError(
        "InstanceNotFound",
        `No outstanding ${kind} work item has completion token '${completionToken}'.`,
      );
    }
    this.finish(
      pending,
      new DurableTaskError("Aborted", `The worker abandoned the ${kind} work item.`),
    );
  }

  /** Fails every outstanding item (shutdown). */
  close(): void {
    for (const pending of [...this.byToken.values()]) {
      this.finish(pending, new DurableTaskError("Aborted", "The sidecar is shutting down."));
    }
  }

  private execute(
    kind: Kind,
    key: string,
    workItem: WorkItem,
    options: ExecuteOptions,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const token = crypto.randomUUID();
      workItem.completionToken = token;
      const onAbort = (): void => this.finish(pending, toError(options.signal?.reason));
      const pending: Pending = {
        kind,
        token,
        key,
        workItem,
        stream: undefined,
        sentTail: false,
        settle: (outcome) => {
          options.signal?.removeEventListener("abort", onAbort);
          if (outcome instanceof Error) reject(outcome);
          else resolve(outcome);
        },
      };
      if (options.signal?.aborted) return reject(toError(options.signal.reason));
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.byToken.set(token, pending);
      this.byKey.set(`${kind}:${key}`, pending);
      this.queue.push(pending);
      this.dispatch();
    });
  }

  private find(kind: Kind, token: string, key: string): Pending {
    const pending = token !== "" ? this.byToken.get(token) : this.byKey.get(`${kind}:${key}`);
    if (pending === undefined || pending.kind !== kind) {
      const what = token !== "" ? `completion token '${token}'` : `key '${key}'`;
      throw new DurableTaskError(
        "InstanceNotFound",
        `No outstanding ${kind} work item matches ${what}; it was completed already, abandoned, or timed out.`,
      );
    }
    return pending;
  }

  private finish(pending: Pending, outcome: OrchestratorResponse | ActivityResponse | Error): void {
    if (this.byToken.get(pending.token) !== pending) return;
    this.byToken.delete(pending.token);
    if (this.byKey.get(`${pending.kind}:${pending.key}`) === pending)
      this.byKey.delete(`${pending.kind}:${pending.key}`);
    const queued = this.queue.indexOf(pending);
    if (queued >= 0) this.queue.splice(queued, 1);
    this.release(pending);
    pending.settle(outcome);
    this.dispatch();
    this.announceCapacity();
  }

  private release(pending: Pending): void {
    const state = pending.stream === undefined ? undefined : this.streams.get(pending.stream);
    pending.stream = undefined;
    if (state === undefined || !state.items.delete(pending)) return;
    if (pending.kind === "orchestration") state.orchestrations--;
    else state.activities--;
  }

  /** Sends queued items, oldest first, to streams with free slots (round robin). */
  private dispatch(): void {
    for (let i = 0; i < this.queue.length; ) {
      const pending = this.queue[i] as Pending;
      const state = this.pickStream(pending.kind);
      if (state === undefined) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.assign(pending, state);
    }
  }

  private assign(pending: Pending, state: StreamState): void {
    pending.stream = state.stream;
    state.items.add(pending);
    if (pending.kind === "orchestration") state.orchestrations++;
    else state.activities++;
    this.send(state, this.outgoing(pending, state));
  }

  /** Sends an episode again with its whole history, under a new token, on the same stream. */
  private resendWhole(pending: Pending, request: OrchestratorRequest, state: StreamState): void {
    this.byToken.delete(pending.token);
    pending.token = crypto.randomUUID();
    pending.workItem.completionToken = pending.token;
    pending.sentTail = false;
    this.byToken.set(pending.token, pending);
    this.hold(state, request);
    this.send(state, pending.workItem);
  }

  /**
   * What to send `state`'s stream for `pending`: the work item, or for an execution whose
   * earlier episode the stream was sent a history tail (see history-tails.ts). Remembers what the
   * stream now holds.
   */
  private outgoing(pending: Pending, state: StreamState): WorkItem {
    pending.sentTail = false;
    const request = requestOf(pending);
    if (state.held === undefined || request === undefined) return pending.workItem;
    const held = state.held.get(request.instanceId);
    this.hold(state, request);
    // Only histories of at least minHeldPastEvents are held (see hold).
    if (
      held === undefined ||
      held.executionId !== (request.executionId ?? "") ||
      held.pastEvents > request.pastEvents.length
    ) {
      return pending.workItem;
    }
    pending.sentTail = true;
    return create(WorkItemSchema, {
      completionToken: pending.workItem.completionToken,
      request: {
        case: "orchestratorRequest",
        value: withHistoryTail(request, held.pastEvents - 1),
      },
    });
  }

  /** Remembers that `state`'s stream now holds `request`'s past events (when worth a tail). */
  private hold(state: StreamState, request: OrchestratorRequest): void {
    const { held } = state;
    if (held === undefined) return;
    held.delete(request.instanceId);
    if (request.pastEvents.length < minHeldPastEvents) return;
    const executionId = request.executionId ?? "";
    held.set(request.instanceId, { executionId, pastEvents: request.pastEvents.length });
    if (held.size > maxHeldPerStream) held.delete(held.keys().next().value as string);
  }

  private send(state: StreamState, item: WorkItem): void {
    try {
      state.stream.send(item);
    } catch (error) {
      this.logger.warn("failed to send a work item; the stream is closed", {
        stream: state.stream.label,
        error,
      });
      this.disconnect(state.stream);
    }
  }

  private pickStream(kind: Kind): StreamState | undefined {
    const states = [...this.streams.values()];
    for (let n = 0; n < states.length; n++) {
      const state = states[(this.nextStream + n) % states.length] as StreamState;
      const limit =
        kind === "orchestration" ? state.stream.maxOrchestrations : state.stream.maxActivities;
      const used = kind === "orchestration" ? state.orchestrations : state.activities;
      if (limit <= 0 || used < limit) {
        this.nextStream = (this.nextStream + n + 1) % states.length;
        return state;
      }
    }
    return undefined;
  }

  private announceCapacity(): void {
    for (const listener of this.capacityListeners) {
      try {
        listener();
      } catch (error) {
        this.logger.warn("capacity listener failed", { error });
      }
    }
  }
}

function requestOf(pending: Pending): OrchestratorRequest | undefined {
  const { request } = pending.workItem;
  return request.case === "orchestratorRequest" ? request.value : undefined;
}

function activityKey(instanceId: string, taskId: number): string {
  return `${instanceId}/${taskId}`;
}

function toError(reason: unknown): Error {
  return reason instanceof Error
    ? reason
    : new DurableTaskError("Aborted", String(reason ?? "aborted"));
}

/** Creates the sidecar's executor. */
export function createGrpcExecutor(options: GrpcExecutorOptions = {}): GrpcExecutor {
  return new GrpcExecutor(options);
}
