import {
  eventRaisedEvent,
  executionCompletedEvent,
  executionStartedEvent,
  type Logger,
} from "@durabletask/api";
import { OrchestrationStatus as WireStatus } from "@durabletask/api/proto";
import { trace } from "@opentelemetry/api";
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  formatTraceParent,
  orchestrationSpanContext,
  parseTraceContext,
  toTraceContext,
  traceCreateOrchestration,
} from "../src/index.js";
import { traceCommittedExecution } from "../src/tracing.js";

const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";

function startEvent(traceParent: string | undefined, executionId = "e1") {
  return executionStartedEvent(
    {
      name: "Order",
      instanceId: "order-1",
      executionId,
      parentTraceContext: traceParent === undefined ? undefined : toTraceContextOf(traceParent),
    },
    1_000,
  );
}

function toTraceContextOf(traceParent: string) {
  const sc = parseTraceContext({ traceParent, spanID: "" } as never);
  if (sc === undefined) throw new Error(`bad traceparent ${traceParent}`);
  return toTraceContext(sc);
}

function startOf(e: ReturnType<typeof startEvent>) {
  if (e.eventType.case !== "executionStarted") throw new Error("not a start event");
  return e.eventType.value;
}

describe("trace context on the wire", () => {
  it("round-trips W3C traceparent and reads the legacy form", () => {
    const sc = parseTraceContext({ traceParent: `00-${traceId}-00f067aa0ba902b7-01` } as never);
    expect(sc).toMatchObject({ traceId, spanId: "00f067aa0ba902b7", traceFlags: 1 });
    expect(formatTraceParent(sc as never)).toBe(`00-${traceId}-00f067aa0ba902b7-01`);
    expect(
      parseTraceContext({ traceParent: traceId, spanID: "00f067aa0ba902b7" } as never),
    ).toMatchObject({ traceId, spanId: "00f067aa0ba902b7", traceFlags: 1 });
  });

  it("ignores malformed and all-zero contexts", () => {
    for (const traceParent of [
      "",
      "garbage",
      `00-${"0".repeat(32)}-00f067aa0ba902b7-01`,
      `00-${traceId}-${"0".repeat(16)}-01`,
      `ff-${traceId}-00f067aa0ba902b7-01`,
    ]) {
      expect(parseTraceContext({ traceParent, spanID: "" } as never)).toBeUndefined();
    }
  });
});

describe("the orchestration's logical span", () => {
  it("is the same in every episode and process, and differs per execution", () => {
    const parent = `00-${traceId}-00f067aa0ba902b7-01`;
    const a = orchestrationSpanContext(startOf(startEvent(parent)));
    const again = orchestrationSpanContext(startOf(startEvent(parent)));
    const next = orchestrationSpanContext(startOf(startEvent(parent, "e2")));
    expect(a?.traceId).toBe(traceId);
    expect(a?.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(again?.spanId).toBe(a?.spanId);
    expect(next?.spanId).not.toBe(a?.spanId);
  });

  it("uses ExecutionStarted.orchestrationSpanID when the history has one", () => {
    const start = startOf(startEvent(`00-${traceId}-00f067aa0ba902b7-01`));
    start.orchestrationSpanID = "1234567890abcdef";
    expect(orchestrationSpanContext(start)?.spanId).toBe("1234567890abcdef");
  });

  it("does not exist without a sampled parent", () => {
    expect(orchestrationSpanContext(startOf(startEvent(undefined)))).toBeUndefined();
    expect(
      orchestrationSpanContext(startOf(startEvent(`00-${traceId}-00f067aa0ba902b7-00`))),
    ).toBeUndefined();
  });
});

describe("without a registered tracer provider", () => {
  it("the client writes no trace context", async () => {
    let written: unknown = "not called";
    await traceCreateOrchestration("Order", undefined, "order-1", undefined, async (tc) => {
      written = tc;
    });
    expect(written).toBeUndefined();
  });
});

describe("with an SDK that does not use DurableTaskIdGenerator", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  beforeAll(() => {
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
  });

  it("exports the orchestration span with the logical id as an attribute and warns once", () => {
    const warnings: string[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      warn: (m) => void warnings.push(m),
      error() {},
    };
    const start = startEvent(`00-${traceId}-00f067aa0ba902b7-01`);
    const logical = orchestrationSpanContext(startOf(start));
    const done = executionCompletedEvent(0, 2_000, WireStatus.COMPLETED, '"ok"');
    traceCommittedExecution({ history: [start], added: [done] }, 2_000, logger);
    traceCommittedExecution({ history: [start], added: [done] }, 2_000, logger);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(["orchestration||Order", "orchestration||Order"]);
    const span = spans[0];
    expect(span?.spanContext().spanId).not.toBe(logical?.spanId);
    expect(span?.attributes["durabletask.orchestration.span_id"]).toBe(logical?.spanId);
    expect(span?.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("DurableTaskIdGenerator");
  });

  it("reads only the history committed before the episode when the array grew since", () => {
    exporter.reset();
    const start = startEvent(`00-${traceId}-00f067aa0ba902b7-01`);
    const raised = eventRaisedEvent(1_500, "Go", '"go"');
    const done = executionCompletedEvent(0, 2_000, WireStatus.COMPLETED, '"ok"');
    // What the backend may do once the commit is done: extend the item's array in place.
    const history = [start, raised, raised];
    traceCommittedExecution({ history, historyLength: 1, added: [raised, done] }, 2_000, silent);
    const [span] = exporter.getFinishedSpans();
    expect(span?.events.filter((e) => e.name === "Received external event")).toHaveLength(1);
  });
});

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
