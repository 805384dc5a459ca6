// OpenTelemetry export configured by the standard OTEL_* environment variables. Nothing is
// loaded unless they ask for export: the SDK and exporters are imported lazily.
import type { Logger } from "@durabletask/api";
import { DurableTaskIdGenerator } from "@durabletask/backend";
import { UsageError } from "./usage-error.js";

type Env = Readonly<Record<string, string | undefined>>;

/** Where spans or metrics go. */
export type TelemetryExporter = "otlp" | "console" | "none";

/** OTLP over HTTP, encoded as protobuf (the default) or JSON. */
export type OtlpProtocol = "http/protobuf" | "http/json";

/** What {@link telemetrySettings} read from the environment. */
export interface TelemetrySettings {
  readonly traces: TelemetryExporter;
  readonly metrics: TelemetryExporter;
  readonly tracesProtocol: OtlpProtocol;
  readonly metricsProtocol: OtlpProtocol;
  readonly tracesUrl?: string | undefined;
  readonly metricsUrl?: string | undefined;
  readonly serviceName: string;
  readonly sampler: string;
  readonly samplerArg?: number | undefined;
  readonly metricIntervalMs: number;
}

/** Exported telemetry; {@link Telemetry.shutdown} flushes what is buffered. */
export interface Telemetry {
  readonly settings: TelemetrySettings;
  /** Flushes and stops the providers, and unregisters them. Idempotent. */
  shutdown(): Promise<void>;
}

const exporters: readonly TelemetryExporter[] = ["otlp", "console", "none"];
const protocols: readonly OtlpProtocol[] = ["http/protobuf", "http/json"];
const samplers = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
];

function set(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[]): T | undefined {
  const value = set(env, name)?.toLowerCase();
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${name}: must be one of ${allowed.join(", ")}, got '${value}'`);
  }
  return value as T;
}

function signalUrl(env: Env, signal: "TRACES" | "METRICS"): string | undefined {
  const specific = set(env, `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`);
  if (specific !== undefined) return specific;
  const base = set(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  if (base === undefined) return undefined;
  return `${base.replace(/\/+$/, "")}/v1/${signal.toLowerCase()}`;
}

/**
 * Reads the OTEL_* variables. Spans and metrics are exported over OTLP when an OTLP endpoint is
 * set (or `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER` say `otlp` or `console`); nothing is
 * exported when `OTEL_SDK_DISABLED=true` or no variable asks for it. Throws {@link UsageError}
 * naming the variable on a bad value.
 */
export function telemetrySettings(env: Env): TelemetrySettings | undefined {
  if (set(env, "OTEL_SDK_DISABLED")?.toLowerCase() === "true") return undefined;
  const tracesUrl = signalUrl(env, "TRACES");
  const metricsUrl = signalUrl(env, "METRICS");
  const traces =
    oneOf(env, "OTEL_TRACES_EXPORTER", exporters) ?? (tracesUrl === undefined ? "none" : "otlp");
  const metrics =
    oneOf(env, "OTEL_METRICS_EXPORTER", exporters) ?? (metricsUrl === undefined ? "none" : "otlp");
  if (traces === "none" && metrics === "none") return undefined;
  const protocol = oneOf(env, "OTEL_EXPORTER_OTLP_PROTOCOL", protocols) ?? "http/protobuf";
  const sampler = oneOf(env, "OTEL_TRACES_SAMPLER", samplers) ?? "parentbased_always_on";
  const rawArg = set(env, "OTEL_TRACES_SAMPLER_ARG");
  const samplerArg = rawArg === undefined ? undefined : Number(rawArg);
  if (samplerArg !== undefined && !(samplerArg >= 0 && samplerArg <= 1)) {
    throw new UsageError(`OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1, got '${rawArg}'`);
  }
  const rawInterval = set(env, "OTEL_METRIC_EXPORT_INTERVAL");
  const metricIntervalMs = rawInterval === undefined ? 60_000 : Number(rawInterval);
  if (!Number.isInteger(metricIntervalMs) || metricIntervalMs < 1) {
    throw new UsageError(
      `OTEL_METRIC_EXPORT_INTERVAL: must be a positive integer (ms), got '${rawInterval}'`,
    );
  }
  return {
    traces,
    metrics,
    tracesProtocol: oneOf(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", protocols) ?? protocol,
    metricsProtocol: oneOf(env, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", protocols) ?? protocol,
    tracesUrl,
    metricsUrl,
    serviceName: set(env, "OTEL_SERVICE_NAME") ?? "durabletask-sidecar",
    sampler,
    samplerArg,
    metricIntervalMs,
  };
}

/**
 * Registers an OpenTelemetry tracer provider (with {@link DurableTaskIdGenerator}, so every
 * orchestration span gets the id its children point at) and a meter provider, exporting as the
 * OTEL_* variables say. Returns undefined, having loaded nothing, when they ask for no export.
 */
export async function startTelemetry(env: Env, logger: Logger): Promise<Telemetry | undefined> {
  const settings = telemetrySettings(env);
  if (settings === undefined) return undefined;
  const api = await import("@opentelemetry/api");
  const { resourceFromAttributes } = await import("@opentelemetry/resources");
  const resource = resourceFromAttributes({ "service.name": settings.serviceName });
  const stops: (() => Promise<void>)[] = [];
  if (settings.traces !== "none") {
    const sdk = await import("@opentelemetry/sdk-trace");
    const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
    const exporter =
      settings.traces === "console"
        ? new sdk.ConsoleSpanExporter()
        : settings.tracesProtocol === "http/json"
          ? new (await import("@opentelemetry/exporter-trace-otlp-http")).OTLPTraceExporter({
              url: settings.tracesUrl,
            })
          : new (await import("@opentelemetry/exporter-trace-otlp-proto")).OTLPTraceExporter({
              url: settings.tracesUrl,
            });
    const provider = new sdk.TracerProvider({
      resource,
      sampler: samplerOf(sdk, settings),
      idGenerator: new DurableTaskIdGenerator(),
      spanProcessors: [new sdk.BatchSpanProcessor({ exporter })],
    });
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    api.trace.setGlobalTracerProvider(provider);
    stops.push(async () => {
      await provider.shutdown();
      api.trace.disable();
      api.context.disable();
    });
  }
  if (settings.metrics !== "none") {
    const sdk = await import("@opentelemetry/sdk-metrics");
    const exporter =
      settings.metrics === "console"
        ? new sdk.ConsoleMetricExporter()
        : settings.metricsProtocol === "http/json"
          ? new (await import("@opentelemetry/exporter-metrics-otlp-http")).OTLPMetricExporter({
              url: settings.metricsUrl,
            })
          : new (await import("@opentelemetry/exporter-metrics-otlp-proto")).OTLPMetricExporter({
              url: settings.metricsUrl,
            });
    const provider = new sdk.MeterProvider({
      resource,
      readers: [
        new sdk.PeriodicExportingMetricReader({
          exporter,
          exportIntervalMillis: settings.metricIntervalMs,
          exportTimeoutMillis: Math.min(30_000, settings.metricIntervalMs),
        }),
      ],
    });
    api.metrics.setGlobalMeterProvider(provider);
    stops.push(async () => {
      await provider.shutdown();
      api.metrics.disable();
    });
  }
  logger.info("exporting telemetry", {
    traces: settings.traces,
    metrics: settings.metrics,
    serviceName: settings.serviceName,
  });
  let stopped: Promise<void> | undefined;
  return {
    settings,
    shutdown() {
      stopped ??= Promise.allSettled(stops.map((stop) => stop())).then((results) => {
        for (const r of results) {
          if (r.status === "rejected")
            logger.warn("failed to flush telemetry", { error: r.reason });
        }
      });
      return stopped;
    },
  };
}

function samplerOf(
  sdk: typeof import("@opentelemetry/sdk-trace"),
  settings: TelemetrySettings,
): import("@opentelemetry/sdk-trace").Sampler {
  const ratio = () => new sdk.TraceIdRatioBasedSampler(settings.samplerArg ?? 1);
  switch (settings.sampler) {
    case "always_on":
      return new sdk.AlwaysOnSampler();
    case "always_off":
      return new sdk.AlwaysOffSampler();
    case "traceidratio":
      return ratio();
    case "parentbased_always_off":
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new sdk.ParentBasedSampler({ root: ratio() });
    default:
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() });
  }
}
