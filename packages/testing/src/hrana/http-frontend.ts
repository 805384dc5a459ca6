// Hrana over HTTP, version 2: `GET /v2` (version probe) and `POST /v2/pipeline` with batons.

import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import {
  HranaError,
  isObject,
  type ProtoPipelineResponse,
  type ProtoStreamResult,
} from "./protocol.js";
import { maxStoredSqlHttp, runSqlRequest, storeSql } from "./requests.js";
import type { ServerState } from "./server-state.js";
import { type ResponseBudget, SqlStream, toProtoError } from "./sql-stream.js";

interface HttpStream {
  readonly id: string;
  readonly stream: SqlStream;
  readonly sqls: Map<number, string>;
  /** The baton the next request must carry; undefined while a request is being processed. */
  baton: string | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const maxBodyBytes = 64 * 1024 * 1024;

export class HttpFrontend {
  readonly #server: ServerState;
  readonly #streams = new Map<string, HttpStream>();
  /** Ids of streams that expired, so their batons get STREAM_EXPIRED rather than "invalid baton". */
  readonly #expired = new Set<string>();
  /** sqld expires a stream after 10 s without a request; undefined = never. */
  streamIdleTimeoutMs: number | undefined;

  constructor(server: ServerState, streamIdleTimeoutMs: number | undefined) {
    this.#server = server;
    this.streamIdleTimeoutMs = streamIdleTimeoutMs;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#server.stats.httpRequests++;
    if (this.#server.closed) {
      res.writeHead(503, { "content-type": "text/plain" }).end("The server is shutting down");
      return;
    }
    try {
      const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "");
      if (req.method === "GET" && path === "/health") {
        await this.#send(res, 200, "text/plain", "OK");
        return;
      }
      this.#authenticate(req);
      if (req.method === "GET" && (path === "" || path === "/v2")) {
        await this.#send(res, 200, "text/plain", "Hello, this is HTTP API v2 (Hrana over HTTP)");
      } else if (req.method === "POST" && path === "/v2/pipeline") {
        const body = await readJson(req);
        const response = await this.#pipeline(body);
        await this.#send(res, 200, "application/json", JSON.stringify(response));
      } else {
        await this.#send(res, 404, "text/plain", `No ${req.method} ${path} here (Hrana v2 only)`);
      }
    } catch (error) {
      if (error instanceof HttpError) {
        if (error.code !== undefined) {
          // sqld answers stream errors (STREAM_EXPIRED) with a JSON {message, code} body.
          const body = JSON.stringify({ message: error.message, code: error.code });
          await this.#send(res, error.status, "application/json", body);
        } else if (error.status === 401) {
          await this.#send(res, 401, "application/json", JSON.stringify({ error: error.message }));
        } else {
          await this.#send(res, error.status, "text/plain", error.message);
        }
      } else {
        const message = error instanceof Error ? error.message : String(error);
        await this.#send(res, 500, "text/plain", `Internal error: ${message}`);
      }
    }
  }

  /** Closes every HTTP stream (server shutdown). */
  closeAll(): void {
    for (const entry of this.#streams.values()) {
      this.#clearIdle(entry);
      entry.stream.close();
    }
    this.#streams.clear();
  }

  #authenticate(req: IncomingMessage): void {
    const token = this.#server.authToken;
    if (token === undefined) return;
    const header = req.headers.authorization;
    if (header === undefined) {
      throw new HttpError(401, "Unauthorized: the Authorization header is missing");
    }
    if (header !== `Bearer ${token}`) {
      throw new HttpError(401, "Unauthorized: the auth token is invalid");
    }
  }

  async #pipeline(body: unknown): Promise<ProtoPipelineResponse> {
    if (!isObject(body) || !Array.isArray(body.requests)) {
      throw new HttpError(400, "Invalid pipeline request: `requests` must be an array");
    }
    const entry = this.#acquire(body.baton);
    this.#server.stats.pipelines++;
    const budget: ResponseBudget = { remaining: this.#server.maxResponseBytes };
    const results: ProtoStreamResult[] = [];
    let closed = false;
    for (const request of body.requests) {
      if (closed) {
        this.#forget(entry);
        throw new HttpError(400, "Received a request on a stream that was closed");
      }
      if (isObject(request) && request.type === "close") {
        closed = true;
        results.push({ type: "ok", response: { type: "close" } });
        continue;
      }
      results.push(await this.#request(entry, request, budget));
    }
    if (closed) {
      this.#forget(entry);
      return { baton: null, base_url: null, results };
    }
    if (entry.stream.status !== "open") {
      // expired (expireStreams) while this request was being processed
      this.#forget(entry);
      this.#expired.add(entry.id);
      throw new HttpError(500, "The stream has expired due to inactivity", "STREAM_EXPIRED");
    }
    entry.baton = `${entry.id}.${randomBytes(12).toString("base64url")}`;
    this.#armIdle(entry);
    return { baton: entry.baton, base_url: null, results };
  }

  /** The stream a baton designates (or a new one for no baton), taken for one request. */
  #acquire(baton: unknown): HttpStream {
    if (baton === null || baton === undefined) {
      const id = randomBytes(9).toString("base64url");
      const entry: HttpStream = {
        id,
        stream: new SqlStream(this.#server),
        sqls: new Map(),
        baton: undefined,
        idleTimer: undefined,
      };
      this.#streams.set(id, entry);
      return entry;
    }
    if (typeof baton !== "string") throw new HttpError(400, "Invalid baton");
    const id = baton.split(".")[0] ?? "";
    if (this.#expired.has(id)) {
      throw new HttpError(500, "The stream has expired due to inactivity", "STREAM_EXPIRED");
    }
    const entry = this.#streams.get(id);
    if (entry === undefined) throw new HttpError(400, "Invalid baton");
    if (entry.baton !== baton) {
      throw new HttpError(400, "Baton reused: requests on one stream must be sequential");
    }
    if (entry.stream.status !== "open") {
      this.#forget(entry);
      this.#expired.add(id);
      throw new HttpError(500, "The stream has expired due to inactivity", "STREAM_EXPIRED");
    }
    entry.baton = undefined;
    this.#clearIdle(entry);
    return entry;
  }

  async #request(
    entry: HttpStream,
    request: unknown,
    budget: ResponseBudget,
  ): Promise<ProtoStreamResult> {
    try {
      if (!isObject(request)) throw new HranaError("PROTOCOL_ERROR", "A request is not an object");
      switch (request.type) {
        case "store_sql":
          storeSql(entry.sqls, request, maxStoredSqlHttp);
          return { type: "ok", response: { type: "store_sql" } };
        case "close_sql":
          if (typeof request.sql_id === "number") entry.sqls.delete(request.sql_id);
          return { type: "ok", response: { type: "close_sql" } };
        default:
          return {
            type: "ok",
            response: await runSqlRequest(entry.stream, request, entry.sqls, budget),
          };
      }
    } catch (error) {
      return { type: "error", error: toProtoError(error) };
    }
  }

  #forget(entry: HttpStream): void {
    this.#clearIdle(entry);
    entry.stream.close();
    this.#streams.delete(entry.id);
  }

  #armIdle(entry: HttpStream): void {
    this.#clearIdle(entry);
    const timeout = this.streamIdleTimeoutMs;
    if (timeout === undefined) return;
    entry.idleTimer = setTimeout(() => {
      entry.idleTimer = undefined;
      entry.stream.expire();
    }, timeout);
    entry.idleTimer.unref();
  }

  #clearIdle(entry: HttpStream): void {
    if (entry.idleTimer !== undefined) clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
  }

  async #send(
    res: ServerResponse,
    status: number,
    contentType: string,
    body: string,
  ): Promise<void> {
    const latency = this.#server.latencyMs;
    if (latency > 0) await sleep(latency);
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, {
      "content-type": contentType,
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBodyBytes) throw new HttpError(413, "Request body is too large");
    chunks.push(buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new HttpError(400, `Could not parse the JSON request body: ${message}`);
  }
}
