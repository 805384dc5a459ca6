import type { Client } from "@libsql/client";
import { describe, expect, test } from "vitest";
import { stateAfter, type Transport, useHranaServer } from "./helpers.js";

const pairs: [Transport, Transport][] = [
  ["http", "http"],
  ["ws", "ws"],
  ["http", "ws"],
];

async function increment(client: Client, times: number, log: string[], name: string) {
  for (let i = 0; i < times; i++) {
    const tx = await client.transaction("write");
    try {
      const rs = await tx.execute("SELECT n FROM counter WHERE id = 1");
      const n = Number(rs.rows[0]?.n);
      await tx.execute({ sql: "UPDATE counter SET n = ? WHERE id = 1", args: [n + 1] });
      await tx.execute({ sql: "INSERT INTO log (who, seen) VALUES (?, ?)", args: [name, n] });
      await tx.commit();
      log.push(`${name}:${n}`);
    } finally {
      tx.close();
    }
  }
}

describe.each(pairs)("concurrent writers (%s + %s)", (first, second) => {
  const hrana = useHranaServer();

  test("interactive read-modify-write transactions from two clients are serialized without errors", async () => {
    const a = hrana.client(first);
    const b = hrana.client(second);
    await a.executeMultiple(`
      CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
      INSERT INTO counter VALUES (1, 0);
      CREATE TABLE log (who TEXT, seen INTEGER UNIQUE);
    `);
    const log: string[] = [];
    await Promise.all([
      increment(a, 4, log, "a1"),
      increment(a, 4, log, "a2"),
      increment(b, 4, log, "b1"),
      increment(b, 4, log, "b2"),
    ]);
    const counter = await a.execute("SELECT n FROM counter");
    expect(counter.rows[0]?.n).toBe(16);
    // no lost update: every transaction saw a distinct value (UNIQUE would have failed otherwise)
    const seen = await b.execute("SELECT seen FROM log ORDER BY seen");
    expect(seen.rows.map((row) => row.seen)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(log).toHaveLength(16);
  });

  test("concurrent write batches from two clients all commit", async () => {
    const a = hrana.client(first);
    const b = hrana.client(second);
    await a.execute("CREATE TABLE t (who TEXT, i INTEGER)");
    const batches = Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? a : b).batch(
        [
          { sql: "INSERT INTO t VALUES (?, ?)", args: [i % 2 === 0 ? "a" : "b", i] },
          { sql: "INSERT INTO t VALUES (?, ?)", args: [i % 2 === 0 ? "a" : "b", 100 + i] },
        ],
        "write",
      ),
    );
    const results = await Promise.all(batches);
    expect(results.every((r) => r.length === 2 && r[0]?.rowsAffected === 1)).toBe(true);
    const rs = await b.execute("SELECT who, count(*) AS c FROM t GROUP BY who ORDER BY who");
    expect(rs.rows.map((row) => [row.who, row.c])).toEqual([
      ["a", 20],
      ["b", 20],
    ]);
  });

  test("a second writer's BEGIN IMMEDIATE waits for the first to commit, while readers are not blocked", async () => {
    const a = hrana.client(first);
    const b = hrana.client(second);
    await a.execute("CREATE TABLE t (v TEXT)");
    const holder = await a.transaction("write");
    await holder.execute("INSERT INTO t VALUES ('first')");

    const waiter = await b.transaction("write");
    const waiting = waiter.execute("SELECT count(*) AS c FROM t");
    expect(await stateAfter(waiting, 150)).toBe("pending");

    // an autocommit read goes through and sees the committed state only
    const read = await b.execute("SELECT count(*) AS c FROM t");
    expect(read.rows[0]?.c).toBe(0);
    // an autocommit write queues too
    const queuedWrite = b.execute("INSERT INTO t VALUES ('third')");
    expect(await stateAfter(queuedWrite, 50)).toBe("pending");

    await holder.commit();
    const seen = await waiting;
    expect(seen.rows[0]?.c).toBe(1); // the waiter's transaction starts after the commit
    await waiter.execute("INSERT INTO t VALUES ('second')");
    await waiter.commit();
    await queuedWrite;
    const rows = await a.execute("SELECT v FROM t ORDER BY rowid");
    expect(rows.rows.map((row) => row.v)).toEqual(["first", "second", "third"]);
  });
});
