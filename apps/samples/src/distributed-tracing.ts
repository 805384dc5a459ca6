import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { silentLogger } from "@durabletask/api";
import { formatTraceParent } from "@durabletask/backend";
import {
  type ActivityContext,
  createTaskRegistry,
  type OrchestrationContext,
} from "@durabletask/task";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import {
  outputOf,
  runToCompletion,
  type SampleOptions,
  withSampleEngine,
} from "./sample-engine.js";
import { startSampleTelemetry } from "./sample-telemetry.js";

/** Options of the `distributed-tracing` sample. */
export interface DistributedTracingOptions extends SampleOptions {
  /** The OTEL_* variables; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** What the sample returns. */
export interface TripPlan {
  readonly summary: string;
  /** The trace every span of the run belongs to. */
  readonly traceId: string;
  /** `traceparent` headers the weather service received. */
  readonly receivedTraceParents: readonly string[];
}

const tracer = () => trace.getTracer("durabletask-samples");

/** How long the orchestration waits between its activities (a durable timer). */
export const timerDelayMs = 2000;

/** Activity: picks the destination. */
export async function pickCity(_ctx: ActivityContext): Promise<string> {
  return "Seattle";
}

/**
 * Activity factory: asks the weather service at `baseUrl` for a city's forecast, in an HTTP
 * client span (child of the activity span) whose context travels in the `traceparent` header.
 */
export function fetchForecast(baseUrl: string) {
  return (_ctx: ActivityContext, city: string): Promise<string> =>
    tracer().startActiveSpan(
      "GET /forecast",
      {
        kind: SpanKind.CLIENT,
        attributes: { "http.request.method": "GET", "server.address": new URL(baseUrl).host },
      },
      async (span) => {
        try {
          const headers: Record<string, string> = {};
          if (span.isRecording()) headers.traceparent = formatTraceParent(span.spanContext());
          const response = await fetch(`${baseUrl}/forecast?city=${encodeURIComponent(city)}`, {
            headers,
          });
          span.setAttribute("http.response.status_code", response.status);
          if (!response.ok) throw new Error(`weather service answered ${response.status}`);
          return ((await response.json()) as { forecast: string }).forecast;
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          throw error;
        } finally {
          span.end();
        }
      },
    );
}

/** Orchestrator: pick a city, wait on a durable timer, fetch its forecast. */
export async function tripPlanner(ctx: OrchestrationContext): Promise<string> {
  const city = await ctx.callActivity<string>("PickCity");
  await ctx.createTimer(timerDelayMs);
  const forecast = await ctx.callActivity<string>("FetchForecast", city);
  return `${city}: ${forecast}`;
}

/** A local "weather service" that records the `traceparent` header of each request. */
async function startWeatherService() {
  const traceParents: string[] = [];
  const server = createServer((req, res) => {
    const header = req.headers.traceparent;
    if (typeof header === "string") traceParents.push(header);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ forecast: "light rain, 12 °C" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    traceParents,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The `distributed-tracing` sample: one trace with the orchestration, its activities, the 2 s
 * timer and the HTTP call an activity makes. Spans go to the console, or to OTLP when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
 */
export async function main(options: DistributedTracingOptions = {}): Promise<TripPlan> {
  const telemetry = await startSampleTelemetry(
    options.env ?? process.env,
    options.logger ?? silentLogger,
  );
  const weather = await startWeatherService();
  try {
    const registry = createTaskRegistry()
      .addOrchestrator("TripPlanner", tripPlanner)
      .addActivity("PickCity", pickCity)
      .addActivity("FetchForecast", fetchForecast(weather.url));
    return await withSampleEngine(registry, options, ({ client, print }) =>
      tracer().startActiveSpan("plan a trip", async (root) => {
        try {
          const summary = outputOf<string>(await runToCompletion(client, "TripPlanner"));
          const { traceId } = root.spanContext();
          print(`Orchestration completed: ${summary}`);
          print(`Trace ${traceId}: the weather service saw ${weather.traceParents.join(", ")}`);
          return { summary, traceId, receivedTraceParents: weather.traceParents };
        } finally {
          root.end();
        }
      }),
    );
  } finally {
    await weather.close();
    await telemetry?.shutdown();
  }
}
