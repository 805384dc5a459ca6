import { type OtlpSpan, otlpAttribute, startOtlpReceiver } from "@durabletask/testing";
import { describe, expect, it, onTestFinished } from "vitest";
import { main } from "../src/distributed-tracing.js";

describe("distributed-tracing sample", () => {
  it("exports one trace: orchestration, activities, the 2 s timer and the HTTP call", async () => {
    const receiver = await startOtlpReceiver();
    onTestFinished(() => receiver.close());
    const lines: string[] = [];
    const plan = await main({
      dbPath: ":memory:",
      print: (line) => lines.push(line),
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_METRICS_EXPORTER: "none",
      },
    });
    expect(plan.summary).toBe("Seattle: light rain, 12 °C");
    expect(lines[0]).toBe("Orchestration completed: Seattle: light rain, 12 °C");
    const spans = receiver.spans().filter((s) => s.traceId === plan.traceId);
    const one = (name: string): OtlpSpan => {
      const found = spans.filter((s) => s.name === name);
      expect(
        found.map((s) => s.name),
        spans.map((s) => s.name).join(", "),
      ).toEqual([name]);
      return found[0] as OtlpSpan;
    };
    const root = one("plan a trip");
    const create = one("create_orchestration||TripPlanner");
    const orchestration = one("orchestration||TripPlanner");
    const pick = one("activity||PickCity");
    const timer = one("timer");
    const fetch = one("activity||FetchForecast");
    const http = one("GET /forecast");
    expect(create.parentSpanId).toBe(root.spanId);
    expect(orchestration.parentSpanId).toBe(create.spanId);
    for (const child of [pick, timer, fetch]) expect(child.parentSpanId).toBe(orchestration.spanId);
    expect(http.parentSpanId).toBe(fetch.spanId);
    expect(otlpAttribute(timer, "durabletask.fire_at")).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The weather service got the HTTP span's context.
    expect(plan.receivedTraceParents).toEqual([`00-${plan.traceId}-${http.spanId}-01`]);
  }, 30_000);
});
