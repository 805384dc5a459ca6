import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  executionStartedEvent,
  orchestratorStartedEvent,
  taskCompletedEvent,
  taskScheduledEvent,
} from "@durabletask/api";
import type { Backend } from "@durabletask/backend";
import { createSqlBackend, type SqlDriver } from "@durabletask/backend/sql";
import Database from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createSqliteBackend, createSqliteDriver } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "durabletask-sqlite-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = () => join(dir, `unit-${++files}.sqlite3`);
const open: Backend[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.stop()));
});

function track(backend: Backend): Backend {
  open.push(backend);
  return backend;
}

const start = (instanceId: string) =>
  executionStartedEvent({ name: "Unit", instanceId, executionId: `${instanceId}-1` }, Date.now());

describe("createSqliteBackend", () => {
  it("rejects bad options with InvalidArgument naming the field", () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ path: "" }, "path"],
      [{ path: 3 }, "path"],
      [{ synchronous: "OFF" }, "synchronous"],
      [{ busyTimeoutMs: -1 }, "busyTimeoutMs"],
      [{ busyTimeoutMs: 1.5 }, "busyTimeoutMs"],
      [{ pageCacheKiB: -1 }, "pageCacheKiB"],
      [{ pageCacheKiB: "8MB" }, "pageCacheKiB"],
      [{ pageCacheKiB: 2 ** 21 }, "pageCacheKiB"],
      [{ walAutocheckpointPages: -1 }, "walAutocheckpointPages"],
      [{ walAutocheckpointPages: 1.5 }, "walAutocheckpointPages"],
      [{ walAutocheckpointPages: 2 ** 21 }, "walAutocheckpointPages"],
      [{ orchestrationLockTimeoutMs: 0 }, "orchestrationLockTimeoutMs"],
      [{ activityLockTimeoutMs: Number.NaN }, "activityLockTimeoutMs"],
      [{ workerName: "" }, "workerName"],
      [{ logger: { info: () => {} } }, "logger"],
    ];
    for (const [options, field] of bad) {
      expect(() => createSqliteBackend(options), field).toThrow(
        expect.objectContaining({
          code: "InvalidArgument",
          message: expect.stringContaining(field),
        }),
      );
    }
  });

  it("describes itself by its path", () => {
    expect(createSqliteBackend().description).toBe("sqlite::memory:");
    const path = newPath();
    expect(createSqliteBackend({ path }).description).toBe(`sqlite:${path}`);
  });

  it("opens files in WAL mode with the requested synchronous level", async () => {
    const path = newPath();
    const backend = track(createSqliteBackend({ path, synchronous: "NORMAL" }));
    await backend.start();
    const raw = new Database(path);
    try {
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
      const tables = raw
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .pluck()
        .all();
      expect(tables).toEqual(
        expect.arrayContaining(["ActivityTasks", "History", "Inbox", "Instances", "Meta"]),
      );
      expect(raw.prepare("SELECT Value FROM Meta WHERE Key = 'SchemaVersion'").pluck().get()).toBe(
        "1",
      );
    } finally {
      raw.close();
    }
  });

  it("keeps an in-memory database until stop() and a file across restarts", async () => {
    const memory = track(createSqliteBackend());
    await memory.start();
    await memory.createOrchestrationInstance(start("m"));
    expect(await memory.getOrchestrationMetadata("m")).toBeDefined();
    await memory.stop();
    await memory.start();
    expect(await memory.getOrchestrationMetadata("m")).toBeUndefined();

    const path = newPath();
    const file = track(createSqliteBackend({ path }));
    await file.start();
    await file.createOrchestrationInstance(start("f"));
    await file.stop();
    await file.start();
    expect((await file.getOrchestrationMetadata("f"))?.runtimeStatus).toBe("PENDING");
    const other = track(createSqliteBackend({ path }));
    await other.start();
    expect((await other.getOrchestrationMetadata("f"))?.runtimeStatus).toBe("PENDING");
  });

  it("reports a database locked by another connection as Unavailable", async () => {
    const path = newPath();
    const backend = track(createSqliteBackend({ path, busyTimeoutMs: 20 }));
    await backend.start();
    const raw = new Database(path);
    try {
      raw.exec("BEGIN IMMEDIATE");
      await expect(backend.createOrchestrationInstance(start("busy"))).rejects.toMatchObject({
        code: "Unavailable",
        cause: expect.objectContaining({ code: "SQLITE_BUSY" }),
      });
      raw.exec("COMMIT");
    } finally {
      raw.close();
    }
    await backend.createOrchestrationInstance(start("busy"));
    expect((await backend.getOrchestrationMetadata("busy"))?.runtimeStatus).toBe("PENDING");
  });
});

describe("createSqliteDriver", () => {
  it("sizes SQLite's page cache: 2 MiB unless told otherwise", async () => {
    const cacheKiB = async (pageCacheKiB?: number) => {
      const driver = createSqliteDriver({
        path: newPath(),
        synchronous: "FULL",
        busyTimeoutMs: 100,
        pageCacheKiB,
      });
      try {
        const [result] = await driver.batch([{ sql: "PRAGMA cache_size", args: [] }], "read");
        return -Number(result?.rows[0]?.[0]);
      } finally {
        await driver.close();
      }
    };
    expect(await cacheKiB()).toBe(2048);
    expect(await cacheKiB(512)).toBe(512);
  });

  it("checkpoints the WAL at 4,000 pages (NORMAL) or 1,000 (FULL) unless told otherwise; the WAL stays near that size", async () => {
    const walFile = async (
      walAutocheckpointPages?: number,
      synchronous: "NORMAL" | "FULL" = "NORMAL",
    ) => {
      const path = newPath();
      const driver = createSqliteDriver({
        path,
        synchronous,
        busyTimeoutMs: 100,
        walAutocheckpointPages,
      });
      try {
        const [setting] = await driver.batch(
          [{ sql: "PRAGMA wal_autocheckpoint", args: [] }],
          "read",
        );
        await driver.batch([{ sql: "CREATE TABLE T (V BLOB)", args: [] }], "write");
        // 400 commits of one ~4 KiB row each: at least 400 WAL pages.
        for (let i = 0; i < 400; i++) {
          await driver.batch(
            [{ sql: "INSERT INTO T VALUES (randomblob(4000))", args: [] }],
            "write",
          );
        }
        return { pages: Number(setting?.rows[0]?.[0]), walBytes: statSync(`${path}-wal`).size };
      } finally {
        await driver.close();
      }
    };
    expect((await walFile()).pages).toBe(4000);
    expect((await walFile(undefined, "FULL")).pages).toBe(1000);
    const small = await walFile(50);
    expect(small.pages).toBe(50);
    // Each commit writes about two pages; checkpoints every 50 keep the file near 50 pages.
    expect(small.walBytes).toBeLessThan(80 * 4120);
    const off = await walFile(0);
    expect(off.walBytes).toBeGreaterThan(400 * 4096);
  });
});

describe("the SQL backend over the sqlite driver", () => {
  it("runs every operation as exactly one batch", async () => {
    const driver = createSqliteDriver({
      path: ":memory:",
      synchronous: "FULL",
      busyTimeoutMs: 100,
    });
    const modes: string[] = [];
    const counting: SqlDriver = {
      description: driver.description,
      batch: (statements, mode) => {
        modes.push(mode);
        return driver.batch(statements, mode);
      },
      close: () => driver.close(),
    };
    const backend = track(createSqlBackend({ driver: counting }));
    const once = async <T>(call: () => Promise<T>, mode: string): Promise<T> => {
      const before = modes.length;
      const result = await call();
      expect(modes.slice(before)).toEqual([mode]);
      return result;
    };
    await once(() => backend.start(), "write");
    await once(() => backend.createOrchestrationInstance(start("one")), "write");
    const [item] = await once(() => backend.lockOrchestrationWorkItems(5), "write");
    if (item === undefined) throw new Error("no work item");
    await once(() => backend.renewOrchestrationWorkItemLock(item), "write");
    const scheduled = taskScheduledEvent(0, Date.now(), "A");
    const commit = {
      resetHistory: false,
      appendHistory: [orchestratorStartedEvent(Date.now()), ...item.newEvents, scheduled],
      instance: {
        runtimeStatus: "RUNNING" as const,
        executionId: "one-1",
        name: "Unit",
        createdAtMs: Date.now(),
        lastUpdatedAtMs: Date.now(),
      },
      activities: [scheduled],
      timers: [],
      messages: [],
      subOrchestrations: [],
      cancelPendingWork: false,
    };
    await once(() => backend.completeOrchestrationWorkItem(item, commit), "write");
    const [task] = await once(() => backend.lockActivityWorkItems(5), "write");
    if (task === undefined) throw new Error("no activity work item");
    await once(() => backend.renewActivityWorkItemLock(task), "write");
    await once(
      () => backend.completeActivityWorkItem(task, taskCompletedEvent(Date.now(), 0)),
      "write",
    );
    await once(() => backend.getOrchestrationMetadata("one"), "read");
    await once(() => backend.getOrchestrationHistory("one"), "read");
    await once(() => backend.queryInstances({}), "read");
    await once(() => backend.listInstanceIds({}), "read");
    await once(() => backend.purgeInstances({}), "write");
    await expect(once(() => backend.purgeOrchestrationState("one"), "write")).rejects.toMatchObject(
      {
        code: "NotCompleted",
      },
    );
    expect(modes.length).toBe(14);
  });
});
