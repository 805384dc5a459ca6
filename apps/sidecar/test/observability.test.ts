// The built sidecar as a user runs it: OTLP export to a local receiver, JSON log lines.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
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
import { afterEach, describe, expect, it, vi } from "vitest";
import { type CliProcess, killAll, startCli } from "./cli-process.js";

vi.setConfig({ testTimeout: 60_000 });

/** What an OTLP/HTTP JSON receiver got, by path. */
interface Received {
  readonly bodies: Map<string, unknown[]>;
  readonly server: Server;
  readonly url: string;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

/** A loopback OTLP/HTTP receiver accepting JSON (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`). */
async function startReceiver(): Promise<Received> {
  const bodies = new Map<string, unknown[]>();
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const list = bodies.get(req.url ?? "") ?? [];
      list.push(JSON.parse(body));
      bodies.set(req.url ?? "", list);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { bodies, server, url: `http://127.0.0.1:${port}` };
}

interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: { key: string; value: { stringValue?: string } }[];
}

function spansOf(received: Received): OtlpSpan[] {
  type Export = { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
  return ((received.bodies.get("/v1/traces") ?? []) as Export[]).flatMap((e) =>
    e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
  );
}

function metricNamesOf(received: Received): string[] {
  type Export = { resourceMetrics: { scopeMetrics: { metrics: { name: string }[] }[] }[] };
  return ((received.bodies.get("/v1/metrics") ?? []) as Export[]).flatMap((e) =>
    e.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.name))),
  );
}

function serviceNamesOf(received: Received): string[] {
  type Export = {
    resourceSpans: {
      resource: { attributes: { key: string; value: { stringValue: string } }[] };
    }[];
  };
  return ((received.bodies.get("/v1/traces") ?? []) as Export[]).flatMap((e) =>
    e.resourceSpans.flatMap((r) =>
      r.resource.attributes.filter((a) => a.key === "service.name").map((a) => a.value.stringValue),
    ),
  );
}

describe("sidecar observability", () => {
  let receiver: Received | undefined;
  let worker: TaskHubGrpcWorker | undefined;
  let client: TaskHubGrpcClient | undefined;
  afterEach(async () => {
    await worker?.stop();
    client?.close();
    worker = undefined;
    client = undefined;
    await killAll();
    await new Promise((resolve) => receiver?.server.close(resolve) ?? resolve(undefined));
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
    receiver = await startReceiver();
    const sidecar = startCli(["--host", "127.0.0.1", "--port", "0"], {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "sidecar-under-test",
      OTEL_METRIC_EXPORT_INTERVAL: "60000",
    });
    const id = await runHello(sidecar);
    // Spans are batched; the SIGTERM drain flushes them (and the metrics) before exiting.
    await stopGracefully(sidecar);
    const spans = spansOf(receiver);
    const orchestration = spans.find((s) => s.name === "orchestration||Hello");
    expect(orchestration, spans.map((s) => s.name).join(", ")).toBeDefined();
    const attribute = (s: OtlpSpan, key: string) =>
      s.attributes.find((a) => a.key === key)?.value.stringValue;
    expect(attribute(orchestration as OtlpSpan, "durabletask.task.instance_id")).toBe(id);
    const { traceId, spanId } = orchestration as OtlpSpan;
    const trace = spans.filter((s) => s.traceId === traceId);
    const activities = trace.filter((s) => s.name === "activity||Greet");
    expect(activities).toHaveLength(2);
    for (const a of activities) expect(a.parentSpanId).toBe(spanId);
    const create = trace.find((s) => s.name === "create_orchestration||Hello");
    expect((orchestration as OtlpSpan).parentSpanId).toBe(create?.spanId);
    expect(new Set(serviceNamesOf(receiver))).toEqual(new Set(["sidecar-under-test"]));
    expect(metricNamesOf(receiver)).toContain("durabletask.work_items.completed");
  });

  it("without OTEL_* variables exports nothing and says nothing about telemetry", async () => {
    receiver = await startReceiver();
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
