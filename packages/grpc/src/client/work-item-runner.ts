import { DurableTaskError, type Executor, type Logger } from "@durabletask/api";
import {
  type ActivityRequest,
  OrchestrationStatus,
  type OrchestratorRequest,
  type WorkItem,
} from "@durabletask/api/proto";
import { withRemoteParent } from "@durabletask/backend";
import { tailFromOf } from "../history-tails.js";
import { backoffDelayMs, sleep } from "./backoff.js";
import type { HeldHistories } from "./held-histories.js";
import type { RequestOf, SidecarStub, UnaryMethod } from "./sidecar-stub.js";

type Kind = "orchestration" | "activity";

/** Options of {@link WorkItemRunner}. */
export interface WorkItemRunnerOptions {
  readonly stub: SidecarStub;
  readonly executor: Executor;
  readonly logger: Logger;
  readonly maxConcurrentOrchestrations: number;
  readonly maxConcurrentActivities: number;
  /** Histories kept for the sidecar's history tails; `undefined` when the worker keeps none. */
  readonly histories?: HeldHistories | undefined;
}

interface Lane {
  readonly limit: number;
  running: number;
  readonly waiting: Queued[];
}

interface Queued {
  /** Local key: the completion token, or a made-up one for a sidecar that sends none. */
  readonly key: string;
  readonly token: string;
  readonly run: (active: Active) => Promise<void>;
}

interface Active {
  readonly kind: Kind;
  readonly token: string;
  /** Given back to the sidecar: a late result must not be delivered. */
  abandoned: boolean;
}

/** Deadline of each completion or abandon call. */
const callTimeoutMs = 10_000;
/** Attempts to deliver a completion while the sidecar is unreachable. */
const deliveryAttempts = 4;
const deliveryBackoff = { initialDelayMs: 250, maxDelayMs: 2000 };
/** How long `stop` waits for abandon calls after the drain timeout. */
const abandonGraceMs = 5000;

/**
 * Runs the work items of a `GetWorkItems` stream with an {@link Executor} and reports each
 * result to the sidecar, echoing its completion token.
 *
 * - At most `maxConcurrent*` items of each kind run at once; more wait here in arrival order
 *   (the sidecar honours the same limits, so this only matters if it does not).
 * - A completion that fails because the sidecar is unreachable is retried a few times; after
 *   that the sidecar hands the work item out again (stream closed or lease expired).
 * - An executor that throws gives its work item back with `AbandonTask*WorkItem`.
 * - A result the sidecar refuses as too large (RESOURCE_EXHAUSTED) is replaced by a failure
 *   with error type `PayloadTooLarge` (not retriable): the activity fails, or the orchestration
 *   ends FAILED, instead of waiting forever.
 * - An item that arrives again while it still runs here (the sidecar re-delivers the items of a
 *   closed stream) is not run twice.
 */
export class WorkItemRunner {
  readonly #options: WorkItemRunnerOptions;
  readonly #lanes: Record<Kind, Lane>;
  readonly #active = new Map<string, Active>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #shutdown = new AbortController();
  #accepting = true;
  #untokened = 0;

  constructor(options: WorkItemRunnerOptions) {
    this.#options = options;
    this.#lanes = {
      orchestration: { limit: options.maxConcurrentOrchestrations, running: 0, waiting: [] },
      activity: { limit: options.maxConcurrentActivities, running: 0, waiting: [] },
    };
  }

  /** Takes one item off the stream: runs it, queues it, or ignores it (health pings). */
  accept(item: WorkItem): void {
    const { logger } = this.#options;
    const token = item.completionToken;
    const request = item.request;
    if (request.case === "healthPing") {
      logger.debug("health ping from the sidecar");
      return;
    }
    if (!this.#accepting) {
      // The stream is being cancelled: the sidecar hands this item to another stream.
      logger.debug("ignoring a work item that arrived while stopping", { kind: request.case });
      return;
    }
    if (token !== "" && this.#holds(token)) {
      // A stream that closed while this item ran made the sidecar hand it out again: the run in
      // progress delivers its result under the same token.
      logger.debug("ignoring a work item that is already running here", { kind: request.case });
      return;
    }
    if (request.case === "orchestratorRequest") {
      this.#enqueue("orchestration", token, (a) => this.#runOrchestration(request.value, a));
    } else if (request.case === "activityRequest") {
      this.#enqueue("activity", token, (a) => this.#runActivity(request.value, a));
    } else {
      logger.warn("ignoring a work item of an unsupported kind", { kind: request.case ?? "none" });
    }
  }

  /**
   * Stops taking work: gives back queued items, waits up to `drainTimeoutMs` for running ones
   * to finish and deliver their results, then fires the activities' `AbortSignal`, gives back
   * whatever still runs and waits (briefly) for those abandon calls.
   */
  async stop(drainTimeoutMs: number): Promise<void> {
    this.#accepting = false;
    for (const kind of ["orchestration", "activity"] as const) {
      for (const queued of this.#lanes[kind].waiting.splice(0))
        this.#track(this.#abandon(kind, queued.token));
    }
    if (await this.#settle(drainTimeoutMs)) return;
    this.#options.logger.warn("drain timeout: aborting running activities and giving work back", {
      running: this.#active.size,
      drainTimeoutMs,
    });
    this.#shutdown.abort(new DurableTaskError("Aborted", "The worker is shutting down."));
    for (const active of this.#active.values()) {
      // Orchestrators cannot be interrupted: their late results are dropped instead.
      if (active.kind !== "orchestration" || active.abandoned) continue;
      active.abandoned = true;
      this.#track(this.#abandon("orchestration", active.token));
    }
    await this.#settle(abandonGraceMs);
  }

  #holds(token: string): boolean {
    if (this.#active.has(token)) return true;
    const { orchestration, activity } = this.#lanes;
    return [...orchestration.waiting, ...activity.waiting].some((queued) => queued.token === token);
  }

  #enqueue(kind: Kind, token: string, run: Queued["run"]): void {
    const key = token !== "" ? token : `local:${++this.#untokened}`;
    this.#lanes[kind].waiting.push({ key, token, run });
    this.#pump(kind);
  }

  #pump(kind: Kind): void {
    const lane = this.#lanes[kind];
    while (this.#accepting && lane.running < lane.limit && lane.waiting.length > 0) {
      const next = lane.waiting.shift() as Queued;
      const active: Active = { kind, token: next.token, abandoned: false };
      lane.running++;
      this.#active.set(next.key, active);
      this.#track(
        next.run(active).finally(() => {
          lane.running--;
          this.#active.delete(next.key);
          this.#pump(kind);
        }),
      );
    }
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => {
      this.#options.logger.error("work item handling failed", { error });
    });
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
  }

  /** True once nothing is in flight; false when `timeoutMs` passed first. */
  async #settle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#inFlight.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, remaining);
      });
      await Promise.race([Promise.allSettled([...this.#inFlight]), timedOut]);
      clearTimeout(timer);
    }
    return true;
  }

  async #runOrchestration(sent: OrchestratorRequest, active: Active): Promise<void> {
    const { executor, logger, histories } = this.#options;
    const request = this.#wholeHistoryOf(sent);
    if (request === undefined) {
      logger.debug("asking the sidecar for a history this worker does not hold", {
        instanceId: sent.instanceId,
      });
      const ask = {
        instanceId: sent.instanceId,
        completionToken: active.token,
        requiresHistory: true,
      };
      await this.#deliver("completeOrchestratorTask", ask, sent.instanceId);
      return;
    }
    let response: Awaited<ReturnType<Executor["executeOrchestrator"]>>;
    try {
      response = await executor.executeOrchestrator(request);
      histories?.remember(request, response);
    } catch (error) {
      logger.error("orchestrator execution failed; giving the work item back", {
        instanceId: request.instanceId,
        error,
      });
      if (!active.abandoned) await this.#abandon("orchestration", active.token);
      return;
    }
    if (active.abandoned) return;
    response.instanceId ||= request.instanceId;
    response.completionToken = active.token;
    await this.#deliver("completeOrchestratorTask", response, request.instanceId);
  }

  /** `sent` with its whole history; `undefined` for a tail of a history not held here. */
  #wholeHistoryOf(sent: OrchestratorRequest): OrchestratorRequest | undefined {
    const from = tailFromOf(sent);
    if (from === undefined) return sent;
    return this.#options.histories?.expand(sent, from);
  }

  async #runActivity(request: ActivityRequest, active: Active): Promise<void> {
    const { executor, logger } = this.#options;
    const instanceId = request.orchestrationInstance?.instanceId ?? "";
    let response: Awaited<ReturnType<Executor["executeActivity"]>>;
    try {
      // The sidecar's activity span is the parent of whatever the activity traces.
      response = await withRemoteParent(request.parentTraceContext, () =>
        executor.executeActivity(request, { signal: this.#shutdown.signal }),
      );
    } catch (error) {
      const fields = { instanceId, name: request.name, taskId: request.taskId, error };
      const message = "activity not finished; giving the work item back";
      if (this.#shutdown.signal.aborted) logger.info(message, fields);
      else logger.error(message, fields);
      await this.#abandon("activity", active.token);
      return;
    }
    response.instanceId ||= instanceId;
    response.taskId = request.taskId;
    response.completionToken = active.token;
    await this.#deliver("completeActivityTask", response, instanceId);
  }

  async #deliver(
    method: "completeOrchestratorTask" | "completeActivityTask",
    result: RequestOf<"completeOrchestratorTask"> | RequestOf<"completeActivityTask">,
    instanceId: string,
  ): Promise<void> {
    let request = result;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#call(method, request);
        return;
      } catch (error) {
        if (DurableTaskError.is(error, "PayloadTooLarge") && !isFailure(request)) {
          // Sending the same result again cannot succeed, and without an answer the work item
          // would wait for this worker forever: report the failure instead, so the orchestration
          // (or its parent) sees why.
          this.#options.logger.error(`${method}: the result is too large for the sidecar`, {
            instanceId,
            error,
          });
          request = tooLargeFailure(request, error.message);
          continue;
        }
        const retry = DurableTaskError.is(error, "Unavailable") && attempt < deliveryAttempts;
        if (retry && !this.#shutdown.signal.aborted) {
          await sleep(backoffDelayMs(attempt - 1, deliveryBackoff), this.#shutdown.signal);
          continue;
        }
        this.#reportLost(method, instanceId, error);
        return;
      }
    }
  }

  async #abandon(kind: Kind, token: string): Promise<void> {
    const method =
      kind === "orchestration" ? "abandonTaskOrchestratorWorkItem" : "abandonTaskActivityWorkItem";
    try {
      await this.#call(method, { completionToken: token });
    } catch (error) {
      this.#reportLost(method, undefined, error);
    }
  }

  #call(method: UnaryMethod, request: object): Promise<unknown> {
    const deadlineMs = Date.now() + callTimeoutMs;
    return this.#options.stub.unary(method, request as never, { deadlineMs });
  }

  #reportLost(method: string, instanceId: string | undefined, error: unknown): void {
    // NOT_FOUND: the sidecar no longer waits for this item (another stream finished it, or it
    // was re-queued and completed elsewhere). Anything else: it will be handed out again.
    const message = `${method} was not accepted; the sidecar hands the work item out again if needed`;
    if (DurableTaskError.is(error, "InstanceNotFound")) {
      this.#options.logger.debug(message, { instanceId, error });
    } else {
      this.#options.logger.warn(message, { instanceId, error });
    }
  }
}

const tooLargeType = "PayloadTooLarge";

function isFailure(
  request: RequestOf<"completeOrchestratorTask"> | RequestOf<"completeActivityTask">,
): boolean {
  if ("taskId" in request) return request.failureDetails?.errorType === tooLargeType;
  const action = (request as RequestOf<"completeOrchestratorTask">).actions?.[0]
    ?.orchestratorActionType;
  return (
    action?.case === "completeOrchestration" &&
    action.value.failureDetails?.errorType === tooLargeType
  );
}

/** The completion that reports `request` as failed because its result was too large. */
function tooLargeFailure(
  request: RequestOf<"completeOrchestratorTask"> | RequestOf<"completeActivityTask">,
  message: string,
): RequestOf<"completeOrchestratorTask"> | RequestOf<"completeActivityTask"> {
  const failureDetails = {
    errorType: tooLargeType,
    errorMessage: `the result could not be delivered: ${message}`,
    isNonRetriable: true,
  };
  if ("taskId" in request) {
    return {
      instanceId: request.instanceId,
      taskId: request.taskId,
      completionToken: request.completionToken,
      failureDetails,
    };
  }
  return {
    instanceId: request.instanceId,
    completionToken: request.completionToken,
    actions: [
      {
        id: -1,
        orchestratorActionType: {
          case: "completeOrchestration",
          value: { orchestrationStatus: OrchestrationStatus.FAILED, failureDetails },
        },
      },
    ],
  };
}
