import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { describe, expect, test } from "vitest";
import { startHranaServer } from "../../src/hrana/index.js";
import { rejectionOf, sleep, stateAfter, transports, useHranaServer } from "./helpers.js";

async function elapsed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

describe("latency injection and round-trip counts over http", () => {
  const hrana = useHranaServer();

  test("each execute / batch is one HTTP request and takes at least the latency", async () => {
    const client = hrana.client("http");
    await client.execute("CREATE TABLE t (v INTEGER)");
    hrana.server.setLatencyMs(150);
    hrana.server.stats.reset();

    expect(await elapsed(() => client.execute("SELECT 1"))).toBeGreaterThanOrEqual(148);
    expect(hrana.server.stats.httpRequests).toBe(1);
    expect(hrana.server.stats.pipelines).toBe(1);
    expect(hrana.server.stats.statements).toBe(1);

    hrana.server.stats.reset();
    const stmts = Array.from({ length: 10 }, (_, i) => `INSERT INTO t VALUES (${i})`);
    expect(await elapsed(() => client.batch(stmts, "write"))).toBeGreaterThanOrEqual(148);
    expect(hrana.server.stats.httpRequests).toBe(1);
    expect(hrana.server.stats.batches).toBe(1);
    // BEGIN IMMEDIATE + 10 statements + COMMIT (the ROLLBACK step is skipped)
    expect(hrana.server.stats.statements).toBe(12);

    hrana.server.stats.reset();
    const txTime = await elapsed(async () => {
      const tx = await client.transaction("write");
      await tx.execute("INSERT INTO t VALUES (100)");
      await tx.execute("INSERT INTO t VALUES (101)");
      await tx.commit();
    });
    // BEGIN rides with the first statement; the commit carries the stream close: 3 round trips
    expect(hrana.server.stats.httpRequests).toBe(3);
    expect(txTime).toBeGreaterThanOrEqual(3 * 148);

    hrana.server.setLatencyMs(0);
    hrana.server.stats.reset();
    expect(await elapsed(() => client.execute("SELECT count(*) FROM t"))).toBeLessThan(148);
    expect(hrana.server.stats.httpRequests).toBe(1);
    const count = await client.execute("SELECT count(*) AS c FROM t");
    expect(count.rows[0]?.c).toBe(12);
  });
});

describe("latency injection over ws", () => {
  const hrana = useHranaServer({ latencyMs: 150 });

  test("every reply is delayed; an execute's pipelined requests cost one round trip", async () => {
    const client = hrana.client("ws");
    await client.execute("SELECT 1"); // handshake and hello
    hrana.server.stats.reset();
    const ms = await elapsed(() => client.execute("SELECT 2"));
    expect(ms).toBeGreaterThanOrEqual(148);
    expect(ms).toBeLessThan(2 * 150);
    // open_stream, store_sql (the client caches the new text), execute, close_stream
    expect(hrana.server.stats.wsMessages).toBe(4);
    expect(hrana.server.stats.statements).toBe(1);
  });
});

describe.each(transports)("faults over %s", (transport) => {
  const hrana = useHranaServer();

  test("failNextWithBusy makes the next statements fail with SQLITE_BUSY", async () => {
    const client = hrana.client(transport);
    await client.execute("CREATE TABLE t (v INTEGER)");

    hrana.server.failNextWithBusy(1);
    const error = await rejectionOf(client.execute("INSERT INTO t VALUES (1)"));
    expect(error.code).toBe("SQLITE_BUSY");
    expect(error.message).toBe("SQLITE_BUSY: SQLite error: database is locked");
    await client.execute("INSERT INTO t VALUES (2)"); // only one was armed

    // a batch's BEGIN fails: nothing of the batch is applied
    hrana.server.failNextWithBusy(1);
    const batchError = await rejectionOf(
      client.batch(["INSERT INTO t VALUES (3)", "INSERT INTO t VALUES (4)"], "write"),
    );
    expect(batchError.code).toBe("SQLITE_BUSY");

    // an interactive transaction whose BEGIN fails is closed by the client
    hrana.server.failNextWithBusy(1);
    const tx = await client.transaction("write");
    const txError = await rejectionOf(tx.execute("INSERT INTO t VALUES (5)"));
    expect(txError.code).toBe("SQLITE_BUSY");
    expect((await rejectionOf(tx.commit())).code).toBe("TRANSACTION_CLOSED");

    // two armed: the retry of a failed execute fails too, the third attempt succeeds
    hrana.server.failNextWithBusy(2);
    expect((await rejectionOf(client.execute("INSERT INTO t VALUES (6)"))).code).toBe(
      "SQLITE_BUSY",
    );
    expect((await rejectionOf(client.execute("INSERT INTO t VALUES (6)"))).code).toBe(
      "SQLITE_BUSY",
    );
    await client.execute("INSERT INTO t VALUES (6)");

    const rows = await client.execute("SELECT v FROM t ORDER BY v");
    expect(rows.rows.map((row) => row.v)).toEqual([2, 6]);
  });

  test("expireStreams: an open transaction fails with STREAM_EXPIRED, is rolled back, and new calls work", async () => {
    const client = hrana.client(transport);
    await client.execute("CREATE TABLE t (v INTEGER)");
    const tx = await client.transaction("write");
    await tx.execute("INSERT INTO t VALUES (1)");

    hrana.server.expireStreams();

    const error = await rejectionOf(tx.execute("INSERT INTO t VALUES (2)"));
    expect(error.code).toBe("STREAM_EXPIRED");
    expect(error.message).toBe("STREAM_EXPIRED: The stream has expired due to inactivity");
    // http: the client closed the stream on the HTTP error; ws: COMMIT reaches the expired stream
    const commitError = await rejectionOf(tx.commit());
    expect(commitError.code).toBe(transport === "http" ? "TRANSACTION_CLOSED" : "STREAM_EXPIRED");
    tx.close();

    // the write lock was released: a new writer goes through at once
    await client.batch(["INSERT INTO t VALUES (3)"], "write");
    const rows = await client.execute("SELECT v FROM t");
    expect(rows.rows.map((row) => row.v)).toEqual([3]);
  });

  test("a write transaction held past the timeout is rolled back; its next request fails with TRANSACTION_TIMEOUT", async () => {
    const client = hrana.client(transport);
    const other = hrana.client(transport);
    await client.execute("CREATE TABLE t (v INTEGER)");
    hrana.server.setTransactionTimeoutMs(300);

    const tx = await client.transaction("write");
    await tx.execute("INSERT INTO t VALUES (1)");
    // another writer queues behind the transaction and gets through once the timeout fires
    const start = performance.now();
    const waiting = other.batch(["INSERT INTO t VALUES (2)"], "write");
    expect(await stateAfter(waiting, 60)).toBe("pending");
    await waiting;
    expect(performance.now() - start).toBeGreaterThanOrEqual(200);

    const error = await rejectionOf(tx.execute("INSERT INTO t VALUES (3)"));
    expect(error.code).toBe("TRANSACTION_TIMEOUT");
    expect(error.message).toContain("Transaction timed out");
    // like sqld: only the first request after the timeout fails so; the transaction is gone
    const commitError = await rejectionOf(tx.commit());
    expect(commitError.code).toBe("SQLITE_ERROR");
    expect(commitError.message).toContain("cannot commit - no transaction is active");
    tx.close();

    const rows = await client.execute("SELECT v FROM t ORDER BY v");
    expect(rows.rows.map((row) => row.v)).toEqual([2]);

    // a transaction that finishes in time is unaffected
    const quick = await client.transaction("write");
    await quick.execute("INSERT INTO t VALUES (4)");
    await quick.commit();
    hrana.server.setTransactionTimeoutMs(undefined);
    const after = await client.execute("SELECT v FROM t ORDER BY v");
    expect(after.rows.map((row) => row.v)).toEqual([2, 4]);
  });

  test("responses over the cap fail with RESPONSE_TOO_LARGE", async () => {
    const client = hrana.client(transport);
    await client.execute("CREATE TABLE t (v TEXT)");
    hrana.server.setMaxResponseBytes(4096);

    const big = await rejectionOf(client.execute("SELECT hex(zeroblob(4096)) AS v"));
    expect(big.code).toBe("RESPONSE_TOO_LARGE");
    expect(big.message).toBe("RESPONSE_TOO_LARGE: Response is too large");
    const small = await client.execute("SELECT hex(zeroblob(16)) AS v");
    expect(small.rows[0]?.v).toBe("0".repeat(32));

    // inside a write batch the failure rolls the batch back
    const batchError = await rejectionOf(
      client.batch(["INSERT INTO t VALUES ('x')", "SELECT hex(zeroblob(4096))"], "write"),
    );
    expect(batchError.code).toBe("RESPONSE_TOO_LARGE");
    expect((await client.execute("SELECT count(*) AS c FROM t")).rows[0]?.c).toBe(0);

    // the cap counts the whole response: 1.5 KiB results fit one by one, not three together
    const chunk = "SELECT hex(zeroblob(768)) AS v";
    const [one] = await client.batch([chunk], "read");
    expect(String(one?.rows[0]?.v)).toHaveLength(1536);
    const total = await rejectionOf(client.batch([chunk, chunk, chunk], "read"));
    expect(total.code).toBe("RESPONSE_TOO_LARGE");
    expect((total as { statementIndex?: number }).statementIndex).toBe(2);

    hrana.server.setMaxResponseBytes(undefined);
    const uncapped = await client.execute("SELECT hex(zeroblob(100000)) AS v");
    expect(String(uncapped.rows[0]?.v)).toHaveLength(200_000);
  });
});

describe("HTTP stream idle expiry", () => {
  const hrana = useHranaServer({ httpStreamIdleTimeoutMs: 300 });

  test("a transaction idle longer than the stream timeout fails with STREAM_EXPIRED", async () => {
    const client = hrana.client("http");
    await client.execute("CREATE TABLE t (v INTEGER)");
    const tx = await client.transaction("write");
    await tx.execute("INSERT INTO t VALUES (1)");
    await sleep(600);
    const error = await rejectionOf(tx.execute("INSERT INTO t VALUES (2)"));
    expect(error.code).toBe("STREAM_EXPIRED");
    tx.close();

    // a transaction that keeps talking stays alive past the timeout in total
    const busy = await client.transaction("write");
    const start = performance.now();
    for (let i = 10; i < 18; i++) {
      await busy.execute({ sql: "INSERT INTO t VALUES (?)", args: [i] });
      await sleep(50);
    }
    expect(performance.now() - start).toBeGreaterThan(300);
    await busy.commit();
    const rows = await client.execute("SELECT v FROM t ORDER BY v");
    expect(rows.rows.map((row) => row.v)).toEqual([10, 11, 12, 13, 14, 15, 16, 17]);
  });
});

describe.each(transports)("auth token over %s", (transport) => {
  const hrana = useHranaServer({ authToken: "s3cret-token" });

  test("the right token is accepted", async () => {
    const client = hrana.client(transport, { authToken: "s3cret-token" });
    const rs = await client.execute("SELECT 'in' AS v");
    expect(rs.rows[0]?.v).toBe("in");
  });

  test("a wrong or missing token is rejected", async () => {
    const wrong = hrana.client(transport, { authToken: "guess" });
    const missing = hrana.client(transport);
    const wrongError = await rejectionOf(wrong.execute("SELECT 1"));
    const missingError = await rejectionOf(missing.execute("SELECT 1"));
    if (transport === "http") {
      // like sqld: HTTP 401, which the client reports as a SERVER_ERROR
      expect(wrongError.code).toBe("SERVER_ERROR");
      expect(wrongError.message).toBe("SERVER_ERROR: Server returned HTTP status 401");
      expect(missingError.code).toBe("SERVER_ERROR");
    } else {
      expect(wrongError.code).toBe("UNAUTHORIZED");
      expect(wrongError.message).toContain("the auth token is invalid");
      expect(missingError.code).toBe("UNAUTHORIZED");
      expect(missingError.message).toContain("no auth token was sent");
    }
    expect(hrana.server.stats.statements).toBe(0);
  });
});

test("a server on a given path keeps the file; a temp server removes its own", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hrana-test-"));
  try {
    const path = join(dir, "kept.db");
    const first = await startHranaServer({ path });
    const client = createClient({ url: first.httpUrl });
    await client.execute("CREATE TABLE kept (v TEXT)");
    await client.execute("INSERT INTO kept VALUES ('survives')");
    client.close();
    await first.close();
    expect(existsSync(path)).toBe(true);

    const second = await startHranaServer({ path });
    const again = createClient({ url: second.wsUrl });
    const rs = await again.execute("SELECT v FROM kept");
    expect(rs.rows.map((row) => row.v)).toEqual(["survives"]);
    again.close();
    await second.close();

    const temp = await startHranaServer();
    expect(existsSync(temp.path)).toBe(true);
    await temp.close();
    expect(existsSync(temp.path)).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
