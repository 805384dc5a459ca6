import {
  eventRaisedEvent,
  executionCompletedEvent,
  taskCompletedEvent,
  taskScheduledEvent,
  toWireStatus,
} from "@durabletask/api";
import type { Backend } from "@durabletask/backend";
import { createSqlBackend, type SqlDriver } from "@durabletask/backend/sql";
import type { ActivityContext, OrchestrationContext } from "@durabletask/task";
import { startEngine } from "@durabletask/testing";
import { describe, expect, it } from "vitest";
import { createLibsqlDriver } from "../src/index.js";
import { lockOne, runningCommit, start, trackBackends } from "./fixtures.js";
import { type HranaServer, hranaServers, type Transport, urlOf } from "./hrana-servers.js";

const startServer = hranaServers();
const track = trackBackends();

/** A backend over `server` whose driver counts its batches (each must be one request). */
function countingBackend(server: HranaServer, transport: Transport) {
  const driver = createLibsqlDriver({ url: urlOf(server, transport) });
  const counts = { batches: 0 };
  const counting: SqlDriver = {
    description: driver.description,
    batch: (statements, mode) => {
      counts.batches++;
      return driver.batch(statements, mode);
    },
    close: () => driver.close(),
  };
  const backend = track(createSqlBackend({ driver: counting, workerName: "rt" }));
  return { backend, counts };
}

/**
 * `backend` recording every operation called on it, in call order, with `(empty)` for lock calls
 * that found nothing; `settled` waits until no operation is in flight.
 */
function recordingBackend(backend: Backend) {
  const operations: string[] = [];
  const pending = new Set<Promise<unknown>>();
  const recorded = new Proxy(backend, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== "function" || property === "subscribe") {
        return typeof value === "function" ? value.bind(target) : value;
      }
      return (...args: unknown[]) => {
        const index = operations.push(String(property)) - 1;
        const result = Promise.resolve(value.apply(target, args));
        pending.add(result);
        result
          .then((items) => {
            if (String(property).startsWith("lock") && Array.isArray(items) && items.length === 0) {
              operations[index] += " (empty)";
            }
          })
          .catch(() => undefined)
          .finally(() => pending.delete(result));
        return result;
      };
    },
  });
  const settled = async () => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };
  return { recorded, operations, settled };
}

function tally(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[item] = (out[item] ?? 0) + 1;
  return out;
}

/** Runs `call`, expecting it to cost exactly one batch and `requests` server requests. */
async function measure<T>(server: HranaServer, call: () => Promise<T>): Promise<[T, number]> {
  server.stats.reset();
  const result = await call();
  return [result, server.stats.httpRequests + server.stats.wsMessages];
}

async function everyOperation(
  backend: Backend,
  server: HranaServer,
  timed: (operation: string, ms: number) => void = () => {},
) {
  const costs: Record<string, number> = {};
  const cost = async <T>(name: string, call: () => Promise<T>): Promise<T> => {
    const startedAt = performance.now();
    const [result, requests] = await measure(server, call);
    timed(name, performance.now() - startedAt);
    expect(server.stats.batches, name).toBe(1);
    costs[name] = requests;
    return result;
  };
  const noThrow = async (call: () => Promise<unknown>) => {
    await call().catch(() => undefined);
  };
  await cost("start", () => backend.start());
  await cost("createOrchestrationInstance", () => backend.createOrchestrationInstance(start("a")));
  await cost("addNewOrchestrationEvent", () =>
    backend.addNewOrchestrationEvent("a", eventRaisedEvent(Date.now(), "E")),
  );
  const first = await cost("lockOrchestrationWorkItems", () => lockOne(backend));
  await cost("renewOrchestrationWorkItemLock", () => backend.renewOrchestrationWorkItemLock(first));
  await cost("abandonOrchestrationWorkItem", () => backend.abandonOrchestrationWorkItem(first, 0));
  const item = await lockOne(backend);
  const scheduled = taskScheduledEvent(0, Date.now(), "A");
  const base = runningCommit(item);
  const commit = {
    ...base,
    appendHistory: [...base.appendHistory, scheduled],
    activities: [scheduled],
  };
  await cost("completeOrchestrationWorkItem", () =>
    backend.completeOrchestrationWorkItem(item, commit),
  );
  const [task] = await cost("lockActivityWorkItems", () => backend.lockActivityWorkItems(5));
  if (task === undefined) throw new Error("no activity work item");
  await cost("renewActivityWorkItemLock", () => backend.renewActivityWorkItemLock(task));
  await cost("abandonActivityWorkItem", () => backend.abandonActivityWorkItem(task, 0));
  const [again] = await backend.lockActivityWorkItems(5);
  if (again === undefined) throw new Error("no activity work item");
  await cost("completeActivityWorkItem", () =>
    backend.completeActivityWorkItem(again, taskCompletedEvent(Date.now(), 0)),
  );
  await cost("getOrchestrationMetadata", () => backend.getOrchestrationMetadata("a"));
  await cost("getOrchestrationHistory", () => backend.getOrchestrationHistory("a"));
  await cost("queryInstances", () => backend.queryInstances({}));
  await cost("listInstanceIds", () => backend.listInstanceIds({}));
  await cost("purgeOrchestrationState (refused)", () =>
    noThrow(() => backend.purgeOrchestrationState("a")),
  );
  const done = await lockOne(backend);
  const running = runningCommit(done);
  const completed = executionCompletedEvent(1, Date.now(), toWireStatus("COMPLETED"));
  const finish = {
    ...running,
    appendHistory: [...running.appendHistory, completed],
    instance: {
      ...running.instance,
      runtimeStatus: "COMPLETED" as const,
      completedAtMs: Date.now(),
    },
  };
  await backend.completeOrchestrationWorkItem(done, finish);
  await cost("purgeOrchestrationState", () => backend.purgeOrchestrationState("a"));
  await cost("purgeInstances", () => backend.purgeInstances({}));
  await cost("deleteTaskHub", () => backend.deleteTaskHub());
  return costs;
}

describe("round trips to a libSQL server", () => {
  it("costs one HTTP request per backend operation", async () => {
    const server = await startServer();
    const { backend } = countingBackend(server, "http");
    const costs = await everyOperation(backend, server);
    console.log("HTTP requests per operation:", costs);
    expect(Object.keys(costs)).toHaveLength(19);
    for (const [operation, requests] of Object.entries(costs)) {
      expect(requests, operation).toBe(1);
    }
  });

  it("costs one round trip per backend operation over WebSocket", async () => {
    const server = await startServer();
    const latencyMs = 50;
    server.setLatencyMs(latencyMs);
    const { backend } = countingBackend(server, "ws");
    const elapsed: Record<string, number> = {};
    const costs = await everyOperation(backend, server, (name, ms) => {
      elapsed[name] = Math.round(ms);
    });
    console.log("WebSocket messages per operation:", costs);
    console.log(`milliseconds per operation with ${latencyMs} ms latency:`, elapsed);
    // open_stream, store_sql for new SQL texts, batch, close_stream: sent without waiting for
    // answers, so one round trip (the server delays each answer by latencyMs, concurrently).
    for (const [operation, ms] of Object.entries(elapsed)) {
      if (operation !== "start") expect(ms, operation).toBeLessThan(2 * latencyMs);
    }
  });

  it("runs a three-activity orchestration in a bounded number of HTTP requests", async () => {
    const server = await startServer();
    const { backend: inner, counts } = countingBackend(server, "http");
    const { recorded: backend, operations, settled } = recordingBackend(inner);
    const engine = await startEngine(
      () => backend,
      (r) =>
        r
          .addOrchestrator("ThreeSteps", async (ctx: OrchestrationContext, input: string) => {
            const a = await ctx.callActivity<string>("Step", input);
            const b = await ctx.callActivity<string>("Step", a);
            return ctx.callActivity<string>("Step", b);
          })
          .addActivity("Step", async (_ctx: ActivityContext, value: string) => `${value}+`),
      { backend },
    );
    try {
      const runs: {
        requests: number;
        operations: Record<string, number>;
        elapsedMs: number;
      }[] = [];
      for (let i = 0; i < 5; i++) {
        // Let the idle pollers back off, so that the count is the orchestration's own.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await settled();
        server.stats.reset();
        const [operationsBefore, batchesBefore] = [operations.length, counts.batches];
        const startedAt = performance.now();
        const id = await engine.client.scheduleNewOrchestration("ThreeSteps", { input: "x" });
        const m = await engine.client.waitForOrchestrationCompletion(id, { timeoutMs: 10_000 });
        const elapsedMs = performance.now() - startedAt;
        expect(m.serializedOutput).toBe('"x+++"');
        // The client may see the result before the worker has its commit's answer: count what
        // was called until then, and once nothing is in flight, check one request per batch.
        const [requests, operationsAfter] = [server.stats.httpRequests, operations.length];
        await settled();
        runs.push({
          requests,
          operations: tally(operations.slice(operationsBefore, operationsAfter)),
          elapsedMs,
        });
        expect(server.stats.httpRequests).toBe(counts.batches - batchesBefore);
      }
      console.log(
        "HTTP requests per 3-activity orchestration:",
        runs.map((r) => r.requests),
      );
      console.log(
        "backend operations per orchestration:",
        runs.map((r) => r.operations),
      );
      for (const { requests, operations: called, elapsedMs } of runs) {
        // The work itself, exactly: 1 create, the first episode (lock + commit), 3 activities
        // (lock, then the result committed with the episode it starts).
        expect(called).toMatchObject({
          createOrchestrationInstance: 1,
          lockOrchestrationWorkItems: 1,
          completeOrchestrationWorkItem: 1,
          lockActivityWorkItems: 3,
          completeActivityWithEpisode: 3,
        });
        expect(called.completeActivityWorkItem).toBeUndefined();
        // Besides: the client's status reads (when it starts waiting, and when an episode
        // leaves a status it waits for: episodes that leave the instance RUNNING are announced
        // with their status and not read) and the dispatchers' looks for more work (empty
        // locks, timing-dependent). Every operation costs at most one request; writes issued
        // together share one (group commit).
        expect(called.getOrchestrationMetadata).toBe(2);
        const total = Object.values(called).reduce((sum, n) => sum + n, 0);
        const empty =
          (called["lockOrchestrationWorkItems (empty)"] ?? 0) +
          (called["lockActivityWorkItems (empty)"] ?? 0);
        expect(total - empty).toBe(11);
        expect(empty).toBeLessThanOrEqual(8);
        expect(requests).toBeLessThanOrEqual(total);
        // The create, the first commit and 2 reads: one request each; each result with its
        // episode: one write (the episode starts from the history the last commit left in
        // memory, without a read). The create and each commit leased the next step for this
        // process's idle worker, so the 4 locks cost none, except that each of the two
        // dispatchers, while handed work, still looks at storage once per 50 ms (for work of
        // other processes).
        expect(requests).toBeLessThanOrEqual(7 + empty + 2 * Math.ceil(elapsedMs / 50));
      }
    } finally {
      await engine.stop();
    }
  });
});
