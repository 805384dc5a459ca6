// The orchestrations, activities and client-side scenarios, written once against the API the
// two SDKs share. `sdk` (built by microsoft.mjs or dapr.mjs) covers where they differ and says
// which features the SDK has; scenarios an SDK cannot express are skipped by the test.
import { emit, nextLine, options, runScenarios, sleep, until } from "./common.mjs";

const waitSeconds = 60;

const json = (text) =>
  text === null || text === undefined || text === "" ? null : JSON.parse(text);

/** Per-process activity attempt counters (retries, restart). */
const attempts = new Map();

function count(key) {
  const n = (attempts.get(key) ?? 0) + 1;
  attempts.set(key, n);
  return n;
}

/** Registers every orchestration and activity on `worker`. `slow` decides what "Slow" does. */
export function register(worker, sdk, { slow = "complete" } = {}) {
  const activity = (name, fn) =>
    worker.addNamedActivity(name, (ctx, input) => {
      count(`activity:${name}`);
      return fn(ctx, input);
    });
  const orchestrator = (name, fn) => worker.addNamedOrchestrator(name, fn);

  activity("Hello", (_ctx, name) => `Hello, ${name}!`);
  activity("Square", (_ctx, n) => n * n);
  activity("Double", (_ctx, n) => n * 2);
  activity("Echo", (_ctx, value) => value);
  activity("Fail", (_ctx, input) => {
    throw new Error(`boom: ${input}`);
  });
  activity("Flaky", (_ctx, input) => {
    const n = count(`flaky:${input.key}`);
    if (n < input.succeedOn) throw new Error(`flaky attempt ${n}`);
    return `ok after ${n}`;
  });
  activity("Step", (_ctx, input) => {
    count(`step:${input}`);
    return `step-${input}`;
  });
  activity("Slow", async (_ctx, input) => {
    count(`slow:${input}`);
    if (slow === "hang") {
      emit({ event: "slow-started", input });
      await new Promise(() => {});
    }
    return "slow-done";
  });

  orchestrator("Sequence", async function* (ctx, input) {
    const out = [];
    for (const city of input.cities) out.push(yield ctx.callActivity("Hello", city));
    return out;
  });
  orchestrator("FanOut", async function* (ctx, input) {
    const tasks = [];
    for (let i = 1; i <= input.count; i++) tasks.push(ctx.callActivity("Square", i));
    const results = yield sdk.whenAll(tasks);
    return { count: results.length, sum: results.reduce((a, b) => a + b, 0) };
  });
  orchestrator("Parent", async function* (ctx, input) {
    const child = yield sdk.callSubOrchestrator(ctx, "Child", input.n, input.childId);
    return { child, parent: ctx.instanceId };
  });
  orchestrator("Child", async function* (ctx, n) {
    const doubled = yield ctx.callActivity("Double", n);
    return doubled + 1;
  });
  orchestrator("Timer", async function* (ctx, input) {
    const before = ctx.currentUtcDateTime.getTime();
    yield ctx.createTimer(input.seconds);
    return { elapsedMs: ctx.currentUtcDateTime.getTime() - before };
  });
  orchestrator("Approval", async function* (ctx, input) {
    if (input.delaySeconds > 0) yield ctx.createTimer(input.delaySeconds);
    ctx.setCustomStatus(sdk.customStatus({ waiting: true }));
    const event = ctx.waitForExternalEvent("approval");
    const timeout = ctx.createTimer(input.timeoutSeconds);
    const winner = yield sdk.whenAny([event, timeout]);
    return winner === event ? { approved: event.getResult() } : { timedOut: true };
  });
  orchestrator("LongParent", async function* (ctx, input) {
    return yield sdk.callSubOrchestrator(ctx, "LongChild", "child", input.childId);
  });
  orchestrator("LongChild", async function* (ctx) {
    ctx.setCustomStatus(sdk.customStatus({ waiting: true }));
    yield ctx.waitForExternalEvent("never");
    return "unreachable";
  });
  orchestrator("WaitGo", async function* (ctx) {
    ctx.setCustomStatus(sdk.customStatus({ waiting: true }));
    const value = yield ctx.waitForExternalEvent("go");
    return { got: value };
  });
  orchestrator("Counter", async function* (ctx, input) {
    const squared = yield ctx.callActivity("Square", input.n);
    const total = input.total + squared;
    if (input.n < input.until) {
      ctx.continueAsNew({ ...input, n: input.n + 1, total }, false);
      return;
    }
    return { n: input.n, total };
  });
  orchestrator("FailingOrch", async function* (ctx) {
    return yield ctx.callActivity("Fail", "x");
  });
  orchestrator("CatchingOrch", async function* (ctx) {
    try {
      yield ctx.callActivity("Fail", "y");
      return "not failed";
    } catch (error) {
      return {
        caught: error.message,
        errorType: error.details?.errorType,
        detail: error.details?.message,
      };
    }
  });
  // biome-ignore lint/correctness/useYield: both SDKs only run orchestrators that are async generators.
  orchestrator("ThrowingOrch", async function* (_ctx, input) {
    throw new RangeError(`bad input: ${input}`);
  });
  orchestrator("SubFailParent", async function* (ctx, input) {
    try {
      yield sdk.callSubOrchestrator(ctx, "ThrowingOrch", 7, input.childId);
      return "not failed";
    } catch (error) {
      return {
        caught: error.message,
        errorType: error.details?.errorType,
        detail: error.details?.message,
      };
    }
  });
  orchestrator("Retrying", async function* (ctx, input) {
    return yield sdk.callActivityWithRetry(ctx, "Flaky", input.flaky, input.retry);
  });
  orchestrator("Collector", async function* (ctx, input) {
    const item = yield ctx.waitForExternalEvent("item");
    const seen = [...input.seen, item];
    if (seen.length < input.until) {
      // saveEvents: events that arrived but were not consumed yet move to the next generation.
      ctx.continueAsNew({ ...input, seen }, true);
      return;
    }
    return seen;
  });
  orchestrator("Fickle", async function* (ctx) {
    // Schedules a different activity on replay: the SDK must detect the non-determinism.
    yield ctx.callActivity(ctx.isReplaying ? "Square" : "Double", 3);
    return "unreachable";
  });
  orchestrator("CustomStatus", async function* (ctx) {
    ctx.setCustomStatus(sdk.customStatus({ stage: 1 }));
    yield ctx.waitForExternalEvent("next");
    ctx.setCustomStatus(sdk.customStatus({ stage: 2 }));
    return "done";
  });
  orchestrator("WhatTime", async function* (ctx) {
    yield ctx.callActivity("Hello", "clock");
    return ctx.currentUtcDateTime.toISOString();
  });
  orchestrator("EchoLarge", async function* (ctx, input) {
    const echoed = yield ctx.callActivity("Echo", input);
    return echoed;
  });
  orchestrator("Restartable", async function* (ctx, input) {
    const first = yield ctx.callActivity("Step", "one");
    if (input.mode === "timer") {
      if (!ctx.isReplaying) count(`timer-scheduled:${ctx.instanceId}`);
      yield ctx.createTimer(input.timerSeconds);
      const second = yield ctx.callActivity("Step", "two");
      return [first, second];
    }
    const second = yield ctx.callActivity("Slow", ctx.instanceId);
    return [first, second];
  });
}

/** A JSON-friendly view of an OrchestrationState (or null when the SDK returned undefined). */
export function view(sdk, state) {
  if (state === undefined || state === null) return null;
  const failure = state.failureDetails;
  return {
    instanceId: state.instanceId,
    name: state.name,
    status: sdk.statusName(state.runtimeStatus),
    input: state.serializedInput ?? null,
    output: state.serializedOutput ?? null,
    customStatus: state.serializedCustomStatus ?? null,
    failure: failure
      ? {
          errorType: failure.errorType,
          message: failure.message,
          hasStack: Boolean(failure.stackTrace),
        }
      : null,
    createdAt: state.createdAt?.toISOString?.() ?? null,
    lastUpdatedAt: state.lastUpdatedAt?.toISOString?.() ?? null,
  };
}

/** The client-side scenarios; each returns facts for the test to assert. */
export function scenarios(sdk, client, run) {
  const id = (name) => `${sdk.name}-${name}-${run}`;
  const start = (name, input, instanceId, startAt) =>
    sdk.schedule(client, name, input, { instanceId, startAt });
  const wait = async (instanceId) =>
    view(sdk, await client.waitForOrchestrationCompletion(instanceId, true, waitSeconds));
  const get = async (instanceId, payloads = true) =>
    view(sdk, await client.getOrchestrationState(instanceId, payloads));
  const waitingFor = (instanceId) =>
    until(
      async () => (await get(instanceId))?.customStatus?.includes("waiting"),
      `${instanceId} to wait`,
    );
  const attempt = async (fn) => {
    try {
      return { ok: true, value: await fn() };
    } catch (error) {
      return { ok: false, error: String(error?.message ?? error) };
    }
  };

  return {
    async sequence() {
      const instanceId = await start(
        "Sequence",
        { cities: ["Tokyo", "London", "Seattle"] },
        id("sequence"),
      );
      const done = await wait(instanceId);
      const withoutPayloads = await get(instanceId, false);
      return {
        returnedId: instanceId,
        done,
        withoutPayloads,
        missing: await get(id("no-such-instance")),
      };
    },
    async generatedId() {
      const instanceId = await start("Sequence", { cities: ["Oslo"] });
      return { instanceId, done: await wait(instanceId) };
    },
    async fanOut() {
      const started = Date.now();
      const instanceId = await start("FanOut", { count: 100 }, id("fan-out"));
      return { done: await wait(instanceId), ms: Date.now() - started };
    },
    async subOrchestration() {
      const childId = id("child");
      const instanceId = await start("Parent", { n: 5, childId }, id("parent"));
      // Children with SDK-chosen ids (from the parent's execution id or instance id): two parents
      // at once must not collide.
      const a = await start("Parent", { n: 1 }, id("parent-a"));
      const b = await start("Parent", { n: 2 }, id("parent-b"));
      return {
        done: await wait(instanceId),
        child: await get(childId),
        defaultIds: [json((await wait(a)).output), json((await wait(b)).output)],
      };
    },
    async timer() {
      const started = Date.now();
      const instanceId = await start("Timer", { seconds: 1 }, id("timer"));
      const done = await wait(instanceId);
      return { done, wallMs: Date.now() - started };
    },
    async externalEvents() {
      // Raised before the orchestration waits: it is still sitting in a 1 s timer.
      const before = await start(
        "Approval",
        { delaySeconds: 1, timeoutSeconds: 30 },
        id("event-before"),
      );
      await client.raiseOrchestrationEvent(before, "Approval", { by: "early" });
      // Raised after the orchestration waits (case differs: names match case-insensitively).
      const afterStarted = Date.now();
      const after = await start(
        "Approval",
        { delaySeconds: 0, timeoutSeconds: 3 },
        id("event-after"),
      );
      await waitingFor(after);
      await client.raiseOrchestrationEvent(after, "APPROVAL", { by: "late" });
      // Never raised: the 1 s timer wins.
      const timeout = await start(
        "Approval",
        { delaySeconds: 0, timeoutSeconds: 1 },
        id("event-timeout"),
      );
      const results = {
        before: await wait(before),
        after: await wait(after),
        timeout: await wait(timeout),
      };
      // The losing 3 s timer of `after` fires into a completed instance: nothing may change.
      await sleep(Math.max(0, afterStarted + 3500 - Date.now()));
      return { ...results, afterLater: await get(after) };
    },
    async terminate() {
      const childId = id("terminate-child");
      const instanceId = await start("LongParent", { childId }, id("terminate-parent"));
      await waitingFor(childId);
      await sdk.terminate(client, instanceId, { reason: "stop" }, { recursive: true });
      const done = await wait(instanceId);
      const child = sdk.features.recursiveTerminate ? await wait(childId) : await get(childId);
      return { done, child };
    },
    async suspendResume() {
      const instanceId = await start("WaitGo", {}, id("suspend"));
      await waitingFor(instanceId);
      await client.suspendOrchestration(instanceId);
      const suspended = await until(async () => {
        const s = await get(instanceId);
        return s.status === "SUSPENDED" && s;
      }, "SUSPENDED");
      await client.raiseOrchestrationEvent(instanceId, "go", "while-suspended");
      await sleep(500);
      const stillSuspended = await get(instanceId);
      await client.resumeOrchestration(instanceId);
      const terminatedId = await start("WaitGo", {}, id("suspend-terminate"));
      await waitingFor(terminatedId);
      await client.suspendOrchestration(terminatedId);
      await until(async () => (await get(terminatedId)).status === "SUSPENDED", "SUSPENDED");
      await sdk.terminate(client, terminatedId, "ended while suspended", { recursive: false });
      return {
        terminatedWhileSuspended: await wait(terminatedId),
        suspended: suspended.status,
        stillSuspended: stillSuspended.status,
        done: await wait(instanceId),
      };
    },
    async continueAsNew() {
      const instanceId = await start("Counter", { n: 1, until: 5, total: 0 }, id("counter"));
      return { done: await wait(instanceId) };
    },
    async continueAsNewEvents() {
      const instanceId = await start("Collector", { seen: [], until: 3 }, id("collector"));
      for (const item of ["a", "b", "c"])
        await client.raiseOrchestrationEvent(instanceId, "item", item);
      return { done: await wait(instanceId) };
    },
    async nonDeterminism() {
      return { done: await wait(await start("Fickle", {}, id("fickle"))) };
    },
    async failures() {
      const failing = await start("FailingOrch", {}, id("failing"));
      const catching = await start("CatchingOrch", {}, id("catching"));
      const throwing = await start("ThrowingOrch", 7, id("throwing"));
      const subFail = await start(
        "SubFailParent",
        { childId: id("sub-fail-child") },
        id("sub-fail"),
      );
      return {
        failing: await wait(failing),
        catching: await wait(catching),
        throwing: await wait(throwing),
        subFail: await wait(subFail),
      };
    },
    async retries() {
      const retry = {
        maxNumberOfAttempts: 5,
        firstRetryIntervalInMilliseconds: 100,
        backoffCoefficient: 1,
      };
      const ok = await start(
        "Retrying",
        { flaky: { key: "ok", succeedOn: 3 }, retry },
        id("retry-ok"),
      );
      const exhausted = await start(
        "Retrying",
        { flaky: { key: "exhausted", succeedOn: 99 }, retry: { ...retry, maxNumberOfAttempts: 2 } },
        id("retry-exhausted"),
      );
      return {
        ok: await wait(ok),
        exhausted: await wait(exhausted),
        attempts: { ok: attempts.get("flaky:ok"), exhausted: attempts.get("flaky:exhausted") },
      };
    },
    async customStatus() {
      const instanceId = await start("CustomStatus", {}, id("custom-status"));
      const first = await until(
        async () => (await get(instanceId)).customStatus,
        "a custom status",
      );
      await client.raiseOrchestrationEvent(instanceId, "next", 1);
      const done = await wait(instanceId);
      return { first, done };
    },
    async query() {
      const prefix = id("query");
      const ids = [];
      for (let i = 0; i < 7; i++)
        ids.push(await start("Sequence", { cities: [`Q${i}`] }, `${prefix}-${i}`));
      for (const instanceId of ids) await wait(instanceId);
      const pages = [];
      for await (const page of client
        .getAllInstances({ instanceIdPrefix: prefix, pageSize: 3, fetchInputsAndOutputs: true })
        .asPages()) {
        pages.push(page.values.map((s) => view(sdk, s)));
      }
      const completedRunning = [];
      for await (const state of client.getAllInstances({
        instanceIdPrefix: prefix,
        statuses: [sdk.status.RUNNING],
      })) {
        completedRunning.push(state.instanceId);
      }
      const listed = [];
      let lastInstanceKey;
      for (let n = 0; n < 1000; n++) {
        const page = await client.listInstanceIds({
          pageSize: 4,
          lastInstanceKey,
          runtimeStatus: [sdk.status.COMPLETED],
        });
        listed.push(...page.values);
        if (!page.hasMoreResults) break;
        lastInstanceKey = page.continuationToken;
      }
      const history = await client.getOrchestrationHistory(ids[0]);
      return {
        ids,
        pageSizes: pages.map((p) => p.length),
        queried: pages
          .flat()
          .map((s) => ({ instanceId: s.instanceId, status: s.status, output: s.output })),
        running: completedRunning,
        listedOurs: listed.filter((x) => x.startsWith(prefix)).sort(),
        listedUnique: new Set(listed).size === listed.length,
        historyKinds: history.map((e) => e.type),
      };
    },
    async purge() {
      // Only this scenario's instances fall into the filter's creation window.
      await sleep(20);
      const from = new Date();
      const doneId = await start("Sequence", { cities: ["P"] }, id("purge-done"));
      await wait(doneId);
      const first = await attempt(
        async () => (await client.purgeOrchestration(doneId))?.deletedInstanceCount,
      );
      const after = await get(doneId);
      const second = await attempt(
        async () => (await client.purgeOrchestration(doneId))?.deletedInstanceCount,
      );
      const runningId = await start("WaitGo", {}, id("purge-running"));
      await waitingFor(runningId);
      const running = await attempt(
        async () => (await client.purgeOrchestration(runningId))?.deletedInstanceCount,
      );
      const filtered = [];
      for (let i = 0; i < 3; i++)
        filtered.push(await start("Sequence", { cities: ["F"] }, id(`purge-filter-${i}`)));
      for (const instanceId of filtered) await wait(instanceId);
      const byFilter = await attempt(
        async () =>
          (
            await client.purgeOrchestration(
              sdk.purgeCriteria(from, new Date(), [sdk.status.COMPLETED]),
            )
          )?.deletedInstanceCount,
      );
      const filteredAfter = await Promise.all(filtered.map((x) => get(x)));
      const runningAfter = await get(runningId);
      await sdk.terminate(client, runningId, "cleanup", { recursive: false });
      let recursive = null;
      if (sdk.features.recursivePurge) {
        const childId = id("purge-child");
        const parentId = await start("Parent", { n: 1, childId }, id("purge-parent"));
        await wait(parentId);
        recursive = await attempt(
          async () =>
            (await client.purgeOrchestration(parentId, { recursive: true }))?.deletedInstanceCount,
        );
        recursive.childAfter = await get(childId);
      }
      return {
        first,
        after,
        second,
        running,
        runningAfter: runningAfter?.status,
        byFilter,
        filteredAfter,
        recursive,
      };
    },
    async scheduledStart() {
      const startAt = new Date(Date.now() + 2000);
      const instanceId = await start("WhatTime", {}, id("scheduled"), startAt);
      const before = await get(instanceId);
      // An event raised while the instance is PENDING waits for it.
      const waiting = await start("WaitGo", {}, id("scheduled-event"), startAt);
      await client.raiseOrchestrationEvent(waiting, "go", "early bird");
      const started = view(
        sdk,
        await client.waitForOrchestrationStart(instanceId, false, waitSeconds),
      );
      const startedAfterMs = Date.now() - startAt.getTime();
      const done = await wait(instanceId);
      const ranAt = Date.parse(JSON.parse(done.output));
      return {
        before: before.status,
        started: started.status,
        startedAfterMs,
        done: done.status,
        ranLateByMs: ranAt - startAt.getTime(),
        eventWaited: await wait(waiting),
      };
    },
    async largePayload() {
      const payload = `${"x".repeat(1024 * 1024 - 7)}-end-♥`; // 1 MiB of UTF-8 in, 1 MiB out
      const instanceId = await start("EchoLarge", payload, id("large"));
      const done = await wait(instanceId);
      return {
        status: done.status,
        outputLength: done.output?.length ?? 0,
        roundTrip: done.output === JSON.stringify(payload),
        inputRoundTrip: done.input === JSON.stringify(payload),
      };
    },
    async edgeCases() {
      const instanceId = await start("WaitGo", {}, id("duplicate"));
      const duplicateWhileRunning = await attempt(() => start("WaitGo", {}, instanceId));
      const started = view(sdk, await client.waitForOrchestrationStart(instanceId, false, 10));
      await waitingFor(instanceId);
      await client.raiseOrchestrationEvent(instanceId, "go", "first");
      const first = await wait(instanceId);
      const duplicateAfterCompletion = await attempt(() => start("WaitGo", {}, instanceId));
      const unknown = id("unknown");
      return {
        duplicateWhileRunning,
        started: started.status,
        first: first.output,
        duplicateAfterCompletion,
        afterDuplicate: await get(instanceId),
        raiseUnknown: await attempt(() => client.raiseOrchestrationEvent(unknown, "go", 1)),
        terminateUnknown: await attempt(() =>
          sdk.terminate(client, unknown, "x", { recursive: false }),
        ),
        suspendUnknown: await attempt(() => client.suspendOrchestration(unknown)),
        waitStartUnknown: await attempt(async () =>
          view(sdk, await client.waitForOrchestrationStart(unknown, false, 5)),
        ),
        waitUnknown: await attempt(async () =>
          view(sdk, await client.waitForOrchestrationCompletion(unknown, true, 5)),
        ),
        purgeUnknown: await attempt(
          async () => (await client.purgeOrchestration(unknown))?.deletedInstanceCount,
        ),
      };
    },
    async lateCommands() {
      const instanceId = await start("Sequence", { cities: ["L"] }, id("late"));
      await wait(instanceId);
      const terminate = await attempt(() =>
        sdk.terminate(client, instanceId, "late", { recursive: false }),
      );
      const raise = await attempt(() => client.raiseOrchestrationEvent(instanceId, "go", 1));
      const suspend = await attempt(() => client.suspendOrchestration(instanceId));
      const resume = await attempt(() => client.resumeOrchestration(instanceId));
      await sleep(300);
      return { terminate, raise, suspend, resume, after: await get(instanceId) };
    },
    async management() {
      const instanceId = await start("Sequence", { cities: ["R"] }, id("restart"));
      const original = await wait(instanceId);
      const sameId = await attempt(() => client.restartOrchestration(instanceId, false));
      const sameDone = sameId.ok ? await wait(instanceId) : null;
      const newId = await attempt(() => client.restartOrchestration(instanceId, true));
      const newDone = newId.ok ? await wait(newId.value) : null;
      return {
        original,
        sameId,
        sameDone,
        newId,
        newDone,
        restartUnknown: await attempt(() => client.restartOrchestration(id("nope"), false)),
        rewind: await attempt(() => client.rewindInstance(instanceId, "why")),
        historyUnknown: await attempt(() => client.getOrchestrationHistory(id("nope"))),
      };
    },
    async concurrent500() {
      const started = Date.now();
      const ids = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          start("Sequence", { cities: [`C${i}`] }, id(`many-${i}`)),
        ),
      );
      const states = await Promise.all(ids.map((x) => wait(x)));
      const statuses = {};
      let wrong = 0;
      states.forEach((s, i) => {
        statuses[s.status] = (statuses[s.status] ?? 0) + 1;
        if (s.output !== JSON.stringify([`Hello, C${i}!`])) wrong++;
      });
      return { count: states.length, statuses, wrongOutputs: wrong, ms: Date.now() - started };
    },
  };
}

/** Names of the scenarios in the order they run. */
export const scenarioNames = [
  "sequence",
  "generatedId",
  "fanOut",
  "subOrchestration",
  "timer",
  "externalEvents",
  "terminate",
  "suspendResume",
  "continueAsNew",
  "continueAsNewEvents",
  "failures",
  "nonDeterminism",
  "retries",
  "customStatus",
  "query",
  "purge",
  "scheduledStart",
  "largePayload",
  "edgeCases",
  "lateCommands",
  "management",
  "concurrent500",
];

/**
 * The worker-restart scenario, phase A: starts the orchestrations, reports `ready` once one is
 * inside its "Slow" activity and the other inside its timer, then hangs until the test kills it.
 */
export async function restartPhaseA(sdk, client, ids) {
  const [activityId, timerId] = ids;
  await sdk.schedule(client, "Restartable", { mode: "activity" }, { instanceId: activityId });
  await sdk.schedule(
    client,
    "Restartable",
    { mode: "timer", timerSeconds: 3 },
    { instanceId: timerId },
  );
  await until(
    () => attempts.get(`slow:${activityId}`) && attempts.get(`timer-scheduled:${timerId}`),
    "one orchestration in its activity and one in its timer",
  );
  emit({ event: "ready" });
  await new Promise(() => {});
}

/** Phase B: a fresh worker; waits for both orchestrations to finish. */
export async function restartPhaseB(sdk, client, ids) {
  const states = {};
  for (const instanceId of ids) {
    states[instanceId] = view(
      sdk,
      await client.waitForOrchestrationCompletion(instanceId, true, waitSeconds),
    );
  }
  return { states, attempts: Object.fromEntries(attempts) };
}

/**
 * The sidecar-restart scenario: once an orchestration sits in its timer, the test restarts the
 * sidecar (same port and database). The worker must reconnect by itself and the orchestration
 * finish; a new orchestration then runs too.
 */
export async function sidecarRestart(sdk, client, ids) {
  const [timerId, laterId] = ids;
  await sdk.schedule(
    client,
    "Restartable",
    { mode: "timer", timerSeconds: 2 },
    { instanceId: timerId },
  );
  await until(() => attempts.get(`timer-scheduled:${timerId}`), "the timer");
  emit({ event: "ready" });
  await nextLine(); // the test says when the new sidecar is up
  const done = await until(
    async () => {
      const state = await client.getOrchestrationState(timerId, true).catch(() => undefined);
      return (
        state &&
        ["COMPLETED", "FAILED", "TERMINATED"].includes(sdk.statusName(state.runtimeStatus)) &&
        state
      );
    },
    "the orchestration to finish after the restart",
    40_000,
  );
  await sdk.schedule(client, "Sequence", { cities: ["Again"] }, { instanceId: laterId });
  const later = await client.waitForOrchestrationCompletion(laterId, true, waitSeconds);
  return {
    timer: view(sdk, done),
    later: view(sdk, later),
    attempts: Object.fromEntries(attempts),
  };
}

/**
 * The body of a scenario program: `--group all` runs the scenarios (minus `unsupported`),
 * `restart-a` / `restart-b` the two halves of the worker-restart scenario, `sidecar-restart` the
 * sidecar-restart scenario, `worker-only` a competing worker.
 */
export async function runProgram(sdk, { newWorker, newClient, unsupported }) {
  const opts = options();
  const worker = newWorker(opts.address);
  register(worker, sdk, { slow: opts.group === "restart-a" ? "hang" : "complete" });
  await worker.start();
  const client = newClient(opts.address);
  emit({ event: "started", pid: process.pid });
  if (opts.group === "restart-a") return restartPhaseA(sdk, client, opts.ids);
  if (opts.group === "restart-b") {
    emit({ scenario: "restart", ok: true, value: await restartPhaseB(sdk, client, opts.ids) });
  } else if (opts.group === "worker-only") {
    // A second worker competing for work items; reports what it ran when the test asks.
    emit({ event: "ready" });
    await nextLine();
    emit({ scenario: "worker-report", ok: true, value: Object.fromEntries(attempts) });
  } else if (opts.group === "sidecar-restart") {
    emit({
      scenario: "sidecar-restart",
      ok: true,
      value: await sidecarRestart(sdk, client, opts.ids),
    });
  } else {
    const names =
      opts.only.length > 0 ? opts.only : scenarioNames.filter((n) => !unsupported.includes(n));
    await runScenarios(scenarios(sdk, client, opts.run), names);
  }
  await worker.stop();
  await client.stop();
}
