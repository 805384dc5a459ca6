// The wire protocol spoken directly (no @libsql/client): batons, conditions, describe, stored
// SQL, value encoding, error shapes, WebSocket framing and ordering.

import { describe, expect, test } from "vitest";
import { WebSocket } from "ws";
import { stateAfter, useHranaServer } from "./helpers.js";

interface HttpReply {
  status: number;
  contentType: string | null;
  body: unknown;
}

async function request(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpReply> {
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { "content-type": "application/json", ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const contentType = response.headers.get("content-type");
  const text = await response.text();
  return {
    status: response.status,
    contentType,
    body: contentType === "application/json" ? JSON.parse(text) : text,
  };
}

type Json = Record<string, unknown>;

function stmt(sql: string, args: unknown[] = []): Json {
  return { sql, args };
}

const int = (value: string) => ({ type: "integer", value });

describe("HTTP pipeline", () => {
  const hrana = useHranaServer();
  const pipeline = (body: unknown, headers?: Record<string, string>) =>
    request(`${hrana.server.httpUrl}/v2/pipeline`, { body, headers });

  test("answers the version probe and 404s other versions", async () => {
    const v2 = await request(`${hrana.server.httpUrl}/v2`);
    expect(v2.status).toBe(200);
    expect(v2.body).toBe("Hello, this is HTTP API v2 (Hrana over HTTP)");
    expect((await request(`${hrana.server.httpUrl}/v3-protobuf`)).status).toBe(404);
    expect((await request(`${hrana.server.httpUrl}/v3/pipeline`, { body: {} })).status).toBe(404);
    expect((await request(`${hrana.server.httpUrl}/health`)).status).toBe(200);
    expect(hrana.server.stats.httpRequests).toBe(4);
  });

  test("issues a fresh baton per response and rejects stale, unknown and closed ones", async () => {
    const first = await pipeline({
      baton: null,
      requests: [{ type: "execute", stmt: stmt("SELECT 1") }],
    });
    expect(first.status).toBe(200);
    const b1 = (first.body as Json).baton as string;
    expect(typeof b1).toBe("string");
    expect((first.body as Json).base_url).toBeNull();

    const second = await pipeline({ baton: b1, requests: [] });
    const b2 = (second.body as Json).baton as string;
    expect(second.status).toBe(200);
    expect(b2).not.toBe(b1);

    const stale = await pipeline({ baton: b1, requests: [] });
    expect(stale.status).toBe(400);
    expect(stale.body).toContain("Baton reused");
    const unknown = await pipeline({ baton: "nonsense", requests: [] });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toBe("Invalid baton");

    const closed = await pipeline({ baton: b2, requests: [{ type: "close" }] });
    expect(closed.body).toEqual({
      baton: null,
      base_url: null,
      results: [{ type: "ok", response: { type: "close" } }],
    });
    expect((await pipeline({ baton: b2, requests: [] })).status).toBe(400);

    const malformed = await request(`${hrana.server.httpUrl}/v2/pipeline`, { body: { nope: 1 } });
    expect(malformed.status).toBe(400);
  });

  test("runs every request of a pipeline, reporting errors per request", async () => {
    const reply = await pipeline({
      requests: [
        { type: "execute", stmt: stmt("SELECT nope") },
        { type: "execute", stmt: { sql: "SELECT ? AS x", args: [int("7")], want_rows: true } },
        { type: "get_autocommit" },
        { type: "close" },
      ],
    });
    const body = reply.body as { baton: unknown; results: Json[] };
    expect(body.baton).toBeNull();
    expect(body.results[0]).toEqual({
      type: "error",
      error: { message: "SQLite error: no such column: nope", code: "SQLITE_ERROR" },
    });
    expect(body.results[1]).toEqual({
      type: "ok",
      response: {
        type: "execute",
        result: {
          cols: [{ name: "x", decltype: null }],
          rows: [[int("7")]],
          affected_row_count: 0,
          last_insert_rowid: null,
        },
      },
    });
    expect(body.results[2]).toMatchObject({ type: "error", error: { code: "PROTOCOL_ERROR" } });
    expect(body.results[3]).toEqual({ type: "ok", response: { type: "close" } });
  });

  test("encodes and decodes every value type", async () => {
    const reply = await pipeline({
      requests: [
        {
          type: "execute",
          stmt: stmt("SELECT ?, typeof(?), ?, typeof(?), ?, ?, ?, typeof(?)", [
            int("-9223372036854775808"),
            int("1"),
            { type: "float", value: 5 },
            { type: "float", value: 5 },
            { type: "text", value: "ü" },
            { type: "blob", base64: Buffer.from([0, 255]).toString("base64") },
            { type: "null" },
            { type: "null" },
          ]),
        },
        { type: "execute", stmt: stmt("SELECT ?", [int("9223372036854775808")]) },
        {
          type: "execute",
          stmt: {
            sql: "SELECT :a",
            args: [int("1")],
            named_args: [{ name: ":a", value: int("2") }],
          },
        },
        { type: "execute", stmt: { sql: "SELECT 1 AS one", want_rows: false } },
      ],
    });
    const results = (reply.body as { results: Json[] }).results;
    expect(results[0]).toMatchObject({
      type: "ok",
      response: {
        result: {
          rows: [
            [
              int("-9223372036854775808"),
              { type: "text", value: "integer" },
              { type: "float", value: 5 },
              { type: "text", value: "real" },
              { type: "text", value: "ü" },
              { type: "blob", base64: "AP8=" },
              { type: "null" },
              { type: "text", value: "null" },
            ],
          ],
        },
      },
    });
    expect(results[1]).toMatchObject({ type: "error", error: { code: "ARGS_INVALID" } });
    expect(results[2]).toMatchObject({
      type: "error",
      error: { code: "ARGS_BOTH_POSITIONAL_AND_NAMED" },
    });
    expect(results[3]).toMatchObject({
      type: "ok",
      response: { result: { cols: [{ name: "one", decltype: null }], rows: [] } },
    });
  });

  test("evaluates batch conditions ok / error / not / and / or / is_autocommit", async () => {
    const steps = [
      { stmt: stmt("SELECT 0") },
      { stmt: stmt("SELECT nope") },
      { condition: { type: "ok", step: 1 }, stmt: stmt("SELECT 2") },
      { condition: { type: "error", step: 1 }, stmt: stmt("SELECT 3") },
      {
        condition: {
          type: "and",
          conds: [
            { type: "ok", step: 0 },
            { type: "error", step: 1 },
          ],
        },
        stmt: stmt("SELECT 4"),
      },
      {
        condition: {
          type: "or",
          conds: [
            { type: "ok", step: 1 },
            { type: "ok", step: 2 },
          ],
        },
        stmt: stmt("SELECT 5"),
      },
      { condition: { type: "not", cond: { type: "ok", step: 2 } }, stmt: stmt("SELECT 6") },
      { condition: { type: "error", step: 2 }, stmt: stmt("SELECT 7") },
      { condition: { type: "is_autocommit" }, stmt: stmt("SELECT 8") },
      { condition: { type: "and", conds: [] }, stmt: stmt("SELECT 9") },
      { condition: { type: "or", conds: [] }, stmt: stmt("SELECT 10") },
    ];
    const reply = await pipeline({ requests: [{ type: "batch", batch: { steps } }] });
    const result = (reply.body as { results: { response: { result: Json } }[] }).results[0]
      ?.response.result as {
      step_results: ({ rows: unknown[][] } | null)[];
      step_errors: ({ code: string } | null)[];
    };
    const ran = result.step_results.map((r) => (r === null ? null : r.rows[0]?.[0]));
    expect(ran).toEqual([
      int("0"),
      null,
      null,
      int("3"),
      int("4"),
      null,
      int("6"),
      null,
      int("8"),
      int("9"),
      null,
    ]);
    expect(result.step_errors.map((e) => e?.code ?? null)).toEqual([
      null,
      "SQLITE_ERROR",
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);

    const forward = await pipeline({
      requests: [
        {
          type: "batch",
          batch: { steps: [{ condition: { type: "ok", step: 0 }, stmt: stmt("SELECT 1") }] },
        },
      ],
    });
    expect((forward.body as { results: Json[] }).results[0]).toMatchObject({
      type: "error",
      error: { code: "PROTOCOL_ERROR" },
    });
  });

  test("stores SQL per stream and describes statements", async () => {
    const first = await pipeline({
      requests: [
        { type: "store_sql", sql_id: 1, sql: "SELECT ?1 + 1 AS n" },
        { type: "execute", stmt: { sql_id: 1, args: [int("41")] } },
        { type: "store_sql", sql_id: 1, sql: "SELECT 2" },
        { type: "execute", stmt: { sql: "SELECT 1", sql_id: 1 } },
        { type: "describe", sql_id: 1 },
        { type: "describe", sql: "SELECT :a AS x, ?3 AS y" },
        { type: "describe", sql: "EXPLAIN SELECT 1" },
        { type: "sequence", sql: "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);" },
        { type: "describe", sql: "INSERT INTO t VALUES (?)" },
        { type: "describe", sql: "SELECT a FROM t" },
        { type: "close_sql", sql_id: 1 },
        { type: "close_sql", sql_id: 99 },
        { type: "execute", stmt: { sql_id: 1 } },
      ],
    });
    const results = (first.body as { results: Json[] }).results;
    expect(results[0]).toEqual({ type: "ok", response: { type: "store_sql" } });
    expect(results[1]).toMatchObject({ response: { result: { rows: [[int("42")]] } } });
    expect(results[2]).toMatchObject({ type: "error", error: { code: "SQL_STORE_EXISTS" } });
    expect(results[3]).toMatchObject({ type: "error", error: { code: "PROTOCOL_ERROR" } });
    expect(results[4]).toMatchObject({
      response: { result: { params: [{ name: "?1" }], is_readonly: true } },
    });
    expect(results[5]).toEqual({
      type: "ok",
      response: {
        type: "describe",
        result: {
          params: [{ name: ":a" }, { name: null }, { name: "?3" }],
          cols: [
            { name: "x", decltype: null },
            { name: "y", decltype: null },
          ],
          is_explain: false,
          is_readonly: true,
        },
      },
    });
    expect(results[6]).toMatchObject({ response: { result: { is_explain: true } } });
    expect(results[7]).toEqual({ type: "ok", response: { type: "sequence" } });
    expect(results[8]).toMatchObject({
      response: { result: { params: [{ name: null }], cols: [], is_readonly: false } },
    });
    expect(results[9]).toMatchObject({
      response: { result: { cols: [{ name: "a", decltype: "INTEGER" }] } },
    });
    expect(results[10]).toEqual({ type: "ok", response: { type: "close_sql" } });
    expect(results[11]).toEqual({ type: "ok", response: { type: "close_sql" } });
    expect(results[12]).toMatchObject({ type: "error", error: { code: "SQL_NOT_FOUND" } });

    // stored SQL belongs to its stream
    const other = await pipeline({
      requests: [{ type: "execute", stmt: { sql_id: 1 } }, { type: "close" }],
    });
    expect((other.body as { results: Json[] }).results[0]).toMatchObject({
      type: "error",
      error: { code: "SQL_NOT_FOUND" },
    });
  });

  test("keeps a transaction open across requests of one stream", async () => {
    await pipeline({ requests: [{ type: "sequence", sql: "CREATE TABLE t (v INTEGER)" }] });
    const begin = await pipeline({
      requests: [
        { type: "execute", stmt: stmt("BEGIN IMMEDIATE") },
        { type: "execute", stmt: stmt("INSERT INTO t VALUES (1)") },
      ],
    });
    const baton = (begin.body as Json).baton as string;
    const outside = await pipeline({
      requests: [{ type: "execute", stmt: stmt("SELECT count(*) FROM t") }, { type: "close" }],
    });
    expect((outside.body as { results: Json[] }).results[0]).toMatchObject({
      response: { result: { rows: [[int("0")]] } },
    });
    const commit = await pipeline({
      baton,
      requests: [{ type: "execute", stmt: stmt("COMMIT") }, { type: "close" }],
    });
    expect((commit.body as { results: Json[] }).results[0]).toMatchObject({ type: "ok" });
    const after = await pipeline({
      requests: [{ type: "execute", stmt: stmt("SELECT count(*) FROM t") }, { type: "close" }],
    });
    expect((after.body as { results: Json[] }).results[0]).toMatchObject({
      response: { result: { rows: [[int("1")]] } },
    });
  });

  test("answers an expired baton like sqld: HTTP 500 with a JSON error", async () => {
    const open = await pipeline({ requests: [{ type: "execute", stmt: stmt("SELECT 1") }] });
    hrana.server.expireStreams();
    const expired = await pipeline({ baton: (open.body as Json).baton, requests: [] });
    expect(expired.status).toBe(500);
    expect(expired.contentType).toBe("application/json");
    expect(expired.body).toEqual({
      message: "The stream has expired due to inactivity",
      code: "STREAM_EXPIRED",
    });
  });
});

describe("HTTP auth", () => {
  const hrana = useHranaServer({ authToken: "tkn" });

  test("needs the bearer token on the Hrana endpoints", async () => {
    const body = { requests: [{ type: "execute", stmt: stmt("SELECT 1") }, { type: "close" }] };
    const url = `${hrana.server.httpUrl}/v2/pipeline`;
    const missing = await request(url, { body });
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ error: "Unauthorized: the Authorization header is missing" });
    const wrong = await request(url, { body, headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    const right = await request(url, { body, headers: { authorization: "Bearer tkn" } });
    expect(right.status).toBe(200);
    expect((await request(`${hrana.server.httpUrl}/v2`)).status).toBe(401);
  });
});

class RawWs {
  readonly socket: WebSocket;
  readonly #inbox: Json[] = [];
  readonly #waiters: ((msg: Json) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(url: string, protocols: string[] = ["hrana2"]) {
    this.socket = new WebSocket(url, protocols);
    this.socket.on("message", (data) => {
      const msg = JSON.parse(String(data)) as Json;
      const waiter = this.#waiters.shift();
      if (waiter) waiter(msg);
      else this.#inbox.push(msg);
    });
    this.closed = new Promise((resolve) => {
      this.socket.on("close", (code, reason) => resolve({ code, reason: String(reason) }));
    });
    this.socket.on("error", () => undefined);
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once("open", () => resolve());
      this.socket.once("error", reject);
    });
  }

  send(msg: Json): void {
    this.socket.send(JSON.stringify(msg));
  }

  next(): Promise<Json> {
    const msg = this.#inbox.shift();
    if (msg) return Promise.resolve(msg);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  request(id: number, request: Json): void {
    this.send({ type: "request", request_id: id, request });
  }
}

describe("WebSocket hrana2", () => {
  const hrana = useHranaServer();

  test("negotiates hrana2, says hello, and answers requests by id", async () => {
    const ws = new RawWs(hrana.server.wsUrl, ["hrana3", "hrana2", "hrana1"]);
    await ws.opened();
    expect(ws.socket.protocol).toBe("hrana2");
    ws.send({ type: "hello", jwt: null });
    expect(await ws.next()).toEqual({ type: "hello_ok" });
    ws.request(1, { type: "open_stream", stream_id: 7 });
    ws.request(2, { type: "store_sql", sql_id: 3, sql: "SELECT ? * 2 AS v" });
    ws.request(3, { type: "execute", stream_id: 7, stmt: { sql_id: 3, args: [int("21")] } });
    ws.request(4, { type: "close_sql", sql_id: 3 });
    ws.request(5, { type: "open_stream", stream_id: 7 });
    ws.request(6, { type: "execute", stream_id: 99, stmt: stmt("SELECT 1") });
    ws.request(7, { type: "close_stream", stream_id: 7 });
    const replies = new Map<number, Json>();
    for (let i = 0; i < 7; i++) {
      const msg = await ws.next();
      replies.set(msg.request_id as number, msg);
    }
    expect(replies.get(1)).toEqual({
      type: "response_ok",
      request_id: 1,
      response: { type: "open_stream" },
    });
    // the stored text was resolved when the execute arrived, before close_sql
    expect(replies.get(3)).toMatchObject({
      type: "response_ok",
      response: { type: "execute", result: { rows: [[int("42")]] } },
    });
    expect(replies.get(5)).toMatchObject({
      type: "response_error",
      error: { code: "STREAM_EXISTS" },
    });
    expect(replies.get(6)).toMatchObject({
      type: "response_error",
      error: { code: "STREAM_NOT_FOUND" },
    });
    expect(replies.get(7)).toEqual({
      type: "response_ok",
      request_id: 7,
      response: { type: "close_stream" },
    });
    ws.socket.close();
    await ws.closed;
  });

  test("runs streams concurrently: a stream waiting for the write lock does not hold up others", async () => {
    const ws = new RawWs(hrana.server.wsUrl);
    await ws.opened();
    ws.send({ type: "hello", jwt: null });
    await ws.next();
    for (const id of [1, 2, 3]) ws.request(id, { type: "open_stream", stream_id: id });
    for (let i = 0; i < 3; i++) await ws.next();

    ws.request(10, { type: "execute", stream_id: 1, stmt: stmt("BEGIN IMMEDIATE") });
    expect(await ws.next()).toMatchObject({ request_id: 10, type: "response_ok" });
    ws.request(11, { type: "execute", stream_id: 2, stmt: stmt("BEGIN IMMEDIATE") });
    ws.request(12, { type: "execute", stream_id: 2, stmt: stmt("SELECT 'after begin'") });
    ws.request(13, { type: "execute", stream_id: 3, stmt: stmt("SELECT 'other stream'") });
    expect(await ws.next()).toMatchObject({ request_id: 13, type: "response_ok" });
    const pending = ws.next();
    expect(await stateAfter(pending, 100)).toBe("pending");
    ws.request(14, { type: "execute", stream_id: 1, stmt: stmt("COMMIT") });
    const order = [
      (await pending).request_id,
      (await ws.next()).request_id,
      (await ws.next()).request_id,
    ] as number[];
    expect([...order].sort()).toEqual([11, 12, 14]);
    expect(order.indexOf(11)).toBeLessThan(order.indexOf(12)); // one stream's requests stay in order
    ws.socket.close();
    await ws.closed;
  });

  test("closes the socket on a request before hello, on unknown messages and on binary frames", async () => {
    const early = new RawWs(hrana.server.wsUrl);
    await early.opened();
    early.request(1, { type: "open_stream", stream_id: 1 });
    expect((await early.closed).code).toBe(1008);

    const unknown = new RawWs(hrana.server.wsUrl);
    await unknown.opened();
    unknown.send({ type: "hello", jwt: null });
    await unknown.next();
    unknown.send({ type: "bogus" });
    expect((await unknown.closed).code).toBe(1003);

    const binary = new RawWs(hrana.server.wsUrl);
    await binary.opened();
    binary.socket.send(Buffer.from([1, 2, 3]));
    expect((await binary.closed).code).toBe(1003);
  });

  test("offers no subprotocol to a v3-only client", async () => {
    const ws = new RawWs(hrana.server.wsUrl, ["hrana3-protobuf", "hrana3"]);
    await expect(ws.opened()).rejects.toThrow("Server sent no subprotocol");
  });

  test("closing the socket rolls back its streams' transactions and frees the write lock", async () => {
    const ws = new RawWs(hrana.server.wsUrl);
    await ws.opened();
    ws.send({ type: "hello", jwt: null });
    await ws.next();
    ws.request(1, { type: "open_stream", stream_id: 1 });
    ws.request(2, {
      type: "sequence",
      stream_id: 1,
      sql: "CREATE TABLE t (v INTEGER); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);",
    });
    await ws.next();
    expect(await ws.next()).toEqual({
      type: "response_ok",
      request_id: 2,
      response: { type: "sequence" },
    });
    ws.socket.terminate();
    await ws.closed;

    const client = hrana.client("http");
    await client.batch(["INSERT INTO t VALUES (2)"], "write");
    const rows = await client.execute("SELECT v FROM t");
    expect(rows.rows.map((row) => row.v)).toEqual([2]);
  });
});
