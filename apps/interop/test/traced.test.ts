// Both SDKs, unmodified, through every scenario while the sidecar traces: with a tracer provider
// registered, histories carry W3C trace context (ExecutionStarted, TaskScheduled,
// SubOrchestrationInstanceCreated) and work items carry ActivityRequest.parentTraceContext and
// OrchestratorRequest.orchestrationTraceContext. The SDKs must run as without tracing (the dapr
// SDK decodes an older proto), and the sidecar must export one linked trace per orchestration.
import { DurableTaskIdGenerator } from "@durabletask/backend";
import { trace } from "@opentelemetry/api";
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daprGaps, describeInterop } from "./interop-suite.js";

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({
  idGenerator: new DurableTaskIdGenerator(),
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
});
beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
});

describe("microsoft, traced", () => describeInterop("microsoft", []));
describe("dapr, traced", () => describeInterop("dapr", daprGaps));

describe("the sidecar's spans of those runs", () => {
  it("parent every activity of a finished orchestration to its exported orchestration span", () => {
    const spans = exporter.getFinishedSpans();
    const orchestrations = spans.filter((s) => s.name.startsWith("orchestration||"));
    const activities = spans.filter((s) => s.name.startsWith("activity||"));
    expect(orchestrations.length).toBeGreaterThan(20);
    expect(activities.length).toBeGreaterThan(20);
    const byInstance = new Map(
      orchestrations.map((s) => [s.attributes["durabletask.task.instance_id"], s]),
    );
    let linked = 0;
    for (const activity of activities) {
      const parent = byInstance.get(activity.attributes["durabletask.task.instance_id"]);
      if (parent === undefined) continue; // its orchestration never ended (killed scenarios)
      if (activity.parentSpanContext?.spanId === parent.spanContext().spanId) linked++;
      // A continued-as-new instance has several orchestration spans; the map keeps the last.
      else
        expect(
          orchestrations.map((s) => s.spanContext().spanId),
          `${activity.name} of ${activity.attributes["durabletask.task.instance_id"]}`,
        ).toContain(activity.parentSpanContext?.spanId);
    }
    expect(linked).toBeGreaterThan(20);
  });
});
