// Test support: a real OpenTelemetry SDK with an in-memory exporter, registered globally for one
// test file (one vitest worker), and helpers to read the exported span tree.
import { type Attributes, context, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  type IdGenerator,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";

export interface SpanRecorder {
  readonly exporter: InMemorySpanExporter;
  /** Unregisters the provider and the context manager. */
  dispose(): Promise<void>;
}

/** Registers a tracer provider that keeps finished spans in memory. */
export function recordSpans(idGenerator?: IdGenerator): SpanRecorder {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    idGenerator,
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  return {
    exporter,
    async dispose() {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}

/** Runs `fn` inside a sampled `caller` span (what an application's request span would be). */
export function inCallerSpan<T>(fn: () => Promise<T>): Promise<{ result: T; span: ReadableSpan }> {
  const tracer = trace.getTracer("test");
  return tracer.startActiveSpan("caller", async (span) => {
    const result = await fn();
    span.end();
    return { result, span: span as unknown as ReadableSpan };
  });
}

export function spanId(s: ReadableSpan): string {
  return s.spanContext().spanId;
}

export function parentId(s: ReadableSpan): string | undefined {
  return s.parentSpanContext?.spanId;
}

/** Finished spans of one trace. */
export function spansOf(exporter: InMemorySpanExporter, traceId: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
}

/** Children of `parent`, oldest first. */
export function childrenOf(spans: readonly ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return spans
    .filter((s) => parentId(s) === spanId(parent) && s !== parent)
    .sort((a, b) => hrMs(a.startTime) - hrMs(b.startTime) || spanOrder(a, b));
}

function spanOrder(a: ReadableSpan, b: ReadableSpan): number {
  return (
    Number(a.attributes["durabletask.task.task_id"] ?? 0) -
    Number(b.attributes["durabletask.task.task_id"] ?? 0)
  );
}

function hrMs(t: readonly [number, number]): number {
  return t[0] * 1000 + t[1] / 1e6;
}

/** The one span named `name`; fails when there is none or several. */
export function only(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  if (found.length !== 1) {
    throw new Error(`expected one '${name}' span, found ${found.length}: ${names(spans)}`);
  }
  return found[0] as ReadableSpan;
}

export function names(spans: readonly ReadableSpan[]): string {
  return spans.map((s) => s.name).join(", ");
}

/** `name [task id]` of each span: a compact picture of a span list. */
export function labels(spans: readonly ReadableSpan[]): string[] {
  return spans.map((s) => {
    const taskId = s.attributes["durabletask.task.task_id"];
    return taskId === undefined ? s.name : `${s.name} #${taskId}`;
  });
}

export function attributesOf(s: ReadableSpan): Attributes {
  return s.attributes;
}

export function isError(s: ReadableSpan): boolean {
  return s.status.code === SpanStatusCode.ERROR;
}
