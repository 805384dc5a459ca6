import type { Logger } from "@durabletask/api";
import { startTelemetry, type Telemetry } from "@durabletask/sidecar";

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Telemetry for a sample: spans to the console by default; to OTLP (traces and metrics) when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or a signal's endpoint) is set. Other OTEL_* variables apply
 * as in the sidecar. Start it before the worker, so the worker's metrics are recorded.
 */
export function startSampleTelemetry(env: Env, logger: Logger): Promise<Telemetry | undefined> {
  const otlp =
    env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
      ? {}
      : { OTEL_TRACES_EXPORTER: "console", OTEL_METRICS_EXPORTER: "none" };
  return startTelemetry({ OTEL_SERVICE_NAME: "durabletask-samples", ...otlp, ...env }, logger);
}
