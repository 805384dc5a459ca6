import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  DurableTaskError,
  type Logger,
  type LogLevel,
  type OrchestrationMetadata,
} from "@durabletask/api";
import { createTaskHubClient, createTaskHubWorker, type TaskHubClient } from "@durabletask/backend";
import { createLibsqlBackend } from "@durabletask/libsql";
import { createTaskExecutor } from "@durabletask/task";
import {
  createSampleLogger,
  libsqlDatabaseFromEnv,
  logFormatFromEnv,
  tracingFromEnv,
} from "./libsql-settings.js";
import { simpleOrchestrationRegistry } from "./libsql-simple-orchestration.js";
import type { SampleOptions } from "./sample-engine.js";
import { startSampleTelemetry } from "./sample-telemetry.js";

/** The port the API listens on without `PORT` (the seed's `serve -p` default). */
export const defaultPort = 8888;

/** Request bodies larger than this are refused with 413. */
export const maxBodyBytes = 1024 * 1024;

/** Options of {@link startLibsqlHttpApi}. */
export interface LibsqlHttpApiOptions {
  /** The libsql database URL: `file:`, `http(s)://`, `ws(s)://` or `libsql://`. */
  readonly url: string;
  readonly authToken?: string | undefined;
  /** Default {@link defaultPort}; 0 picks a free port (see {@link LibsqlHttpApi.port}). */
  readonly port?: number | undefined;
  /** Default `localhost`. */
  readonly host?: string | undefined;
  /** The engine's and the API's diagnostics; default: nowhere. */
  readonly logger?: Logger | undefined;
  /**
   * Exports spans (`DURABLETASK_DEMO_TRACING=1`): to the console, or to OTLP when
   * `OTEL_EXPORTER_OTLP_ENDPOINT` is set in {@link LibsqlHttpApiOptions.telemetryEnv}.
   */
  readonly tracing?: boolean | undefined;
  /** The OTEL_* variables used with `tracing`; default `process.env`. */
  readonly telemetryEnv?: Readonly<Record<string, string | undefined>> | undefined;
}

/** A running API. */
export interface LibsqlHttpApi {
  /** The bound port (useful with `port: 0`). */
  readonly port: number;
  /** `http://<host>:<port>`. */
  readonly baseUrl: string;
  /** The storage, as the libsql backend describes it. */
  readonly storage: string;
  /** Stops taking requests, drains the worker and closes the database. Idempotent. */
  stop(): Promise<void>;
}

/** The `GET /status/orchestration/:id` body. */
export interface OrchestrationStatusJson {
  readonly id: string;
  readonly name: string;
  /** `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `TERMINATED`, … */
  readonly status: string;
  readonly createdAt: string;
  readonly lastUpdatedAt: string;
  /** The orchestration's output, parsed, once it has one. */
  readonly output?: unknown;
  readonly failure?: { readonly type: string; readonly message: string };
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Starts the seed example's HTTP API (balchua/durabletask-libsql-backend `example/`) on a libsql
 * task hub, with an in-process worker running `SimpleOrchestration`:
 *
 * - `POST /workflow/simple` (optional JSON body: the input) → 202, `Location:
 *   /status/orchestration/<id>`, body `{ "id": … }`;
 * - `GET /status/orchestration/:id` → 200 {@link OrchestrationStatusJson}, or 404.
 */
export async function startLibsqlHttpApi(options: LibsqlHttpApiOptions): Promise<LibsqlHttpApi> {
  const logger = options.logger ?? quiet;
  // Before the worker, so its metrics go to the registered provider.
  const telemetry = options.tracing
    ? await startSampleTelemetry(options.telemetryEnv ?? process.env, logger)
    : undefined;
  const backend = createLibsqlBackend({ url: options.url, authToken: options.authToken, logger });
  const executor = createTaskExecutor({ registry: simpleOrchestrationRegistry(), logger });
  const worker = createTaskHubWorker({ backend, executor, logger });
  await worker.start();
  const client = createTaskHubClient({ backend, logger });
  const server = createServer((req, res) => {
    handle(req, res, client, logger).catch((error: unknown) => {
      logger.error("request failed", { method: req.method, url: req.url, error });
      if (!res.headersSent) send(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });
  try {
    server.listen(options.port ?? defaultPort, options.host ?? "localhost");
    await once(server, "listening");
  } catch (error) {
    await worker.stop();
    await telemetry?.shutdown();
    throw error;
  }
  const { port, address, family } = server.address() as AddressInfo;
  const host = family === "IPv6" ? `[${address}]` : address;
  logger.info(`libsql-http-api listening on http://${host}:${port}`, {
    storage: backend.description,
  });
  let stopped: Promise<void> | undefined;
  return {
    port,
    baseUrl: `http://${host}:${port}`,
    storage: backend.description,
    stop: () => {
      stopped ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        await worker.stop();
        await telemetry?.shutdown();
      })();
      return stopped;
    },
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  client: TaskHubClient,
  logger: Logger,
): Promise<void> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  logger.debug("request", { method: req.method, path });
  if (path === "/workflow/simple") {
    if (req.method !== "POST") return send(res, 405, { error: "use POST" }, { Allow: "POST" });
    const body = await readBody(req);
    if (body === undefined) return send(res, 413, { error: `body over ${maxBodyBytes} bytes` });
    let input: unknown;
    if (body.trim() !== "") {
      try {
        input = JSON.parse(body);
      } catch {
        return send(res, 400, { error: "the body must be JSON (or empty)" });
      }
    }
    const id = await client.scheduleNewOrchestration("SimpleOrchestration", { input });
    logger.info("scheduled SimpleOrchestration", { instanceId: id });
    const location = `/status/orchestration/${encodeURIComponent(id)}`;
    return send(res, 202, { id }, { Location: location });
  }
  const match = /^\/status\/orchestration\/([^/]+)$/.exec(path);
  if (match?.[1] !== undefined) {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return send(res, 405, { error: "use GET" }, { Allow: "GET, HEAD" });
    }
    let id: string;
    try {
      id = decodeURIComponent(match[1]);
    } catch {
      return send(res, 400, { error: "bad instance id" });
    }
    let metadata: OrchestrationMetadata | undefined;
    try {
      metadata = await client.getOrchestrationState(id);
    } catch (error) {
      if (DurableTaskError.is(error, "InvalidArgument")) {
        return send(res, 400, { error: error.message });
      }
      throw error;
    }
    if (metadata === undefined) return send(res, 404, { error: `no orchestration '${id}'` });
    return send(res, 200, statusJson(metadata));
  }
  send(res, 404, {
    error: "not found: use POST /workflow/simple or GET /status/orchestration/:id",
  });
}

/** The status body of one instance. */
export function statusJson(metadata: OrchestrationMetadata): OrchestrationStatusJson {
  const json: {
    -readonly [K in keyof OrchestrationStatusJson]: OrchestrationStatusJson[K];
  } = {
    id: metadata.instanceId,
    name: metadata.name,
    status: metadata.runtimeStatus,
    createdAt: metadata.createdAt.toISOString(),
    lastUpdatedAt: metadata.lastUpdatedAt.toISOString(),
  };
  if (metadata.serializedOutput !== undefined) json.output = JSON.parse(metadata.serializedOutput);
  if (metadata.failureDetails !== undefined) {
    const { errorType, errorMessage } = metadata.failureDetails;
    json.failure = { type: errorType, message: errorMessage };
  }
  return json;
}

/** The body as text, or undefined when it is larger than {@link maxBodyBytes}. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : text);
}

/** What the CLI's `libsql-http-api` sample takes besides the environment (`dbPath` is unused). */
export interface LibsqlHttpApiCliOptions extends SampleOptions {
  /** The level of the logger it builds for `DURABLETASK_DEMO_LOG_FORMAT=json`; default `warn`. */
  readonly logLevel?: LogLevel | undefined;
  /** Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Stops the API when aborted; default: on the first SIGINT or SIGTERM. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The `libsql-http-api` sample: the seed's example API, configured by its environment variables
 * (see {@link libsqlDatabaseFromEnv}, `PORT`, `DURABLETASK_DEMO_LOG_FORMAT`,
 * `DURABLETASK_DEMO_TRACING`). Runs until SIGINT/SIGTERM (or `signal`), then drains and
 * returns the port it served on.
 */
export async function main(options: LibsqlHttpApiCliOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const database = libsqlDatabaseFromEnv(env);
  const format = logFormatFromEnv(env);
  const logger =
    format === "json"
      ? createSampleLogger({ format, level: options.logLevel })
      : (options.logger ?? createSampleLogger({ level: options.logLevel }));
  const port = portFromEnv(env.PORT);
  const print = options.print ?? ((line: string) => console.log(line));
  const api = await startLibsqlHttpApi({
    url: database.url,
    authToken: database.authToken,
    port,
    logger,
    tracing: tracingFromEnv(env),
    telemetryEnv: env,
  });
  // The backend's description leaves out user info and the token.
  print(`libsql-http-api on ${api.baseUrl} (${api.storage}, from ${database.source})`);
  print(`  curl -i -X POST ${api.baseUrl}/workflow/simple -d '{"requestedBy":"curl"}'`);
  print(`  curl ${api.baseUrl}/status/orchestration/<id>`);
  print("Press Ctrl-C to stop.");
  await stopSignal(options.signal);
  print("Stopping: draining in-flight work.");
  await api.stop();
  return api.port;
}

function portFromEnv(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return defaultPort;
  const port = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(port) || port > 65535) {
    throw new Error(`PORT: must be an integer from 0 to 65535, got '${value}'`);
  }
  return port;
}

function stopSignal(signal: AbortSignal | undefined): Promise<void> {
  if (signal !== undefined) {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => signal.addEventListener("abort", () => resolve()));
  }
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
