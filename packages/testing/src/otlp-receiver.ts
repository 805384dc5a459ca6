// A loopback OTLP/HTTP receiver for tests: accepts JSON exports
// (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) and keeps them for assertions.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** One exported span, as OTLP/JSON encodes it (ids in hex). */
export interface OtlpSpan {
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly kind?: number;
  readonly attributes: readonly OtlpAttribute[];
  readonly status?: { readonly code?: number; readonly message?: string };
}

export interface OtlpAttribute {
  readonly key: string;
  readonly value: { readonly stringValue?: string; readonly intValue?: string | number };
}

/** A running receiver. */
export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`: the value of `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly url: string;
  /** Export bodies received, by path (`/v1/traces`, `/v1/metrics`). */
  readonly bodies: ReadonlyMap<string, readonly unknown[]>;
  /** Every span received. */
  spans(): OtlpSpan[];
  /** The names of every metric received. */
  metricNames(): string[];
  /** The `service.name` of every span export. */
  serviceNames(): string[];
  close(): Promise<void>;
}

type Resource = { readonly attributes?: readonly OtlpAttribute[] };
type TraceExport = {
  resourceSpans?: { resource?: Resource; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
};
type MetricExport = {
  resourceMetrics?: { scopeMetrics?: { metrics?: { name: string }[] }[] }[];
};

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

/** Starts a receiver on a free loopback port. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const bodies = new Map<string, unknown[]>();
  const server = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        const path = req.url ?? "";
        bodies.set(path, [...(bodies.get(path) ?? []), JSON.parse(body)]);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      },
      () => res.writeHead(400).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const traces = () => (bodies.get("/v1/traces") ?? []) as TraceExport[];
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    spans: () =>
      traces().flatMap((e) =>
        (e.resourceSpans ?? []).flatMap((r) => (r.scopeSpans ?? []).flatMap((s) => s.spans ?? [])),
      ),
    metricNames: () =>
      ((bodies.get("/v1/metrics") ?? []) as MetricExport[]).flatMap((e) =>
        (e.resourceMetrics ?? []).flatMap((r) =>
          (r.scopeMetrics ?? []).flatMap((s) => (s.metrics ?? []).map((m) => m.name)),
        ),
      ),
    serviceNames: () =>
      traces().flatMap((e) =>
        (e.resourceSpans ?? []).flatMap((r) =>
          (r.resource?.attributes ?? [])
            .filter((a) => a.key === "service.name")
            .map((a) => a.value.stringValue ?? ""),
        ),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The string value of a span attribute. */
export function otlpAttribute(span: OtlpSpan, key: string): string | undefined {
  const value = span.attributes.find((a) => a.key === key)?.value;
  if (value === undefined) return undefined;
  return value.stringValue ?? (value.intValue === undefined ? undefined : String(value.intValue));
}
