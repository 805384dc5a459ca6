// Hrana over WebSocket, subprotocol `hrana2` (JSON): hello, then requests keyed by request_id.
// Requests of one stream run in order; different streams run concurrently (a stream waiting for
// the write lock does not hold up the others), so responses may come out of order.

import type { WebSocket } from "ws";
import { HranaError, isObject, type ProtoError } from "./protocol.js";
import { inlineStoredSql, maxStoredSqlWs, runSqlRequest, storeSql } from "./requests.js";
import type { ServerState } from "./server-state.js";
import { type ResponseBudget, SqlStream, toProtoError } from "./sql-stream.js";

interface WsStream {
  readonly stream: SqlStream;
  /** Tail of this stream's request chain. */
  tail: Promise<void>;
}

/** Chooses the subprotocol: v2 (a superset of v1) when offered; the JSON v1 fallback otherwise. */
export function chooseSubprotocol(offered: Set<string>): string | false {
  if (offered.has("hrana2")) return "hrana2";
  if (offered.has("hrana1")) return "hrana1";
  return false;
}

export class WsSession {
  readonly #server: ServerState;
  readonly #socket: WebSocket;
  readonly #streams = new Map<number, WsStream>();
  readonly #sqls = new Map<number, string>();
  #authenticated = false;
  #closed = false;

  constructor(server: ServerState, socket: WebSocket, onClose: () => void) {
    this.#server = server;
    this.#socket = socket;
    socket.on("message", (data, isBinary) => {
      this.#onMessage(data, isBinary);
    });
    socket.on("close", () => {
      this.#shutdown();
      onClose();
    });
    socket.on("error", () => {
      this.#shutdown();
    });
  }

  /** Drops the connection at once (server shutdown). */
  terminate(): void {
    this.#shutdown();
    this.#socket.terminate();
  }

  #shutdown(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const entry of this.#streams.values()) entry.stream.close();
    this.#streams.clear();
  }

  #onMessage(data: unknown, isBinary: boolean): void {
    this.#server.stats.wsMessages++;
    if (this.#closed) return;
    if (isBinary) {
      this.#socket.close(1003, "Only text messages are accepted with JSON encoding");
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(String(data));
    } catch {
      this.#socket.close(1007, "Could not parse the message as JSON");
      return;
    }
    if (!isObject(msg)) {
      this.#socket.close(1007, "A message must be a JSON object");
      return;
    }
    if (msg.type === "hello") {
      this.#hello(msg.jwt);
    } else if (msg.type === "request") {
      if (!this.#authenticated) {
        this.#socket.close(1008, "Received a request before a successful hello");
        return;
      }
      const requestId = msg.request_id;
      if (typeof requestId !== "number" || !isObject(msg.request)) {
        this.#socket.close(1007, "A request needs a numeric request_id and a request object");
        return;
      }
      this.#request(requestId, msg.request);
    } else {
      this.#socket.close(1003, `Unknown message type ${JSON.stringify(msg.type)}`);
    }
  }

  #hello(jwt: unknown): void {
    const token = this.#server.authToken;
    if (token !== undefined && jwt !== token) {
      this.#authenticated = false;
      const message =
        typeof jwt === "string"
          ? "Authentication failed: the auth token is invalid"
          : "Authentication failed: no auth token was sent";
      this.#send({ type: "hello_error", error: { message, code: "UNAUTHORIZED" } });
      return;
    }
    this.#authenticated = true;
    this.#send({ type: "hello_ok" });
  }

  #request(requestId: number, request: Record<string, unknown>): void {
    const ok = (response: unknown) =>
      this.#send({ type: "response_ok", request_id: requestId, response });
    const fail = (error: ProtoError) =>
      this.#send({ type: "response_error", request_id: requestId, error });
    try {
      switch (request.type) {
        case "open_stream": {
          const id = request.stream_id;
          if (typeof id !== "number")
            throw new HranaError("PROTOCOL_ERROR", "`stream_id` is missing");
          if (this.#streams.has(id)) {
            throw new HranaError("STREAM_EXISTS", `Stream ${id} is already open`);
          }
          this.#streams.set(id, { stream: new SqlStream(this.#server), tail: Promise.resolve() });
          ok({ type: "open_stream" });
          return;
        }
        case "close_stream": {
          const id = request.stream_id;
          const entry = typeof id === "number" ? this.#streams.get(id) : undefined;
          if (entry === undefined || typeof id !== "number") {
            ok({ type: "close_stream" });
            return;
          }
          // after the requests already queued on the stream
          this.#enqueue(entry, async () => {
            entry.stream.close();
            if (this.#streams.get(id) === entry) this.#streams.delete(id);
            ok({ type: "close_stream" });
          });
          return;
        }
        case "store_sql":
          storeSql(this.#sqls, request, maxStoredSqlWs);
          ok({ type: "store_sql" });
          return;
        case "close_sql":
          if (typeof request.sql_id === "number") this.#sqls.delete(request.sql_id);
          ok({ type: "close_sql" });
          return;
        case "execute":
        case "batch":
        case "sequence":
        case "describe": {
          const id = request.stream_id;
          const entry = typeof id === "number" ? this.#streams.get(id) : undefined;
          if (entry === undefined) {
            throw new HranaError("STREAM_NOT_FOUND", `Stream ${String(id)} is not open`);
          }
          // Stored SQL is resolved now: a close_sql sent later must not affect this request.
          const resolved = inlineStoredSql(request, this.#sqls);
          this.#enqueue(entry, async () => {
            const budget: ResponseBudget = { remaining: this.#server.maxResponseBytes };
            try {
              ok(await runSqlRequest(entry.stream, resolved, this.#sqls, budget));
            } catch (error) {
              fail(toProtoError(error));
            }
          });
          return;
        }
        default:
          throw new HranaError(
            "PROTOCOL_ERROR",
            `Unknown or unsupported request type ${JSON.stringify(request.type)}`,
          );
      }
    } catch (error) {
      fail(toProtoError(error));
    }
  }

  #enqueue(entry: WsStream, task: () => Promise<void>): void {
    entry.tail = entry.tail.then(task).catch(() => undefined);
  }

  #send(msg: unknown): void {
    const payload = JSON.stringify(msg);
    const deliver = () => {
      if (this.#socket.readyState === this.#socket.OPEN) this.#socket.send(payload);
    };
    const latency = this.#server.latencyMs;
    if (latency > 0) setTimeout(deliver, latency);
    else deliver();
  }
}
