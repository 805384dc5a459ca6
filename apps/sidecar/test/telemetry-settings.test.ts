import { silentLogger } from "@durabletask/api";
import { describe, expect, it } from "vitest";
import { startTelemetry, telemetrySettings } from "../src/telemetry.js";
import { UsageError } from "../src/usage-error.js";

describe("telemetrySettings (OTEL_* variables)", () => {
  it("asks for nothing without an endpoint or exporter, or when the SDK is disabled", async () => {
    expect(telemetrySettings({})).toBeUndefined();
    expect(telemetrySettings({ OTEL_SERVICE_NAME: "x" })).toBeUndefined();
    expect(
      telemetrySettings({
        OTEL_SDK_DISABLED: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
      }),
    ).toBeUndefined();
    expect(await startTelemetry({}, silentLogger)).toBeUndefined();
  });

  it("exports both signals over OTLP/protobuf to <endpoint>/v1/<signal> by default", () => {
    expect(telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/" })).toMatchObject({
      traces: "otlp",
      metrics: "otlp",
      tracesProtocol: "http/protobuf",
      tracesUrl: "http://c:4318/v1/traces",
      metricsUrl: "http://c:4318/v1/metrics",
      serviceName: "durabletask-sidecar",
      sampler: "parentbased_always_on",
    });
  });

  it("honours signal-specific endpoints, exporters, protocol and sampling", () => {
    expect(
      telemetrySettings({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:4318/custom",
        OTEL_METRICS_EXPORTER: "none",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_SERVICE_NAME: "orders",
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0.25",
      }),
    ).toMatchObject({
      traces: "otlp",
      metrics: "none",
      tracesProtocol: "http/json",
      tracesUrl: "http://t:4318/custom",
      serviceName: "orders",
      sampler: "parentbased_traceidratio",
      samplerArg: 0.25,
    });
    expect(telemetrySettings({ OTEL_TRACES_EXPORTER: "console" })?.traces).toBe("console");
  });

  it.each([
    [
      { OTEL_TRACES_EXPORTER: "zipkin" },
      "OTEL_TRACES_EXPORTER: must be one of otlp, console, none",
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
      "OTEL_EXPORTER_OTLP_PROTOCOL: must be one of http/protobuf, http/json",
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c", OTEL_TRACES_SAMPLER_ARG: "2" },
      "OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1",
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c", OTEL_TRACES_SAMPLER: "sometimes" },
      "OTEL_TRACES_SAMPLER: must be one of",
    ],
  ])("rejects %o naming the variable", (env, message) => {
    expect(() => telemetrySettings(env)).toThrow(UsageError);
    expect(() => telemetrySettings(env)).toThrow(message);
  });
});
