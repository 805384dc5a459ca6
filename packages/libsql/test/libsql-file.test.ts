import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogFields, Logger } from "@durabletask/api";
import { createClient } from "@libsql/client";
import { afterAll, describe, expect, it } from "vitest";
import { createLibsqlBackend, createLibsqlDriver } from "../src/index.js";
import { createInstances, lockOne, runningCommit, start, trackBackends } from "./fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "durabletask-libsql-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newUrl = () => `file:${join(dir, `unit-${++files}.db`)}`;
const track = trackBackends();

function recordingLogger(): Logger & { readonly lines: [string, string, LogFields?][] } {
  const lines: [string, string, LogFields?][] = [];
  const log = (level: string) => (message: string, fields?: LogFields) => {
    lines.push([level, message, fields]);
  };
  return { lines, debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

describe("createLibsqlBackend", () => {
  it("rejects bad options with InvalidArgument naming the field", () => {
    const bad: [Record<string, unknown>, string][] = [
      [{}, "url"],
      [{ url: "" }, "url"],
      [{ url: 3 }, "url"],
      [{ url: "postgres://db.example.com/x" }, "url"],
      [{ url: "not a url" }, "url"],
      [{ url: "file://otherhost/x.db" }, "url"],
      [{ url: "file:" }, "url"],
      [{ url: "http://db.example.com?foo=1" }, "url"],
      [{ url: "http://db.example.com#x" }, "url"],
      [{ url: "http://:8080" }, "url"],
      [{ url: "file:a.db", authToken: "" }, "authToken"],
      [{ url: "file:a.db", syncUrl: "file:b.db" }, "syncUrl"],
      [{ url: "file::memory:", syncUrl: "libsql://db.example.com" }, "syncUrl"],
      [{ url: "http://db.example.com", syncUrl: "libsql://db.example.com" }, "syncUrl"],
      [{ url: "file:a.db", syncIntervalMs: 1000 }, "syncIntervalMs"],
      [
        { url: "file:a.db", syncUrl: "libsql://h.example.com", syncIntervalMs: 0 },
        "syncIntervalMs",
      ],
      [{ url: "file:a.db", busyTimeoutMs: -1 }, "busyTimeoutMs"],
      [{ url: "file:a.db", busyTimeoutMs: 1.5 }, "busyTimeoutMs"],
      [{ url: "file:a.db", maxRetries: -1 }, "maxRetries"],
      [{ url: "file:a.db", maxRetries: 101 }, "maxRetries"],
      [{ url: "file:a.db", orchestrationLockTimeoutMs: 0 }, "orchestrationLockTimeoutMs"],
      [{ url: "file:a.db", activityLockTimeoutMs: Number.NaN }, "activityLockTimeoutMs"],
      [{ url: "file:a.db", workerName: "" }, "workerName"],
      [{ url: "file:a.db", logger: { info: () => {} } }, "logger"],
    ];
    for (const [options, field] of bad) {
      const create = () => createLibsqlBackend(options as { url: string });
      expect(create, JSON.stringify(options)).toThrow(
        expect.objectContaining({
          code: "InvalidArgument",
          message: expect.stringContaining(field),
        }),
      );
    }
    expect(() => createLibsqlDriver({ url: "ftp://x" })).toThrow(
      expect.objectContaining({ code: "InvalidArgument" }),
    );
  });

  it("never echoes a remote URL's credentials, in its description or its errors", () => {
    const secret = "s3cr3t-token";
    const backend = createLibsqlBackend({
      url: `libsql://user:pw@db.example.com?authToken=${secret}&tls=1`,
    });
    expect(backend.description).toBe("libsql:libsql://db.example.com?tls=1");
    expect(createLibsqlBackend({ url: "https://db.example.com/" }).description).toBe(
      "libsql:https://db.example.com",
    );
    expect(createLibsqlBackend({ url: "file:/tmp/x.db" }).description).toBe(
      "libsql:file:/tmp/x.db",
    );
    expect(createLibsqlBackend({ url: ":memory:" }).description).toBe("libsql:file::memory:");
    let message = "";
    try {
      createLibsqlBackend({ url: `http://h.example.com?authToken=${secret}&x=1` });
    } catch (err) {
      message = String(err);
    }
    expect(message).toContain("url");
    expect(message).not.toContain(secret);
  });
});

describe("the libsql driver on file:", () => {
  it("opens files in WAL mode and creates the schema", async () => {
    const url = newUrl();
    const backend = track(createLibsqlBackend({ url }));
    await backend.start();
    const raw = createClient({ url });
    try {
      expect((await raw.execute("PRAGMA journal_mode")).rows[0]?.[0]).toBe("wal");
      const tables = await raw.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
      );
      expect(tables.rows.map((r) => r[0])).toEqual(
        expect.arrayContaining(["ActivityTasks", "History", "Inbox", "Instances", "Meta"]),
      );
    } finally {
      raw.close();
    }
  });

  it("binds integers as INTEGER, maps rows to arrays and counts RETURNING rows", async () => {
    const driver = createLibsqlDriver({ url: newUrl() });
    try {
      const blob = new Uint8Array([0, 1, 255]);
      const big = 2n ** 60n;
      const [types, , inserted, selected] = await driver.batch(
        [
          {
            sql: "SELECT typeof(?), typeof(?), typeof(?), ?, ?, ?",
            args: [5, 2.5, big, 2 ** 40, big, null],
          },
          { sql: "CREATE TABLE T (A INTEGER PRIMARY KEY, B BLOB, C TEXT)", args: [] },
          {
            sql: "INSERT INTO T (A, B, C) VALUES (?, ?, 'x'), (?, NULL, NULL) RETURNING A",
            args: [1, blob, 2],
          },
          { sql: "SELECT B, C, A, A FROM T ORDER BY A", args: [] },
        ],
        "write",
      );
      expect(types?.rows).toEqual([["integer", "real", "integer", 2 ** 40, big, null]]);
      expect(inserted).toEqual({ rows: [[1], [2]], changes: 2 });
      expect(selected?.rows).toEqual([
        [blob, "x", 1, 1],
        [null, null, 2, 2],
      ]);
      expect(selected?.rows[0]?.[0]).toBeInstanceOf(Uint8Array);
      const [updated, deleted] = await driver.batch(
        [
          { sql: "UPDATE T SET C = 'y'", args: [] },
          { sql: "DELETE FROM T WHERE A = ?", args: [1] },
        ],
        "write",
      );
      expect(updated).toEqual({ rows: [], changes: 2 });
      expect(deleted).toEqual({ rows: [], changes: 1 });
    } finally {
      await driver.close();
    }
  });

  it("rolls back a failing batch entirely and reports the statement's error", async () => {
    const driver = createLibsqlDriver({ url: newUrl() });
    try {
      await driver.batch([{ sql: "CREATE TABLE T (A INTEGER PRIMARY KEY)", args: [] }], "write");
      await expect(
        driver.batch(
          [
            { sql: "INSERT INTO T VALUES (1)", args: [] },
            { sql: "INSERT INTO T VALUES (1)", args: [] },
          ],
          "write",
        ),
      ).rejects.toMatchObject({ code: expect.stringMatching(/^SQLITE_CONSTRAINT/) });
      const [count] = await driver.batch([{ sql: "SELECT COUNT(*) FROM T", args: [] }], "read");
      expect(count?.rows).toEqual([[0]]);
    } finally {
      await driver.close();
    }
  });

  it("keeps file::memory: until stop() and a file across restarts", async () => {
    const memory = track(createLibsqlBackend({ url: "file::memory:" }));
    await memory.start();
    await memory.createOrchestrationInstance(start("m"));
    expect(await memory.getOrchestrationMetadata("m")).toBeDefined();
    await memory.stop();
    await memory.start();
    expect(await memory.getOrchestrationMetadata("m")).toBeUndefined();

    const url = newUrl();
    const file = track(createLibsqlBackend({ url }));
    await file.start();
    await file.createOrchestrationInstance(start("f"));
    await file.stop();
    const other = track(createLibsqlBackend({ url }));
    await other.start();
    expect((await other.getOrchestrationMetadata("f"))?.runtimeStatus).toBe("PENDING");
  });

  it("waits out another connection's write lock: reopens the pool, retries, applies once", async () => {
    const url = newUrl();
    const logger = recordingLogger();
    const backend = track(createLibsqlBackend({ url, busyTimeoutMs: 10, logger }));
    await backend.start();
    // Another connection (as another process would) holds the write lock for 60 ms.
    const raw = createClient({ url });
    const tx = await raw.transaction("write");
    const released = new Promise((resolve) => setTimeout(resolve, 60)).then(async () => {
      await tx.commit();
      tx.close();
    });
    try {
      await backend.createOrchestrationInstance(start("busy"));
      await released;
    } finally {
      raw.close();
    }
    expect(logger.lines.some(([level, message]) => level === "warn" && /busy/.test(message))).toBe(
      true,
    );
    // libsql-client-ts#352: without the reopen, every later commit would fail.
    await backend.createOrchestrationInstance(start("after-1"));
    const item = await lockOne(backend);
    await backend.completeOrchestrationWorkItem(item, runningCommit(item));
    const ids = (await backend.listInstanceIds({})).instanceIds;
    expect(ids).toEqual(["after-1", "busy"]);
    expect(await backend.getOrchestrationHistory(item.instanceId)).toHaveLength(2);
  });

  it("reports a lock held for longer than the retries as Unavailable", async () => {
    const url = newUrl();
    const backend = track(createLibsqlBackend({ url, busyTimeoutMs: 5, maxRetries: 1 }));
    await backend.start();
    const raw = createClient({ url });
    const tx = await raw.transaction("write");
    try {
      await expect(backend.createOrchestrationInstance(start("busy"))).rejects.toMatchObject({
        code: "Unavailable",
        message: expect.stringContaining("after 2 attempts"),
        cause: expect.objectContaining({ code: "SQLITE_BUSY" }),
      });
    } finally {
      await tx.rollback();
      tx.close();
      raw.close();
    }
    await backend.createOrchestrationInstance(start("busy"));
    expect((await backend.getOrchestrationMetadata("busy"))?.runtimeStatus).toBe("PENDING");
  });

  it("lets two backends on one file race without handing an instance out twice", async () => {
    const url = newUrl();
    const a = track(createLibsqlBackend({ url, workerName: "a" }));
    const b = track(createLibsqlBackend({ url, workerName: "b" }));
    await a.start();
    await b.start();
    const ids = await createInstances(a, 200);
    const drain = async (backend: typeof a, size: number) => {
      const got: string[] = [];
      while (got.length < 400) {
        const items = await backend.lockOrchestrationWorkItems(size);
        if (items.length === 0) break;
        got.push(...items.map((i) => i.instanceId));
      }
      return got;
    };
    const [gotA, gotB] = await Promise.all([drain(a, 3), drain(b, 5)]);
    expect(gotA.length).toBeGreaterThan(0);
    expect(gotB.length).toBeGreaterThan(0);
    expect([...gotA, ...gotB].sort()).toEqual(ids);
  });
});
