// The built sidecar as a user runs it: OTLP export to a local receiver, JSON log lines.
import {
  createTaskHubGrpcClient,
  createTaskHubGrpcWorker,
  type TaskHubGrpcClient,
  type TaskHubGrpcWorker,
} from "@durabletask/grpc";
import {
  type ActivityContext,
  createTaskRegistry,
  type OrchestrationContext,
} from "@durabletask/task";
import { type OtlpReceiver, otlpAttribute, startOtlpReceiver } from "@durabletask/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type CliProcess, killAll, startCli } from "./cli-process.js";

vi.setConfig({ testTimeout: 60_000 });

describe("sidecar observability", () => {
  let receiver: OtlpReceiver | undefined;
  let worker: TaskHubGrpcWorker | undefined;
  let client: TaskHubGrpcClient | undefined;
  afterEach(async () => {
    await worker?.stop();
    client?.close();
    worker = undefined;
    client = undefined;
    await killAll();
    await receiver?.close();
    receiver = undefined;
  });

  /** Runs one orchestration (two activities) through `sidecar` with our gRPC client and worker. */
  async function runHello(sidecar: CliProcess): Promise<string> {
    const port = await sidecar.listening();
    const address = `127.0.0.1:${port}`;
    const registry = createTaskRegistry();
    registry.addActivity("Greet", (_ctx: ActivityContext, who: string) => `Hello, ${who}!`);
    registry.addOrchestrator("Hello", async (ctx: OrchestrationContext) => [
      await ctx.callActivity("Greet", "Tokyo"),
      await ctx.callActivity("Greet", "Oslo"),
    ]);
    worker = createTaskHubGrpcWorker({ address, registry });
    await worker.start();
    client = createTaskHubGrpcClient({ address });
    const id = await client.scheduleNewOrchestration("Hello");
    const done = await client.waitForOrchestrationCompletion(id, { timeoutMs: 30_000 });
    expect(done.runtimeStatus).toBe("COMPLETED");
    await worker.stop();
    worker = undefined;
    return id;
  }

  async function stopGracefully(sidecar: CliProcess): Promise<void> {
    sidecar.child.kill("SIGTERM");
    expect(await sidecar.exited).toBe(0);
  }

  it("exports the orchestration and its activities as one trace over OTLP, and metrics", async () => {
    receiver = await startOtlpReceiver();
    const sidecar = startCli(["--host", "127.0.0.1", "--port", "0"], {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "sidecar-under-test",
      OTEL_METRIC_EXPORT_INTERVAL: "60000",
    });
    const id = await runHello(sidecar);
    // Spans are batched; the SIGTERM drain flushes them (and the metrics) before exiting.
    await stopGracefully(sidecar);
    const spans = receiver.spans();
    const orchestration = spans.find((s) => s.name === "orchestration||Hello");
    expect(orchestration, spans.map((s) => s.name).join(", ")).toBeDefined();
    if (orchestration === undefined) return;
    expect(otlpAttribute(orchestration, "durabletask.task.instance_id")).toBe(id);
    const { traceId, spanId } = orchestration;
    const trace = spans.filter((s) => s.traceId === traceId);
    const activities = trace.filter((s) => s.name === "activity||Greet");
    expect(activities).toHaveLength(2);
    for (const a of activities) expect(a.parentSpanId).toBe(spanId);
    const create = trace.find((s) => s.name === "create_orchestration||Hello");
    expect(orchestration.parentSpanId).toBe(create?.spanId);
    expect(new Set(receiver.serviceNames())).toEqual(new Set(["sidecar-under-test"]));
    expect(receiver.metricNames()).toContain("durabletask.work_items.completed");
  });

  it("without OTEL_* variables exports nothing and says nothing about telemetry", async () => {
    receiver = await startOtlpReceiver();
    const sidecar = startCli(["--host", "127.0.0.1", "--port", "0"]);
    await runHello(sidecar);
    await stopGracefully(sidecar);
    expect(receiver.bodies.size).toBe(0);
    expect(sidecar.stderr()).not.toContain("exporting telemetry");
  });

  it("writes JSON log lines that carry the instance id of the orchestration that ran", async () => {
    const sidecar = startCli(["--host", "127.0.0.1", "--port", "0", "--log-format", "json"]);
    const id = await runHello(sidecar);
    await stopGracefully(sidecar);
    const lines = sidecar
      .stderr()
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const completed = lines.find((l) => l.msg === "orchestration completed");
    expect(completed).toMatchObject({ level: "info", instanceId: id, status: "COMPLETED" });
    expect(typeof completed?.time).toBe("string");
  });
});
