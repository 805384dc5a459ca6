import { DurableTaskError } from "@durabletask/api";
import { describe, expect, it } from "vitest";
import type { SqlDriver, SqlResult, SqlStatement } from "./driver.js";
import { createSqlBackend } from "./sql-backend.js";

/** A driver that fails every batch with `error` once started (the schema batch succeeds). */
function failingDriver(error: unknown): SqlDriver & { batches: SqlStatement[][] } {
  const batches: SqlStatement[][] = [];
  return {
    description: "fake::",
    batches,
    async batch(statements) {
      batches.push([...statements]);
      if (batches.length === 1) {
        return statements.map(
          (_, i): SqlResult => ({ rows: i === statements.length - 1 ? [["1"]] : [], changes: 0 }),
        );
      }
      throw error;
    },
    async close() {},
  };
}

describe("createSqlBackend", () => {
  it("rejects bad options with InvalidArgument naming the field", () => {
    const driver = failingDriver(new Error("unused"));
    const bad: [Record<string, unknown>, string][] = [
      [{}, "driver"],
      [{ driver: {} }, "driver"],
      [{ driver, orchestrationLockTimeoutMs: -1 }, "orchestrationLockTimeoutMs"],
      [{ driver, activityLockTimeoutMs: Number.POSITIVE_INFINITY }, "activityLockTimeoutMs"],
      [{ driver, workerName: "bad\nname" }, "workerName"],
      [{ driver, now: 5 }, "now"],
      [{ driver, logger: "loud" }, "logger"],
    ];
    for (const [options, field] of bad) {
      expect(() => createSqlBackend(options as never), field).toThrow(
        expect.objectContaining({
          code: "InvalidArgument",
          message: expect.stringContaining(field),
        }),
      );
    }
  });

  it("maps busy, locked, read-only, full and I/O faults to Unavailable, others to Internal", async () => {
    const cases: [unknown, string][] = [
      [Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" }), "Unavailable"],
      [
        Object.assign(new Error("table locked"), { code: "SQLITE_LOCKED_SHAREDCACHE" }),
        "Unavailable",
      ],
      [Object.assign(new Error("readonly"), { code: "SQLITE_READONLY" }), "Unavailable"],
      [Object.assign(new Error("full"), { code: "SQLITE_FULL" }), "Unavailable"],
      [Object.assign(new Error("io"), { code: "SQLITE_IOERR_WRITE" }), "Unavailable"],
      [
        Object.assign(new Error("remote"), {
          code: "SQLITE_ERROR",
          extendedCode: "TRANSACTION_TIMEOUT",
        }),
        "Unavailable",
      ],
      [Object.assign(new Error("syntax"), { code: "SQLITE_ERROR" }), "Internal"],
      [new DurableTaskError("InstanceNotFound", "passes through"), "InstanceNotFound"],
    ];
    for (const [error, code] of cases) {
      const backend = createSqlBackend({ driver: failingDriver(error) });
      await backend.start();
      const failure = await backend.queryInstances({}).catch((e: unknown) => e);
      expect(failure, code).toMatchObject({ code });
      if (code !== "InstanceNotFound") expect((failure as Error).cause).toBe(error);
    }
  });

  it("uses one batch per operation and a fresh lock token per lock call", async () => {
    const driver = failingDriver(new Error("no rows"));
    const backend = createSqlBackend({ driver, workerName: "w1" });
    await backend.start();
    await backend.lockOrchestrationWorkItems(1).catch(() => {});
    await backend.lockOrchestrationWorkItems(1).catch(() => {});
    const tokens = driver.batches.slice(1).map((b) => b[0]?.args[0]);
    expect(driver.batches).toHaveLength(3);
    expect(tokens[0]).toMatch(/^w1:/);
    expect(tokens[1]).toMatch(/^w1:/);
    expect(tokens[0]).not.toBe(tokens[1]);
  });

  it("refuses work before start() and after stop(), and a newer schema", async () => {
    const backend = createSqlBackend({ driver: failingDriver(new Error("x")) });
    await expect(backend.lockActivityWorkItems(1)).rejects.toMatchObject({
      code: "NotInitialized",
    });
    await backend.start();
    await backend.stop();
    await expect(backend.lockActivityWorkItems(1)).rejects.toMatchObject({
      code: "NotInitialized",
    });
    const newer: SqlDriver = {
      description: "newer::",
      batch: async (statements) =>
        statements.map((_, i) => ({
          rows: i === statements.length - 1 ? [["2"]] : [],
          changes: 0,
        })),
      close: async () => {},
    };
    await expect(createSqlBackend({ driver: newer }).start()).rejects.toMatchObject({
      code: "Unimplemented",
    });
  });
});
