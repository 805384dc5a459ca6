// Distributed tracing with the OpenTelemetry API only (no SDK here). Nothing is built unless a
// trace context is present and the span is recording, so an engine without a registered tracer
// provider pays one field check per episode or activity.
//
// One logical `orchestration||<name>` span per execution: its span id is fixed when the execution
// starts (ExecutionStarted.orchestrationSpanID when set, otherwise derived from the instance and
// execution ids), every child (activity, timer, sub-orchestration) names it as parent from the
// first episode on, and the span itself is emitted once, by whichever process commits the end
// of the execution. The OpenTelemetry API has no way to choose a span's id, so the span is
// started while {@link DurableTaskIdGenerator} (to be registered as the SDK's `idGenerator`)
// holds the wanted id. Without it the SDK picks a random id: the span is still exported, with
// the logical id in the attribute `durabletask.orchestration.span_id`, and a warning is logged once.
import { createHash, randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { eventTimeMs, type Logger, msOfTimestamp } from "@durabletask/api";
import {
  type ActivityRequest,
  type ExecutionStartedEvent,
  type HistoryEvent,
  type OrchestrationTraceContext,
  OrchestrationTraceContextSchema,
  type TraceContext,
  TraceContextSchema,
  OrchestrationStatus as WireStatus,
} from "@durabletask/api/proto";
import {
  type Attributes,
  type Context,
  context,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from "@opentelemetry/api";

/** The tracer (and meter) name of the engine. */
export const instrumentationName = "durabletask";

/** Attribute names of the engine's spans. */
export const attr = {
  type: "durabletask.type",
  name: "durabletask.task.name",
  version: "durabletask.task.version",
  instanceId: "durabletask.task.instance_id",
  taskId: "durabletask.task.task_id",
  status: "durabletask.runtime_status",
  fireAt: "durabletask.fire_at",
  logicalSpanId: "durabletask.orchestration.span_id",
} as const;

const traceParentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const invalidTraceId = "0".repeat(32);
const invalidSpanId = "0".repeat(16);

function tracer() {
  return trace.getTracer(instrumentationName);
}

/** `00-<traceId>-<spanId>-<flags>` (W3C traceparent) of a span context. */
export function formatTraceParent(sc: SpanContext): string {
  const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, "0");
  return `00-${sc.traceId}-${sc.spanId}-${flags}`;
}

/** The wire trace context of a span context. */
export function toTraceContext(sc: SpanContext): TraceContext {
  return create(TraceContextSchema, {
    traceParent: formatTraceParent(sc),
    traceState: sc.traceState?.serialize() || undefined,
  });
}

/**
 * The span context a wire trace context names, or undefined when it is absent or malformed.
 * Accepts W3C traceparent and the legacy form (bare trace id + `spanID`, assumed sampled).
 */
export function parseTraceContext(tc: TraceContext | undefined): SpanContext | undefined {
  if (tc === undefined || tc.traceParent === "") return undefined;
  const m = traceParentPattern.exec(tc.traceParent);
  let traceId: string;
  let spanId: string;
  let traceFlags: number;
  if (m !== null) {
    if (m[1] === "ff") return undefined;
    traceId = m[2] as string;
    spanId = m[3] as string;
    traceFlags = Number.parseInt(m[4] as string, 16);
  } else if (/^[0-9a-f]{32}$/.test(tc.traceParent) && /^[0-9a-f]{16}$/.test(tc.spanID)) {
    traceId = tc.traceParent;
    spanId = tc.spanID;
    traceFlags = TraceFlags.SAMPLED;
  } else {
    return undefined;
  }
  if (traceId === invalidTraceId || spanId === invalidSpanId) return undefined;
  return { traceId, spanId, traceFlags, isRemote: true };
}

function isSampled(sc: SpanContext): boolean {
  return (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
}

// ---- choosing span ids -----------------------------------------------------------------------

let wantedSpanId: string | undefined;

/**
 * An OpenTelemetry SDK `IdGenerator` that lets the engine give the `orchestration||<name>` span
 * the id its children were parented to (in another episode, maybe another process). Register it
 * with the tracer provider: `new TracerProvider({ idGenerator: new DurableTaskIdGenerator() })`.
 * Every other id is random.
 */
export class DurableTaskIdGenerator {
  generateTraceId(): string {
    return randomHex(16, invalidTraceId);
  }

  generateSpanId(): string {
    const wanted = wantedSpanId;
    if (wanted !== undefined) {
      wantedSpanId = undefined;
      return wanted;
    }
    return randomHex(8, invalidSpanId);
  }
}

function randomHex(bytes: number, invalid: string): string {
  for (;;) {
    const hex = randomBytes(bytes).toString("hex");
    if (hex !== invalid) return hex;
  }
}

/** Starts a span that should get `spanId` (see {@link DurableTaskIdGenerator}). */
function startSpanWithId(
  spanId: string,
  name: string,
  options: Parameters<ReturnType<typeof tracer>["startSpan"]>[1],
  parent: Context,
): Span {
  wantedSpanId = spanId;
  try {
    return tracer().startSpan(name, options, parent);
  } finally {
    wantedSpanId = undefined;
  }
}

let warnedAboutIds = false;

// ---- the orchestration's logical span --------------------------------------------------------

const logicalSpans = new WeakMap<ExecutionStartedEvent, SpanContext | null>();

/**
 * The span context of an execution's `orchestration||<name>` span, or undefined when the
 * execution was not started in a sampled trace. The same value in every episode and process.
 */
export function orchestrationSpanContext(
  start: ExecutionStartedEvent | undefined,
): SpanContext | undefined {
  if (start === undefined || start.parentTraceContext === undefined) return undefined;
  const cached = logicalSpans.get(start);
  if (cached !== undefined) return cached ?? undefined;
  const parent = parseTraceContext(start.parentTraceContext);
  let sc: SpanContext | null = null;
  if (parent !== undefined && isSampled(parent)) {
    const stored = start.orchestrationSpanID;
    const spanId =
      stored !== undefined && /^[0-9a-f]{16}$/.test(stored) && stored !== invalidSpanId
        ? stored
        : derivedSpanId(start);
    sc = { traceId: parent.traceId, spanId, traceFlags: parent.traceFlags, isRemote: true };
    if (parent.traceState !== undefined) sc.traceState = parent.traceState;
  }
  logicalSpans.set(start, sc);
  return sc ?? undefined;
}

/** 8 bytes of SHA-256 over the instance and execution ids (never the invalid all-zero id). */
function derivedSpanId(start: ExecutionStartedEvent): string {
  const instance = start.orchestrationInstance;
  const hex = createHash("sha256")
    .update(`${instance?.instanceId ?? ""}\n${instance?.executionId ?? ""}`)
    .digest("hex")
    .slice(0, 16);
  return hex === invalidSpanId ? "0000000000000001" : hex;
}

/**
 * The trace context children of this execution carry (TaskScheduled,
 * SubOrchestrationInstanceCreated, the child's ExecutionStarted); undefined when not traced.
 */
export function childTraceContext(
  start: ExecutionStartedEvent | undefined,
): TraceContext | undefined {
  const sc = orchestrationSpanContext(start);
  return sc === undefined ? undefined : toTraceContext(sc);
}

/** `OrchestratorRequest.orchestrationTraceContext` of an execution; undefined when not traced. */
export function orchestrationTraceContext(
  start: ExecutionStartedEvent | undefined,
  startedAt: Timestamp | undefined,
): OrchestrationTraceContext | undefined {
  const sc = orchestrationSpanContext(start);
  if (sc === undefined) return undefined;
  return create(OrchestrationTraceContextSchema, { spanID: sc.spanId, spanStartTime: startedAt });
}

function spanName(kind: string, name: string, version: string | undefined): string {
  return version ? `${kind}||${name}||${version}` : `${kind}||${name}`;
}

/** One execution's history as the tracer reads it: committed events, then this episode's. */
export interface TracedExecution {
  readonly history: readonly HistoryEvent[];
  /** How many of `history`'s events were committed before the episode; default all. */
  readonly historyLength?: number | undefined;
  readonly added: readonly HistoryEvent[];
}

/** The committed events of `ex` before the episode, without copying them. */
function* pastEvents(ex: TracedExecution): Generator<HistoryEvent> {
  const end = Math.min(ex.historyLength ?? ex.history.length, ex.history.length);
  for (let i = 0; i < end; i++) yield ex.history[i] as HistoryEvent;
}

function findStart(ex: TracedExecution): HistoryEvent | undefined {
  for (const e of pastEvents(ex)) if (e.eventType.case === "executionStarted") return e;
  for (const e of ex.added) if (e.eventType.case === "executionStarted") return e;
  return undefined;
}

/**
 * Emits the spans one committed episode of one execution finished: a `timer` span for every
 * timer that fired, and the `orchestration||<name>` span when the execution ended (completed,
 * failed, terminated, or continued as new when `continuedAsNew`). Call after the commit succeeded.
 */
export function traceCommittedExecution(
  ex: TracedExecution,
  endedAtMs: number,
  logger: Logger,
  continuedAsNew = false,
): void {
  const startEvent = findStart(ex);
  if (startEvent?.eventType.case !== "executionStarted") return;
  const start = startEvent.eventType.value;
  const sc = orchestrationSpanContext(start);
  if (sc === undefined) return;
  const parent = trace.setSpanContext(ROOT_CONTEXT, sc);
  let completion: HistoryEvent | undefined;
  for (const e of ex.added) {
    if (e.eventType.case === "timerFired") traceTimer(ex, e, start, parent);
    else if (e.eventType.case === "executionCompleted") completion = e;
  }
  if (completion === undefined && !continuedAsNew) return;
  const endMs = completion === undefined ? endedAtMs : eventTimeMs(completion);
  const completed =
    completion?.eventType.case === "executionCompleted" ? completion.eventType.value : undefined;
  const status = continuedAsNew
    ? WireStatus.CONTINUED_AS_NEW
    : (completed?.orchestrationStatus ?? WireStatus.COMPLETED);
  const span = startSpanWithId(
    sc.spanId,
    spanName("orchestration", start.name, start.version),
    { kind: SpanKind.SERVER, startTime: eventTimeMs(startEvent) },
    trace.setSpanContext(ROOT_CONTEXT, parseTraceContext(start.parentTraceContext) ?? sc),
  );
  if (!span.isRecording()) return;
  span.setAttributes(
    taskAttributes("orchestration", start.name, start.version, instanceIdOf(start)),
  );
  span.setAttribute(attr.status, WireStatus[status] ?? String(status));
  if (span.spanContext().spanId !== sc.spanId) {
    span.setAttribute(attr.logicalSpanId, sc.spanId);
    if (!warnedAboutIds) {
      warnedAboutIds = true;
      logger.warn(
        "the tracer provider chose its own id for an orchestration span, so its children point at a span id it does not have; register DurableTaskIdGenerator as the provider's idGenerator",
        { spanId: sc.spanId },
      );
    }
  }
  addHistorySpanEvents(span, pastEvents(ex));
  addHistorySpanEvents(span, ex.added);
  if (status === WireStatus.FAILED) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: completed?.failureDetails?.errorMessage ?? "orchestration failed",
    });
  }
  span.end(endMs);
}

function instanceIdOf(start: ExecutionStartedEvent): string {
  return start.orchestrationInstance?.instanceId ?? "";
}

function taskAttributes(
  type: string,
  name: string,
  version: string | undefined,
  instanceId: string,
): Attributes {
  const attributes: Attributes = {
    [attr.type]: type,
    [attr.name]: name,
    [attr.instanceId]: instanceId,
  };
  if (version) attributes[attr.version] = version;
  return attributes;
}

const utf8 = new TextEncoder();

function addHistorySpanEvents(span: Span, events: Iterable<HistoryEvent>): void {
  for (const e of events) {
    switch (e.eventType.case) {
      case "eventRaised": {
        const v = e.eventType.value;
        span.addEvent(
          "Received external event",
          { name: v.name, size: v.input === undefined ? 0 : utf8.encode(v.input).length },
          eventTimeMs(e),
        );
        break;
      }
      case "executionSuspended":
        span.addEvent(
          "Execution suspended",
          { reason: e.eventType.value.input ?? "" },
          eventTimeMs(e),
        );
        break;
      case "executionResumed":
        span.addEvent(
          "Execution resumed",
          { reason: e.eventType.value.input ?? "" },
          eventTimeMs(e),
        );
        break;
    }
  }
}

/** A `timer` span from the timer's creation to the episode that processed its firing. */
function traceTimer(
  ex: TracedExecution,
  fired: HistoryEvent,
  start: ExecutionStartedEvent,
  parent: Context,
): void {
  if (fired.eventType.case !== "timerFired") return;
  const { timerId, fireAt } = fired.eventType.value;
  const created = findEvent(ex, timerId, "timerCreated");
  const span = tracer().startSpan(
    "timer",
    {
      kind: SpanKind.INTERNAL,
      startTime: created === undefined ? eventTimeMs(fired) : eventTimeMs(created),
    },
    parent,
  );
  if (!span.isRecording()) return;
  span.setAttributes({
    [attr.type]: "timer",
    [attr.instanceId]: instanceIdOf(start),
    [attr.taskId]: timerId,
    [attr.fireAt]: new Date(msOfTimestamp(fireAt) ?? eventTimeMs(fired)).toISOString(),
  });
  span.end();
}

function findEvent(
  ex: TracedExecution,
  eventId: number,
  kind: "timerCreated",
): HistoryEvent | undefined {
  for (const e of pastEvents(ex)) if (e.eventId === eventId && e.eventType.case === kind) return e;
  for (const e of ex.added) if (e.eventId === eventId && e.eventType.case === kind) return e;
  return undefined;
}

// ---- activities ------------------------------------------------------------------------------

/**
 * Runs an activity inside an `activity||<name>` span, child of the span named by the request's
 * `parentTraceContext` (the orchestration's). While it runs, the request carries the activity
 * span's context instead, so a remote worker's spans nest under it; in-process activities run
 * with the span active. A `failureDetails` response or a throw marks the span as an error.
 */
export function traceActivity<R extends { failureDetails?: { errorMessage: string } }>(
  request: ActivityRequest,
  run: () => Promise<R>,
): Promise<R> {
  const parent = parseTraceContext(request.parentTraceContext);
  if (parent === undefined) return run();
  const span = tracer().startSpan(
    spanName("activity", request.name, request.version),
    { kind: SpanKind.SERVER },
    trace.setSpanContext(ROOT_CONTEXT, parent),
  );
  if (!span.isRecording()) return run();
  span.setAttributes(
    taskAttributes(
      "activity",
      request.name,
      request.version,
      request.orchestrationInstance?.instanceId ?? "",
    ),
  );
  span.setAttribute(attr.taskId, request.taskId);
  request.parentTraceContext = toTraceContext(span.spanContext());
  return runInSpan(span, run, (response) => {
    if (response.failureDetails !== undefined) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: response.failureDetails.errorMessage });
    }
  });
}

/** Runs `fn` with `span` active, records its outcome, and ends the span. */
async function runInSpan<R>(span: Span, fn: () => Promise<R>, onResult?: (r: R) => void) {
  try {
    const result = await context.with(trace.setSpan(context.active(), span), fn);
    onResult?.(result);
    return result;
  } catch (error) {
    recordError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

function recordError(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

// ---- clients ---------------------------------------------------------------------------------

/**
 * Runs `schedule` inside a `create_orchestration||<name>` client span and hands it the trace
 * context the new instance's ExecutionStarted carries (undefined when the span is not sampled).
 * The parent is `parent` when given (a remote caller's context), else the active span.
 */
export function traceCreateOrchestration<T>(
  name: string,
  version: string | undefined,
  instanceId: string,
  parent: TraceContext | undefined,
  schedule: (traceContext: TraceContext | undefined) => Promise<T>,
): Promise<T> {
  const remote = parseTraceContext(parent);
  const ctx = remote === undefined ? context.active() : trace.setSpanContext(ROOT_CONTEXT, remote);
  const span = tracer().startSpan(
    spanName("create_orchestration", name, version),
    { kind: SpanKind.CLIENT },
    ctx,
  );
  if (!span.isRecording()) {
    // Not sampled here: pass the caller's sampled context on unchanged, if there is one.
    return schedule(remote === undefined ? undefined : parent);
  }
  span.setAttributes(taskAttributes("orchestration", name, version, instanceId));
  const traceContext = toTraceContext(span.spanContext());
  return runInSpan(span, () => schedule(traceContext));
}

/** The active span's context as a wire trace context (for a remote create), if sampled. */
export function activeTraceContext(): TraceContext | undefined {
  const sc = trace.getActiveSpan()?.spanContext();
  if (sc === undefined || !trace.isSpanContextValid(sc) || !isSampled(sc)) return undefined;
  return toTraceContext(sc);
}

/** Runs `fn` with the remote span context of `tc` active (so new spans become its children). */
export function withRemoteParent<T>(tc: TraceContext | undefined, fn: () => T): T {
  const sc = parseTraceContext(tc);
  if (sc === undefined) return fn();
  return context.with(trace.setSpanContext(context.active(), sc), fn);
}

/**
 * Emits the spans of a committed orchestration episode: executions that continued as new during
 * it (`ended`, oldest first), then the execution the commit leaves. `historyLength` is the
 * item's history length before the commit (the backend may extend the array once it is
 * committed). Never throws: the episode is committed, and a tracing fault must not make the
 * worker give it back.
 */
export function traceCommittedEpisode(
  item: { readonly instanceId: string; readonly history: readonly HistoryEvent[] },
  commit: { readonly resetHistory: boolean; readonly appendHistory: readonly HistoryEvent[] },
  ended: readonly {
    readonly oldEvents: readonly HistoryEvent[];
    readonly newEvents: readonly HistoryEvent[];
  }[],
  nowMs: number,
  logger: Logger,
  historyLength = item.history.length,
): void {
  try {
    for (const state of ended) {
      traceCommittedExecution(
        { history: state.oldEvents, added: state.newEvents },
        nowMs,
        logger,
        true,
      );
    }
    traceCommittedExecution(
      {
        history: commit.resetHistory ? [] : item.history,
        historyLength,
        added: commit.appendHistory,
      },
      nowMs,
      logger,
    );
  } catch (error) {
    logger.warn("failed to emit orchestration spans", {
      instanceId: item.instanceId,
      workItem: "orchestration",
      error,
    });
  }
}
