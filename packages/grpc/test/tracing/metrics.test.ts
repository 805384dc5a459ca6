// Engine metrics read through a real OpenTelemetry metrics SDK, embedded and through the sidecar.
import { metricNames } from "@durabletask/backend";
import { createSqliteBackend } from "@durabletask/sqlite";
import type { ActivityContext, OrchestrationContext, TaskRegistry } from "@durabletask/task";
import { startEngine } from "@durabletask/testing";
import { metrics } from "@opentelemetry/api";
import { type Histogram, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startGrpcEngine, waitMs } from "../client/grpc-harness.js";

vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

/** A reader collected on demand by the test. */
class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

const reader = new ManualReader();
const provider = new MeterProvider({ readers: [reader] });
beforeAll(() => {
  metrics.setGlobalMeterProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  metrics.disable();
});

type Point = { attributes: Record<string, unknown>; value: number | Histogram };

async function collect(): Promise<Map<string, Point[]>> {
  const { resourceMetrics } = await reader.collect();
  const byName = new Map<string, Point[]>();
  for (const scope of resourceMetrics.scopeMetrics) {
    if (scope.scope.name !== "durabletask") continue;
    for (const m of scope.metrics) {
      byName.set(m.descriptor.name, m.dataPoints as unknown as Point[]);
    }
  }
  return byName;
}

/** The value of a counter (or the count of a histogram) for `kind`, 0 when never recorded. */
function pointValue(points: Map<string, Point[]>, name: string, kind: string): number {
  const point = points.get(name)?.find((p) => p.attributes.kind === kind);
  if (point === undefined) return 0;
  return typeof point.value === "number" ? point.value : point.value.count;
}

const modes: Record<
  string,
  (
    register: (r: TaskRegistry) => void,
  ) => ReturnType<typeof startGrpcEngine> | ReturnType<typeof startEngine>
> = {
  embedded: (register) => startEngine(() => createSqliteBackend({ path: ":memory:" }), register),
  "sidecar + gRPC worker": (register) => startGrpcEngine(register),
};

describe.each(Object.keys(modes))("metrics (%s)", (mode) => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  it("counts work items per kind, times episodes and activities, reports the backlog", async () => {
    const start = modes[mode] as (typeof modes)[string];
    const engine = await start((r) => {
      r.addActivity("Hello", (_ctx: ActivityContext, who: string) => `Hello, ${who}`);
      r.addOrchestrator("Greetings", async (ctx: OrchestrationContext) => {
        await ctx.callActivity("Hello", "a");
        await ctx.callActivity("Hello", "b");
      });
    });
    stop = () => engine.stop();
    const before = await collect();
    const id = await engine.client.scheduleNewOrchestration("Greetings");
    await engine.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    const after = await collect();
    const delta = (name: string, kind: string) =>
      pointValue(after, name, kind) - pointValue(before, name, kind);
    // Three episodes (start, after each activity) and two activities.
    expect(delta(metricNames.started, "orchestration")).toBeGreaterThanOrEqual(3);
    expect(delta(metricNames.completed, "orchestration")).toBeGreaterThanOrEqual(3);
    expect(delta(metricNames.started, "activity")).toBe(2);
    expect(delta(metricNames.completed, "activity")).toBe(2);
    expect(delta(metricNames.failed, "activity")).toBe(0);
    expect(delta(metricNames.episodeDuration, "orchestration")).toBeGreaterThanOrEqual(3);
    expect(delta(metricNames.activityDuration, "activity")).toBe(2);
    const backlog = after.get(metricNames.backlog) ?? [];
    expect(backlog.map((p) => [p.attributes.kind, p.value]).sort()).toEqual([
      ["activity", 0],
      ["orchestration", 0],
    ]);
  });
});

it("counts lease renewals of a long activity (embedded)", async () => {
  const engine = await startEngine(
    () => createSqliteBackend({ path: ":memory:", activityLockTimeoutMs: 200 }),
    (r) => {
      r.addActivity("Slow", () => new Promise((resolve) => setTimeout(resolve, 500)));
      r.addOrchestrator("OneSlow", (ctx: OrchestrationContext) => ctx.callActivity("Slow"));
    },
  );
  try {
    const before = await collect();
    const id = await engine.client.scheduleNewOrchestration("OneSlow");
    await engine.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    const after = await collect();
    const renewed =
      pointValue(after, metricNames.leaseRenewals, "activity") -
      pointValue(before, metricNames.leaseRenewals, "activity");
    expect(renewed).toBeGreaterThanOrEqual(1);
    expect(pointValue(after, metricNames.leaseLost, "activity")).toBe(0);
  } finally {
    await engine.stop();
  }
});
