import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DurableTaskError } from "@durabletask/api";
import type { Backend } from "@durabletask/backend";
import { createSqlBackend, type SqlDriver } from "@durabletask/backend/sql";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type EngineHarness, startEngine } from "./engine-harness.js";
import { checkTaskHubFile } from "./invariants.js";

/** Options of {@link describeStorageFaults}. */
export interface StorageFaultsOptions {
  /**
   * A driver of the database file `path`. The suite runs the backend on it, so that it can set
   * `PRAGMA max_page_count` on the engine's own connection.
   */
  driver(path: string, options: { busyTimeoutMs: number }): SqlDriver;
  /**
   * For the read-only case, run in a child process that cannot write the file: the module to
   * import (a file URL) and the expression, over that module `m` and the file `path`, that
   * creates the backend.
   */
  readonly child: { readonly module: string; readonly backend: string };
  /**
   * Takes the database's write lock from another connection (as another process would) until
   * the returned function is called. It must use the same SQLite library as the backend: POSIX
   * file locks of one process never conflict, so two libraries in one process would not see
   * each other's locks.
   */
  lock(path: string): Promise<() => Promise<void>>;
  /** What the message of a write refused because another connection holds the lock looks like. */
  readonly lockedMessage: RegExp;
}

const waitMs = 30_000;
/** Bytes of each activity result: big enough to need new database pages. */
const resultBytes = 100_000;

/** A backend over `options.driver` on `path`, with short leases. */
function open(
  options: StorageFaultsOptions,
  path: string,
  busyTimeoutMs = 5000,
): { backend: Backend; driver: SqlDriver } {
  const driver = options.driver(path, { busyTimeoutMs });
  const backend = createSqlBackend({
    driver,
    orchestrationLockTimeoutMs: 2000,
    activityLockTimeoutMs: 2000,
  });
  return { backend, driver };
}

/** Lets the activities return when `open()` is called. */
class Gate {
  #open: () => void = () => {};
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

/**
 * Runs a connection-level pragma on every connection a pooling driver may use: as many batches
 * at once as the engine could ever have in flight, so each takes its own connection (a pool
 * opens more when all are busy; a single-connection driver runs them in turn).
 */
async function pragmaOnEveryConnection(driver: SqlDriver, sql: string): Promise<void> {
  await Promise.all(Array.from({ length: 32 }, () => pragma(driver, sql)));
}

/**
 * Registers tests of storage faults under a running engine on a database file: a full disk
 * (simulated with `PRAGMA max_page_count` on the engine's connections), a database locked by
 * another connection beyond the busy timeout, and a read-only database (a child process that
 * cannot write the file: user `nobody` when the tests run as root). Each must give callers a
 * clear `Unavailable` error, lose nothing committed, apply nothing twice, and let the engine
 * finish its work once the fault clears; the task hub invariants ({@link checkTaskHubFile}) must
 * hold afterwards.
 */
export function describeStorageFaults(name: string, options: StorageFaultsOptions): void {
  describe(`${name}: storage faults`, () => {
    const dir = mkdtempSync(join(tmpdir(), "durabletask-faults-"));
    let files = 0;
    let engine: EngineHarness | undefined;
    let unlock: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await unlock?.();
      unlock = undefined;
      await engine?.stop();
      engine = undefined;
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /**
     * An engine on a new file whose orchestrator `fanout` runs `n` activities that each wait for
     * the gate and return `resultBytes` of text; it returns the total length.
     */
    async function startFaulty(busyTimeoutMs = 5000): Promise<Faulty & { path: string }> {
      const path = join(dir, `faults-${++files}.db`);
      const { backend, driver } = open(options, path, busyTimeoutMs);
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
      return { path, engine, driver, gate, executions: () => executions };
    }

    async function schedule(f: Faulty, ids: readonly string[]): Promise<void> {
      for (const instanceId of ids) {
        await f.engine.client.scheduleNewOrchestration("fanout", { instanceId, input: 3 });
      }
    }

    /** Every instance completes with the right output, each activity result recorded once. */
    async function expectAllDone(f: Faulty, ids: readonly string[]): Promise<void> {
      for (const id of ids) {
        const done = await f.engine.client.waitForOrchestrationCompletion(id, {
          timeoutMs: waitMs,
        });
        expect(done.runtimeStatus, id).toBe("COMPLETED");
        expect(done.serializedOutput, id).toBe(String(3 * resultBytes));
        const history = await f.engine.client.getOrchestrationHistory(id);
        expect(history.filter((e) => e.eventType.case === "taskScheduled")).toHaveLength(3);
        expect(history.filter((e) => e.eventType.case === "taskCompleted")).toHaveLength(3);
      }
    }

    /** Stops the engine and checks the database it leaves. */
    async function stopAndCheck(f: { path: string; engine: EngineHarness }): Promise<void> {
      await f.engine.stop();
      engine = undefined;
      expect(checkTaskHubFile(f.path)).toEqual([]);
    }

    /** A completed instance, to check that faults lose nothing committed. */
    async function baseline(f: Faulty): Promise<void> {
      await f.engine.client.scheduleNewOrchestration("fanout", { instanceId: "base", input: 1 });
      f.gate.open();
      const done = await f.engine.client.waitForOrchestrationCompletion("base", {
        timeoutMs: waitMs,
      });
      expect(done.serializedOutput).toBe(String(resultBytes));
    }

    it("a full disk: writes fail with Unavailable, nothing is lost, work completes once there is room", async () => {
      const f = await startFaulty();
      const ids = ["f1", "f2", "f3"];
      await schedule(f, ids);
      await until(() => f.executions() >= 9, "nine running activities");

      // No more pages than the file has: anything that needs a new page fails (SQLITE_FULL).
      const pages = await pragma(f.driver, "page_count");
      await pragmaOnEveryConnection(f.driver, `max_page_count = ${pages}`);
      const error = await f.engine.client
        .scheduleNewOrchestration("fanout", {
          instanceId: "too-much",
          input: "y".repeat(4 * 1024 * 1024),
        })
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
        const state = await f.engine.client.getOrchestrationState(id);
        expect(state?.runtimeStatus).toBe("RUNNING");
      }

      await pragmaOnEveryConnection(f.driver, "max_page_count = 1073741823");
      await expectAllDone(f, ids);
      await stopAndCheck(f);
    }, 60_000);

    it("a locked database: writes fail with Unavailable after the busy timeout, work completes once it is released", async () => {
      const f = await startFaulty(200);
      await baseline(f);
      const ids = ["l1", "l2"];
      await schedule(f, ids);
      // Another connection takes the write lock before the workers get to these instances.
      unlock = await options.lock(f.path);
      const error = await f.engine.client
        .scheduleNewOrchestration("fanout", { instanceId: "locked-out", input: 3 })
        .catch((e: unknown) => e);
      expect(DurableTaskError.is(error, "Unavailable"), String(error)).toBe(true);
      expect((error as Error).message).toMatch(options.lockedMessage);
      // Committed data stays readable (WAL: readers do not wait for the writer).
      const base = await f.engine.client.getOrchestrationState("base");
      expect(base?.serializedOutput).toBe(String(resultBytes));
      // The workers keep failing to commit work for a while, and survive it. (A quiet
      // process may have committed an instance's first episode with its create.)
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const stuck = (await f.engine.client.getOrchestrationState("l1"))?.runtimeStatus;
      expect(["PENDING", "RUNNING"]).toContain(stuck);
      await unlock();
      unlock = undefined;

      expect(await f.engine.client.getOrchestrationState("locked-out")).toBeUndefined();
      await expectAllDone(f, ids);
      await stopAndCheck(f);
    }, 60_000);

    it("a read-only database: start() fails with Unavailable naming the fault; nothing is lost", async () => {
      const f = await startFaulty();
      await baseline(f);
      await f.engine.stop();
      engine = undefined;

      chmodSync(dir, 0o555);
      chmodSync(f.path, 0o444);
      try {
        const result = startReadOnly(f.path, options.child);
        expect(result.code).toBe("Unavailable");
        expect(result.message).toMatch(
          /^createTaskHub: (the database is read-only \(check the file's and directory's permissions\)|the database file cannot be opened); retry once that is resolved \(SQLITE_(READONLY|CANTOPEN)/,
        );
      } finally {
        chmodSync(dir, 0o755);
        chmodSync(f.path, 0o644);
      }

      // Writable again: everything committed before is there, and the engine runs.
      const { backend } = open(options, f.path);
      await backend.start();
      try {
        const base = await backend.getOrchestrationMetadata("base");
        expect(base?.runtimeStatus).toBe("COMPLETED");
        expect(base?.serializedOutput).toBe(String(resultBytes));
      } finally {
        await backend.stop();
      }
      expect(checkTaskHubFile(f.path)).toEqual([]);
    });
  });
}

/**
 * Starts a backend on `path` in a child process that cannot write it (as user `nobody` when this
 * process is root, which writes read-only files anyway); returns how `start()` ended.
 */
function startReadOnly(
  path: string,
  child: StorageFaultsOptions["child"],
): { code: string; message: string } {
  const body = `
    const m = await import(${JSON.stringify(child.module)});
    const path = ${JSON.stringify(path)};
    const backend = ${child.backend};
    try { await backend.start(); console.log(JSON.stringify({ code: "ok", message: "" })); }
    catch (e) { console.log(JSON.stringify({ code: e.code ?? e.name, message: e.message })); }`;
  const root = process.getuid?.() === 0;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", body], {
    encoding: "utf8",
    timeout: 20_000,
    ...(root ? { uid: 65534, gid: 65534 } : {}),
  });
  const line = result.stdout.trim().split("\n").at(-1) ?? "";
  if (result.status !== 0 || line === "") throw new Error(`child failed: ${result.stderr}`);
  return JSON.parse(line) as { code: string; message: string };
}
