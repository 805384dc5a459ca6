// Random arguments to every public function of the in-process client and of the gRPC client
// (seeded; FUZZ_SEED=<n> replays, FUZZ_LONG=1 makes many more calls): wrong types, undefined,
// NaN, huge numbers, odd strings, invalid dates, aborted signals. Each call must succeed or
// reject with a DurableTaskError that has a code (never Internal) and, for InvalidArgument, a
// message that starts with the field it is about; never a TypeError, a hang or an unhandled
// rejection.
import { DurableTaskError } from "@durabletask/api";
import type { TaskHubClient } from "@durabletask/backend";
import { createSqliteBackend } from "@durabletask/sqlite";
import { createTaskRegistry, type TaskRegistry } from "@durabletask/task";
import { startEngine } from "@durabletask/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSidecarServer,
  createTaskHubGrpcClient,
  createTaskHubGrpcWorker,
  type SidecarServer,
} from "../../src/index.js";
import { Random } from "../server/fuzz-input.js";

const long = process.env.FUZZ_LONG === "1";
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const callsPerFunction = long ? 3000 : 150;
/** A call that has not settled by then counts as a hang. */
const settleMs = 5000;

const unhandled: unknown[] = [];
const trap = (reason: unknown) => unhandled.push(reason);
beforeAll(() => {
  process.on("unhandledRejection", trap);
});
afterAll(() => {
  process.off("unhandledRejection", trap);
});

/** A terminal instance every wait can finish on at once; other ids are missing or junk. */
const doneId = "done-1";

function junk(rnd: Random): unknown {
  return rnd.pick<() => unknown>([
    () => undefined,
    () => null,
    () => Number.NaN,
    () => 0,
    () => -1,
    () => 1.5,
    () => 1e308,
    () => Number.POSITIVE_INFINITY,
    () => 2 ** 53 + 1,
    () => "",
    () => " ",
    () => "x".repeat(rnd.pick([1024, 1025, 100_000])),
    () => "a\u0000b",
    () => "\ud800",
    () => "😀",
    () => "RUNNING",
    () => "COMPLETED",
    () => doneId,
    () => "missing-id",
    () => ({}),
    () => [],
    () => ["COMPLETED", "nope"],
    () => () => 1,
    () => Symbol("s"),
    () => 10n,
    () => new Date(Number.NaN),
    () => new Date(8.64e15),
    () => new Date(-8.64e15),
    () => new Date(),
    () => AbortSignal.abort(),
    () => AbortSignal.abort("a reason that is not an Error"),
    () => true,
    () => Object.create(null),
    () => {
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      return cycle;
    },
    () => ({ action: "terminate", statuses: ["COMPLETED"] }),
    () => ({ action: "ignore", statuses: "COMPLETED" }),
    () => ({ action: "explode" }),
    () => ({ a: "b", c: 1 }),
    () => new Map([["a", "b"]]),
  ])();
}

const optionKeys = [
  "instanceId",
  "input",
  "startAt",
  "reusePolicy",
  "version",
  "tags",
  "fetchPayloads",
  "timeoutMs",
  "signal",
  "output",
  "recursive",
  "statuses",
  "createdFrom",
  "createdTo",
  "completedFrom",
  "completedTo",
  "instanceIdPrefix",
  "pageSize",
  "continuationToken",
  "lastInstanceKey",
];

/** Often an options object with some known keys set to junk; sometimes junk itself. */
function options(rnd: Random, key: string): unknown {
  if (rnd.chance(0.2)) return junk(rnd);
  const out: Record<string, unknown> = {};
  for (const k of optionKeys) {
    if (rnd.chance(0.25)) out[k] = junk(rnd);
  }
  // Waits on an instance that exists and is not done would wait; give them a bounded one.
  if (key.startsWith("waitFor") && rnd.chance(0.5)) out.timeoutMs = rnd.pick([0, 1, 50]);
  if (key === "scheduleNewOrchestration" && reserved.has(out.instanceId as string))
    out.instanceId = "new-1";
  return out;
}

/** Ids that new instances must not take: the waits rely on them being done or missing. */
const reserved = new Set([doneId, "missing-id"]);

function args(rnd: Random, key: string): unknown[] {
  const list = Array.from({ length: rnd.int(0, 4) }, () =>
    rnd.chance(0.4) ? options(rnd, key) : junk(rnd),
  );
  // A wait on an instance that runs (or is scheduled for later) may rightly wait forever: the
  // waits get junk, the done instance or a missing one.
  if (key.startsWith("waitFor") && typeof list[0] === "string" && list[0] !== doneId)
    list[0] = "missing-id";
  return list;
}

function describeArgs(list: unknown[]): string {
  return list
    .map((value) => {
      if (typeof value === "bigint" || typeof value === "symbol" || typeof value === "function")
        return String(value);
      if (value instanceof AbortSignal) return `AbortSignal(aborted=${value.aborted})`;
      try {
        return JSON.stringify(value)?.slice(0, 80) ?? "undefined";
      } catch {
        return "<cyclic>";
      }
    })
    .join(", ");
}

/** Settles `promise` or reports a hang after `settleMs`. */
function settle(promise: unknown): Promise<{ ok: boolean; value: unknown } | "hang"> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("hang"), settleMs);
    Promise.resolve(promise).then(
      (value) => {
        clearTimeout(timer);
        resolve({ ok: true, value });
      },
      (value: unknown) => {
        clearTimeout(timer);
        resolve({ ok: false, value });
      },
    );
  });
}

async function fuzzClient(client: TaskHubClient, label: string): Promise<string[]> {
  const rnd = new Random(seed);
  const problems: string[] = [];
  const functions = Object.entries(client).filter(
    ([key, value]) => typeof value === "function" && key !== "close",
  ) as [string, (...a: unknown[]) => unknown][];
  expect(functions.length).toBeGreaterThanOrEqual(13);
  for (let i = 0; i < callsPerFunction; i++) {
    for (const [key, fn] of functions) {
      const list = args(rnd, key);
      let outcome: Awaited<ReturnType<typeof settle>>;
      try {
        outcome = await settle(fn.apply(client, list));
      } catch (error) {
        problems.push(`${label}.${key}(${describeArgs(list)}) threw synchronously: ${error}`);
        continue;
      }
      if (outcome === "hang") {
        problems.push(`${label}.${key}(${describeArgs(list)}) did not settle in ${settleMs} ms`);
      } else if (!outcome.ok) {
        const error = outcome.value;
        if (!DurableTaskError.is(error)) {
          problems.push(`${label}.${key}(${describeArgs(list)}) rejected with ${String(error)}`);
        } else if (error.code === "Internal") {
          problems.push(`${label}.${key}(${describeArgs(list)}) → Internal: ${error.message}`);
        } else if (error.code === "InvalidArgument" && !/^[\w.[\]]+: /.test(error.message)) {
          problems.push(`${label}.${key}(${describeArgs(list)}) → unnamed field: ${error.message}`);
        }
      }
      if (problems.length >= 15) return problems;
    }
  }
  return problems;
}

/** Registers the orchestrator of the done instance. */
function register(registry: TaskRegistry): void {
  registry.addOrchestrator("Done", () => "done");
}

async function finishDone(client: TaskHubClient): Promise<void> {
  await client.scheduleNewOrchestration("Done", { instanceId: doneId });
  const done = await client.waitForOrchestrationCompletion(doneId, { timeoutMs: 20_000 });
  expect(done.runtimeStatus).toBe("COMPLETED");
}

/**
 * Regressions the fuzzer found: options that are not objects, a signal that is not one, a
 * timeout beyond what a gRPC deadline can express.
 */
async function expectNamedErrors(client: TaskHubClient): Promise<void> {
  const cases: [Promise<unknown>, string][] = [
    [
      client.waitForOrchestrationStart(doneId, null as never),
      "options: must be an object, got null",
    ],
    [
      client.waitForOrchestrationCompletion(doneId, { signal: true as never }),
      "signal: must be an AbortSignal, got boolean",
    ],
    [
      client.waitForOrchestrationCompletion(doneId, { fetchPayloads: "yes" as never }),
      "fetchPayloads: must be a boolean, got string",
    ],
    [client.getOrchestrationState(doneId, null as never), "options: must be an object, got null"],
    [
      client.scheduleNewOrchestration("Done", [] as never),
      "options: must be an object, got an array",
    ],
    [
      client.terminateOrchestration(doneId, "now" as never),
      "options: must be an object, got string",
    ],
    [
      client.purgeOrchestrationState(doneId, { recursive: 1 as never }),
      "recursive: must be a boolean, got the number 1",
    ],
    [client.queryInstances("all" as never), "query: must be an object, got string"],
  ];
  for (const [call, message] of cases) {
    const error = await call.catch((e: unknown) => e);
    expect(DurableTaskError.is(error, "InvalidArgument"), message).toBe(true);
    expect((error as Error).message).toBe(message);
  }
  // A timeout too far away for a gRPC deadline (grpc-js never started such a call) waits
  // without one.
  const far = { timeoutMs: 2 ** 53 };
  expect((await client.waitForOrchestrationCompletion(doneId, far)).runtimeStatus).toBe(
    "COMPLETED",
  );
  const missing = await client
    .waitForOrchestrationStart("missing-id", far)
    .catch((e: unknown) => e);
  expect(DurableTaskError.is(missing, "InstanceNotFound")).toBe(true);
}

describe(`client fuzz (seed ${seed})`, () => {
  let sidecar: SidecarServer | undefined;
  afterAll(async () => {
    await sidecar?.stop();
  });

  it("in-process client: typed errors naming the field, no crash, hang or stray rejection", async () => {
    const engine = await startEngine(async () => createSqliteBackend(), register);
    try {
      await finishDone(engine.client);
      await expectNamedErrors(engine.client);
      const problems = await fuzzClient(engine.client, "client");
      expect(problems, `FUZZ_SEED=${seed} replays`).toEqual([]);
    } finally {
      await engine.stop();
    }
    expect(unhandled).toEqual([]);
  }, 600_000);

  it("gRPC client: the same", async () => {
    sidecar = await createSidecarServer({
      backend: createSqliteBackend(),
      host: "127.0.0.1",
      port: 0,
      drainTimeoutMs: 100,
    });
    const registry = createTaskRegistry();
    register(registry);
    const worker = createTaskHubGrpcWorker({ address: sidecar.address, registry });
    await worker.start();
    const client = createTaskHubGrpcClient({ address: sidecar.address });
    try {
      await finishDone(client);
      await expectNamedErrors(client);
      const problems = await fuzzClient(client, "grpcClient");
      expect(problems, `FUZZ_SEED=${seed} replays`).toEqual([]);
    } finally {
      client.close();
      await worker.stop();
    }
    expect(unhandled).toEqual([]);
  }, 600_000);
});
