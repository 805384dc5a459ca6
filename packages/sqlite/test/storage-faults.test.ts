// Storage faults under a running engine: a read-only database, a full disk (simulated with
// PRAGMA max_page_count on the engine's own connection) and a database locked by another
// connection. Each gives callers a clear `Unavailable` error, loses nothing already committed,
// applies nothing twice, and the engine finishes its work once the fault clears. The task hub
// invariants hold afterwards.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DurableTaskError } from "@durabletask/api";
import type { Backend } from "@durabletask/backend";
import { createSqlBackend, type SqlDriver } from "@durabletask/backend/sql";
import { checkTaskHubFile, type EngineHarness, startEngine } from "@durabletask/testing";
import Database from "better-sqlite3";
import { afterAll, afterEach, expect, it } from "vitest";
import { createSqliteBackend, createSqliteDriver } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "durabletask-faults-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = () => join(dir, `faults-${++files}.sqlite3`);

let engine: EngineHarness | undefined;
let locker: Database.Database | undefined;
afterEach(async () => {
  if (locker?.inTransaction) locker.exec("ROLLBACK");
  locker?.close();
  locker = undefined;
  await engine?.stop();
  engine = undefined;
});

const waitMs = 30_000;
/** Bytes of each activity result: big enough to need new database pages. */
const resultBytes = 100_000;

/** Resolves the activities' results when `open()` is called. */
class Gate {
  #open!: () => void;
  readonly opened = new Promise<void>((resolve) => {
    this.#open = resolve;
  });
  open(): void {
    this.#open();
  }
}

interface Faulty {
  readonly engine: EngineHarness;
  readonly driver: SqlDriver;
  readonly gate: Gate;
  /** Activity executions so far (re-executions after a failed commit included). */
  executions(): number;
}

/**
 * An engine on `path` whose orchestrator `fanout` runs `n` activities that each wait for the
 * gate and return `resultBytes` of text; returns the total length.
 */
async function startFaulty(path: string, busyTimeoutMs = 5000): Promise<Faulty> {
  const driver = createSqliteDriver({ path, synchronous: "FULL", busyTimeoutMs });
  const backend: Backend = createSqlBackend({
    driver,
    orchestrationLockTimeoutMs: 2000,
    activityLockTimeoutMs: 2000,
  });
  const gate = new Gate();
  let executions = 0;
  engine = await startEngine(
    async () => backend,
    (registry) => {
      registry.addActivity("pad", async (_ctx, n: number) => {
        executions++;
        await gate.opened;
        return `${n}`.padEnd(resultBytes, ".");
      });
      registry.addOrchestrator("fanout", async (ctx, n: number) => {
        const parts = await Promise.all(
          Array.from({ length: n }, (_, i) => ctx.callActivity<string>("pad", i)),
        );
        return parts.reduce((sum, part) => sum + part.length, 0);
      });
    },
  );
  return { engine, driver, gate, executions: () => executions };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function pragma(driver: SqlDriver, sql: string): Promise<number> {
  const [result] = await driver.batch([{ sql: `PRAGMA ${sql}`, args: [] }], "read");
  return Number(result?.rows[0]?.[0]);
}

/** Three `fanout` instances of 3 activities each, all activities running (held by the gate). */
async function startBlocked(f: Faulty): Promise<string[]> {
  const ids = ["f1", "f2", "f3"];
  for (const instanceId of ids) {
    await f.engine.client.scheduleNewOrchestration("fanout", { instanceId, input: 3 });
  }
  await until(() => f.executions() >= 9, "nine running activities");
  return ids;
}

/** All instances complete with the right output, each activity result recorded exactly once. */
async function expectAllDone(f: Faulty, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const done = await f.engine.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    expect(done.runtimeStatus, id).toBe("COMPLETED");
    expect(done.serializedOutput, id).toBe(String(3 * resultBytes));
    const history = await f.engine.client.getOrchestrationHistory(id);
    expect(history.filter((e) => e.eventType.case === "taskScheduled")).toHaveLength(3);
    expect(history.filter((e) => e.eventType.case === "taskCompleted")).toHaveLength(3);
  }
}

/** A committed, completed instance to check that faults lose nothing. */
async function baseline(f: Faulty): Promise<void> {
  await f.engine.client.scheduleNewOrchestration("fanout", { instanceId: "base", input: 1 });
  f.gate.open();
  const done = await f.engine.client.waitForOrchestrationCompletion("base", { timeoutMs: waitMs });
  expect(done.serializedOutput).toBe(String(resultBytes));
}

it("a full disk: writes fail with Unavailable, nothing is lost, work completes once there is room", async () => {
  const path = newPath();
  const f = await startFaulty(path);
  const ids = await startBlocked(f);

  // No more pages than the file has now: anything that needs a new page fails with SQLITE_FULL.
  await pragma(f.driver, `max_page_count = ${await pragma(f.driver, "page_count")}`);
  const big = "y".repeat(4 * 1024 * 1024);
  const error = await f.engine.client
    .scheduleNewOrchestration("fanout", { instanceId: "too-much", input: big })
    .catch((e: unknown) => e);
  expect(DurableTaskError.is(error, "Unavailable")).toBe(true);
  expect((error as Error).message).toMatch(
    /^createOrchestrationInstance: the database or disk is full; retry once that is resolved \(SQLITE_FULL/,
  );
  expect(await f.engine.client.getOrchestrationState("too-much")).toBeUndefined();

  // The activities finish, but their results cannot be stored: the workers keep retrying.
  f.gate.open();
  await until(() => f.executions() >= 12, "activities re-run after failed commits");
  for (const id of ids) {
    expect((await f.engine.client.getOrchestrationState(id))?.runtimeStatus).toBe("RUNNING");
  }

  await pragma(f.driver, "max_page_count = 1073741823");
  await expectAllDone(f, ids);
  await f.engine.stop();
  engine = undefined;
  expect(checkTaskHubFile(path)).toEqual([]);
}, 60_000);

it("a locked database: writes fail with Unavailable after the busy timeout, work completes once it is released", async () => {
  const path = newPath();
  const f = await startFaulty(path, 200);
  await baseline(f);
  const ids = ["l1", "l2"];
  for (const instanceId of ids) {
    await f.engine.client.scheduleNewOrchestration("fanout", { instanceId, input: 3 });
  }
  // Another connection takes the write lock before the workers get to these instances.
  locker = new Database(path);
  locker.exec("BEGIN EXCLUSIVE");
  const error = await f.engine.client
    .scheduleNewOrchestration("fanout", { instanceId: "locked-out", input: 3 })
    .catch((e: unknown) => e);
  expect(DurableTaskError.is(error, "Unavailable")).toBe(true);
  expect((error as Error).message).toMatch(
    /^createOrchestrationInstance: the database is locked by another connection \(busy timeout exceeded\); retry once that is resolved \(SQLITE_BUSY/,
  );
  // Committed data stays readable (WAL: readers do not wait for the writer).
  const base = await f.engine.client.getOrchestrationState("base");
  expect(base?.serializedOutput).toBe(String(resultBytes));
  // The workers keep failing to lock work for a while, and survive it.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect((await f.engine.client.getOrchestrationState("l1"))?.runtimeStatus).toBe("PENDING");
  locker.exec("COMMIT");
  locker.close();
  locker = undefined;

  expect(await f.engine.client.getOrchestrationState("locked-out")).toBeUndefined();
  await expectAllDone(f, ids);
  await f.engine.stop();
  engine = undefined;
  expect(checkTaskHubFile(path)).toEqual([]);
}, 60_000);

/**
 * Runs `script` (an ES module body with `backend` bound to a sqlite backend on `path`) in a child
 * process that cannot write `path`: as user `nobody` when this process is root (root writes
 * read-only files anyway).
 */
function runReadOnly(path: string, script: string): { code: string; message: string } {
  const sqlite = new URL("../dist/index.js", import.meta.url).href;
  const body = `
    const { createSqliteBackend } = await import(${JSON.stringify(sqlite)});
    const backend = createSqliteBackend({ path: ${JSON.stringify(path)} });
    try { ${script}; console.log(JSON.stringify({ code: "ok", message: "" })); }
    catch (e) { console.log(JSON.stringify({ code: e.code ?? e.name, message: e.message })); }`;
  const root = process.getuid?.() === 0;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", body], {
    encoding: "utf8",
    timeout: 20_000,
    ...(root ? { uid: 65534, gid: 65534 } : {}),
  });
  const line = child.stdout.trim().split("\n").at(-1) ?? "";
  if (child.status !== 0 || line === "") throw new Error(`child failed: ${child.stderr}`);
  return JSON.parse(line) as { code: string; message: string };
}

it("a read-only database: start() fails with Unavailable naming the fault; nothing is lost", async () => {
  const path = newPath();
  const f = await startFaulty(path);
  await baseline(f);
  await f.engine.stop();
  engine = undefined;

  chmodSync(dir, 0o555);
  chmodSync(path, 0o444);
  try {
    const result = runReadOnly(path, "await backend.start()");
    expect(result.code).toBe("Unavailable");
    expect(result.message).toMatch(
      /^createTaskHub: (the database is read-only \(check the file's and directory's permissions\)|the database file cannot be opened); retry once that is resolved \(SQLITE_(READONLY|CANTOPEN)/,
    );
  } finally {
    chmodSync(dir, 0o755);
    chmodSync(path, 0o644);
  }

  // Writable again: everything committed before is there, and the engine runs.
  const backend = createSqliteBackend({ path });
  await backend.start();
  try {
    const base = await backend.getOrchestrationMetadata("base");
    expect(base?.runtimeStatus).toBe("COMPLETED");
    expect(base?.serializedOutput).toBe(String(resultBytes));
  } finally {
    await backend.stop();
  }
  expect(checkTaskHubFile(path)).toEqual([]);
});
