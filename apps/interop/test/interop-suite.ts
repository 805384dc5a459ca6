import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  killAllScenarioProcesses,
  type ScenarioMessage,
  type ScenarioProcess,
  type Sdk,
  startScenarioProcess,
} from "../src/scenario-process.js";
import { startTestSidecar, type TestSidecar } from "../src/test-sidecar.js";
import { undecodableStatuses, wireStatuses } from "../src/wire-statuses.js";

/** What a scenario program reports about one instance (scenarios/suite.mjs `view`). */
interface View {
  instanceId: string;
  name: string;
  status: string;
  input: string | null;
  output: string | null;
  customStatus: string | null;
  failure: { errorType: string; message: string; hasStack: boolean } | null;
  createdAt: string | null;
  lastUpdatedAt: string | null;
}

type Attempt<T = unknown> = { ok: true; value: T } | { ok: false; error: string };

const json = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/**
 * The interop suite for one SDK: a sidecar in this process (SQLite temp file, free port) and the
 * SDK's scenario program in child processes. `gaps` lists the scenarios the SDK cannot express.
 */
/**
 * What the dapr SDK cannot run: it has no retry policies, recursive terminate or purge, and no
 * query/list/history/restart/rewind calls (protocol.md §5.4), and it drops an event that arrives
 * in the same work item right after one that completes a waitForExternalEvent
 * (scenarios/dapr.mjs), so continue-as-new with saveEvents is not run either.
 */
export const daprGaps: readonly string[] = [
  "retries",
  "query",
  "management",
  "recursiveTerminate",
  "recursivePurge",
  "continueAsNewEvents",
];

export function describeInterop(sdk: Sdk, gaps: readonly string[]): void {
  const run = `${Date.now().toString(36)}`;
  let sidecar: TestSidecar;
  const supported = (name: string) => !gaps.includes(name);

  beforeAll(async () => {
    sidecar = await startTestSidecar();
  });

  afterAll(async () => {
    await killAllScenarioProcesses();
    await sidecar?.stop();
  });

  async function completions(instanceId: string): Promise<number> {
    const history = await sidecar.backend.getOrchestrationHistory(instanceId);
    return history.filter((e) => e.eventType.case === "executionCompleted").length;
  }

  // Runs first, while no other worker is connected: the second worker must get the work.
  it("worker restarted mid-orchestration: each orchestration completes exactly once", async () => {
    const ids = [`${sdk}-restart-activity-${run}`, `${sdk}-restart-timer-${run}`];
    const first = startScenarioProcess({
      sdk,
      address: sidecar.address,
      group: "restart-a",
      ids,
      run,
    });
    try {
      await first.event("ready");
    } finally {
      await first.kill("SIGKILL");
    }
    const second = startScenarioProcess({
      sdk,
      address: sidecar.address,
      group: "restart-b",
      ids,
      run,
    });
    const outcome = await second.outcome("restart");
    await second.exited;
    expect(outcome.ok, outcome.error).toBe(true);
    const value = outcome.value as {
      states: Record<string, View>;
      attempts: Record<string, number>;
    };
    const [activityId, timerId] = ids as [string, string];
    expect(value.states[activityId]?.status).toBe("COMPLETED");
    expect(json(value.states[activityId]?.output ?? null)).toEqual(["step-one", "slow-done"]);
    expect(value.states[timerId]?.status).toBe("COMPLETED");
    expect(json(value.states[timerId]?.output ?? null)).toEqual(["step-one", "step-two"]);
    // The hung activity ran again in the new worker; nothing else had to.
    expect(value.attempts[`slow:${activityId}`]).toBe(1);
    expect(await completions(activityId)).toBe(1);
    expect(await completions(timerId)).toBe(1);
  });

  describe("scenarios", () => {
    let program: ScenarioProcess;

    beforeAll(() => {
      program = startScenarioProcess({ sdk, address: sidecar.address, group: "all", run });
    });

    afterAll(async () => {
      await program?.kill();
    });

    async function scenario<T>(name: string): Promise<T> {
      const outcome: ScenarioMessage = await program.outcome(name);
      if (!outcome.ok) {
        throw new Error(
          `${sdk} scenario '${name}' failed:\n${outcome.error}\n--- sidecar log ---\n${sidecar.logs.join("\n")}`,
        );
      }
      return outcome.value as T;
    }

    it("activity sequence; payloads only on request; unknown ids do not exist", async () => {
      const r = await scenario<{
        returnedId: string;
        done: View;
        withoutPayloads: View;
        missing: View | null;
      }>("sequence");
      expect(r.returnedId).toBe(`${sdk}-sequence-${run}`);
      expect(r.done).toMatchObject({
        instanceId: r.returnedId,
        name: "Sequence",
        status: "COMPLETED",
      });
      expect(json(r.done.output)).toEqual(["Hello, Tokyo!", "Hello, London!", "Hello, Seattle!"]);
      expect(json(r.done.input)).toEqual({ cities: ["Tokyo", "London", "Seattle"] });
      expect(Date.parse(r.done.createdAt ?? "")).toBeGreaterThan(Date.parse("2020-01-01"));
      expect(Date.parse(r.done.lastUpdatedAt ?? "")).toBeGreaterThanOrEqual(
        Date.parse(r.done.createdAt ?? ""),
      );
      expect(r.withoutPayloads.status).toBe("COMPLETED");
      expect(r.withoutPayloads.input ?? "").toBe("");
      expect(r.withoutPayloads.output ?? "").toBe("");
      expect(r.missing).toBeNull();
    });

    it("instance ids generated by the SDK", async () => {
      const r = await scenario<{ instanceId: string; done: View }>("generatedId");
      expect(r.instanceId).toMatch(/^[0-9a-f-]{32,36}$/);
      expect(r.done.status).toBe("COMPLETED");
      expect(json(r.done.output)).toEqual(["Hello, Oslo!"]);
    });

    it("fan-out/fan-in of 100 activities", async () => {
      const r = await scenario<{ done: View }>("fanOut");
      expect(r.done.status).toBe("COMPLETED");
      expect(json(r.done.output)).toEqual({ count: 100, sum: 338350 });
    });

    it("sub-orchestrations with chosen and with SDK-made instance ids", async () => {
      const r = await scenario<{ done: View; child: View; defaultIds: unknown[] }>(
        "subOrchestration",
      );
      expect(r.done.status).toBe("COMPLETED");
      expect(json(r.done.output)).toEqual({ child: 11, parent: `${sdk}-parent-${run}` });
      expect(r.child).toMatchObject({
        instanceId: `${sdk}-child-${run}`,
        name: "Child",
        status: "COMPLETED",
      });
      expect(json(r.child.output)).toBe(11);
      expect(r.defaultIds).toEqual([
        { child: 3, parent: `${sdk}-parent-a-${run}` },
        { child: 5, parent: `${sdk}-parent-b-${run}` },
      ]);
    });

    it("durable timer", async () => {
      const r = await scenario<{ done: View; wallMs: number }>("timer");
      expect(r.done.status).toBe("COMPLETED");
      expect((json(r.done.output) as { elapsedMs: number }).elapsedMs).toBeGreaterThanOrEqual(1000);
      expect(r.wallMs).toBeGreaterThanOrEqual(1000);
    });

    it("external events: raised before the wait, after it, and a wait that times out", async () => {
      const r = await scenario<{ before: View; after: View; timeout: View; afterLater: View }>(
        "externalEvents",
      );
      expect(json(r.before.output)).toEqual({ approved: { by: "early" } });
      expect(json(r.after.output)).toEqual({ approved: { by: "late" } });
      expect(json(r.timeout.output)).toEqual({ timedOut: true });
      expect([r.before.status, r.after.status, r.timeout.status]).toEqual([
        "COMPLETED",
        "COMPLETED",
        "COMPLETED",
      ]);
      // The timer that lost the race fired later into the completed instance: nothing changed.
      expect(r.afterLater).toEqual(r.after);
    });

    it(`terminate${supported("recursiveTerminate") ? " (recursive)" : ""}`, async () => {
      const r = await scenario<{ done: View; child: View }>("terminate");
      expect(r.done.status).toBe("TERMINATED");
      expect(json(r.done.output)).toEqual({ reason: "stop" });
      // dapr's TerminateRequest has no recursive flag: the child keeps running.
      expect(r.child.status).toBe(supported("recursiveTerminate") ? "TERMINATED" : "RUNNING");
    });

    it("suspend/resume: events raised while suspended are delivered after resume", async () => {
      const r = await scenario<{
        suspended: string;
        stillSuspended: string;
        done: View;
        terminatedWhileSuspended: View;
      }>("suspendResume");
      expect(r.suspended).toBe("SUSPENDED");
      expect(r.stillSuspended).toBe("SUSPENDED");
      expect(r.done.status).toBe("COMPLETED");
      expect(json(r.done.output)).toEqual({ got: "while-suspended" });
      expect(r.terminatedWhileSuspended.status).toBe("TERMINATED");
      expect(json(r.terminatedWhileSuspended.output)).toBe("ended while suspended");
    });

    it("continue-as-new", async () => {
      const r = await scenario<{ done: View }>("continueAsNew");
      expect(r.done.status).toBe("COMPLETED");
      expect(json(r.done.output)).toEqual({ n: 5, total: 55 });
      expect(json(r.done.input)).toEqual({ n: 5, until: 5, total: 30 });
    });

    it.skipIf(!supported("continueAsNewEvents"))(
      "continue-as-new carries unconsumed events over (saveEvents)",
      async () => {
        const r = await scenario<{ done: View }>("continueAsNewEvents");
        expect(r.done.status).toBe("COMPLETED");
        expect(json(r.done.output)).toEqual(["a", "b", "c"]);
      },
    );

    it("failures with details", async () => {
      const r = await scenario<{ failing: View; catching: View; throwing: View; subFail: View }>(
        "failures",
      );
      expect(r.failing.status).toBe("FAILED");
      expect(r.failing.failure?.message).toContain("boom: x");
      expect(r.catching.status).toBe("COMPLETED");
      const caught = json(r.catching.output) as {
        caught: string;
        errorType: string;
        detail: string;
      };
      expect(caught.caught).toContain("boom: y");
      expect(caught.errorType).toBe("Error");
      expect(caught.detail).toBe("boom: y");
      expect(r.throwing.status).toBe("FAILED");
      expect(r.throwing.failure).toMatchObject({
        errorType: "RangeError",
        message: "bad input: 7",
      });
      expect(r.subFail.status).toBe("COMPLETED");
      const subCaught = json(r.subFail.output) as {
        caught: string;
        errorType: string;
        detail: string;
      };
      expect(subCaught.caught).toContain("bad input: 7");
      expect(subCaught.detail).toBe("bad input: 7");
    });

    it("non-determinism detected by the SDK fails the instance", async () => {
      const r = await scenario<{ done: View }>("nonDeterminism");
      expect(r.done.status).toBe("FAILED");
      expect(r.done.failure?.errorType).toBe("NonDeterminismError");
      expect(r.done.failure?.message).toContain("name='Double'");
    });

    it.skipIf(!supported("retries"))("activity retries (SDK retry policy)", async () => {
      const r = await scenario<{
        ok: View;
        exhausted: View;
        attempts: { ok: number; exhausted: number };
      }>("retries");
      expect(r.ok.status).toBe("COMPLETED");
      expect(json(r.ok.output)).toBe("ok after 3");
      expect(r.attempts.ok).toBe(3);
      expect(r.exhausted.status).toBe("FAILED");
      expect(r.exhausted.failure?.message).toContain("flaky attempt 2");
      expect(r.attempts.exhausted).toBe(2);
    });

    it("custom status", async () => {
      const r = await scenario<{ first: string; done: View }>("customStatus");
      expect(json(r.first)).toEqual({ stage: 1 });
      expect(json(r.done.customStatus)).toEqual({ stage: 2 });
      expect(json(r.done.output)).toBe("done");
    });

    it.skipIf(!supported("query"))("query with paging, list instance ids, history", async () => {
      const r = await scenario<{
        ids: string[];
        pageSizes: number[];
        queried: { instanceId: string; status: string; output: string }[];
        running: string[];
        listedOurs: string[];
        listedUnique: boolean;
        historyKinds: unknown[];
      }>("query");
      expect(r.pageSizes).toEqual([3, 3, 1]);
      expect(r.queried.map((s) => s.instanceId).sort()).toEqual([...r.ids].sort());
      expect(new Set(r.queried.map((s) => s.status))).toEqual(new Set(["COMPLETED"]));
      expect(json(r.queried.find((s) => s.instanceId === r.ids[3])?.output ?? null)).toEqual([
        "Hello, Q3!",
      ]);
      expect(r.running).toEqual([]);
      expect(r.listedOurs).toEqual([...r.ids].sort());
      expect(r.listedUnique).toBe(true);
      expect(r.historyKinds.length).toBeGreaterThanOrEqual(6);
    });

    it("purge by id, by filter and recursively", async () => {
      const r = await scenario<{
        first: Attempt;
        after: View | null;
        second: Attempt;
        running: Attempt;
        runningAfter: string;
        byFilter: Attempt;
        filteredAfter: (View | null)[];
        recursive: (Attempt & { childAfter: View | null }) | null;
      }>("purge");
      expect(r.first).toEqual({ ok: true, value: 1 });
      expect(r.after).toBeNull();
      // Purging what is gone reports 0 here (durabletask-go answers with an error).
      expect(r.second).toEqual({ ok: true, value: 0 });
      // A running instance cannot be purged.
      expect(r.running.ok).toBe(false);
      expect(r.runningAfter).toBe("RUNNING");
      expect(r.byFilter).toEqual({ ok: true, value: 3 });
      expect(r.filteredAfter).toEqual([null, null, null]);
      if (supported("recursivePurge")) {
        expect(r.recursive).toMatchObject({ ok: true, value: 2, childAfter: null });
      }
    });

    it("scheduled start: PENDING until the start time; events raised meanwhile wait", async () => {
      const r = await scenario<{
        before: string;
        started: string;
        startedAfterMs: number;
        done: string;
        ranLateByMs: number;
        eventWaited: View;
      }>("scheduledStart");
      expect(r.before).toBe("PENDING");
      expect(r.started).not.toBe("PENDING");
      expect(r.startedAfterMs).toBeLessThan(2000);
      expect(r.done).toBe("COMPLETED");
      expect(r.ranLateByMs).toBeGreaterThanOrEqual(0);
      expect(r.ranLateByMs).toBeLessThan(2000);
      expect(r.eventWaited.status).toBe("COMPLETED");
      expect(json(r.eventWaited.output)).toEqual({ got: "early bird" });
    });

    it("1 MiB payload in and out", async () => {
      const r = await scenario<{
        status: string;
        outputLength: number;
        roundTrip: boolean;
        inputRoundTrip: boolean;
      }>("largePayload");
      expect(r).toMatchObject({ status: "COMPLETED", roundTrip: true, inputRoundTrip: true });
      expect(r.outputLength).toBeGreaterThan(1024 * 1024);
    });

    it("duplicate ids are rejected; commands for unknown ids fail, waits report nothing", async () => {
      const r = await scenario<
        Record<string, Attempt<unknown>> & { started: string; first: string; afterDuplicate: View }
      >("edgeCases");
      expect(r.duplicateWhileRunning).toMatchObject({
        ok: false,
        error: expect.stringMatching(/ALREADY_EXISTS/),
      });
      expect(r.started).toBe("RUNNING");
      expect(json(r.first)).toEqual({ got: "first" });
      // Like durabletask-go: an id stays taken until the instance is purged.
      expect(r.duplicateAfterCompletion).toMatchObject({
        ok: false,
        error: expect.stringMatching(/ALREADY_EXISTS/),
      });
      expect(json(r.afterDuplicate.output)).toEqual({ got: "first" });
      for (const command of ["raiseUnknown", "terminateUnknown", "suspendUnknown"]) {
        expect(r[command], command).toMatchObject({
          ok: false,
          error: expect.stringMatching(/NOT_FOUND/),
        });
      }
      expect(r.waitStartUnknown).toEqual({ ok: true, value: null });
      expect(r.waitUnknown).toEqual({ ok: true, value: null });
      expect(r.purgeUnknown).toEqual({ ok: true, value: 0 });
    });

    it("commands for a completed instance are accepted and change nothing", async () => {
      const r = await scenario<Record<string, Attempt> & { after: View }>("lateCommands");
      for (const command of ["terminate", "raise", "suspend", "resume"])
        expect(r[command], command).toMatchObject({ ok: true });
      expect(r.after.status).toBe("COMPLETED");
      expect(json(r.after.output)).toEqual(["Hello, L!"]);
    });

    it.skipIf(!supported("management"))(
      "restart, rewind and history of unknown instances",
      async () => {
        const r = await scenario<{
          original: View;
          sameId: Attempt<string>;
          sameDone: View;
          newId: Attempt<string>;
          newDone: View;
          restartUnknown: Attempt;
          rewind: Attempt;
          historyUnknown: Attempt;
        }>("management");
        expect(r.sameId).toEqual({ ok: true, value: r.original.instanceId });
        expect(r.sameDone).toMatchObject({
          status: "COMPLETED",
          input: r.original.input,
          output: r.original.output,
        });
        expect(r.newId.ok).toBe(true);
        expect(r.newId.ok && r.newId.value).not.toBe(r.original.instanceId);
        expect(r.newDone).toMatchObject({ status: "COMPLETED", output: r.original.output });
        expect(r.restartUnknown).toMatchObject({
          ok: false,
          error: expect.stringMatching(/not found/),
        });
        expect(r.rewind).toMatchObject({
          ok: false,
          error: expect.stringMatching(/not supported by this sidecar/),
        });
        expect(r.historyUnknown).toEqual({ ok: true, value: [] });
      },
    );

    it("500 concurrent orchestrations", async () => {
      const r = await scenario<{
        count: number;
        statuses: Record<string, number>;
        wrongOutputs: number;
      }>("concurrent500");
      expect(r).toMatchObject({ count: 500, statuses: { COMPLETED: 500 }, wrongOutputs: 0 });
    });

    it("the program finished cleanly", async () => {
      expect(await program.exited).toBe(0);
      expect(program.messages.filter((m) => m.event === "unhandled-rejection")).toEqual([]);
    });
  });

  it("two workers compete for the work items", async () => {
    const helper = startScenarioProcess({
      sdk,
      address: sidecar.address,
      group: "worker-only",
      run,
    });
    await helper.event("ready");
    const main = startScenarioProcess({
      sdk,
      address: sidecar.address,
      group: "all",
      only: ["fanOut", "subOrchestration"],
      run: `${run}-competing`,
    });
    const fanOut = await main.outcome("fanOut");
    const sub = await main.outcome("subOrchestration");
    helper.send("report");
    const report = await helper.outcome("worker-report");
    expect(await main.exited).toBe(0);
    expect(await helper.exited).toBe(0);
    expect(fanOut.ok, fanOut.error).toBe(true);
    expect(sub.ok, sub.error).toBe(true);
    const done = (fanOut.value as { done: View }).done;
    expect(json(done.output)).toEqual({ count: 100, sum: 338350 });
    // The helper ran its share of the 100 activities (the sidecar round-robins the streams).
    expect((report.value as Record<string, number>)["activity:Square"]).toBeGreaterThan(10);
  });

  it("sidecar restarted mid-orchestration: the worker reconnects and work goes on", async () => {
    const ids = [`${sdk}-sidecar-restart-${run}`, `${sdk}-after-restart-${run}`];
    const program = startScenarioProcess({
      sdk,
      address: sidecar.address,
      group: "sidecar-restart",
      ids,
      run,
    });
    await program.event("ready");
    await sidecar.restart();
    program.send("restarted");
    const outcome = await program.outcome("sidecar-restart");
    expect(outcome.ok, outcome.error).toBe(true);
    const value = outcome.value as { timer: View; later: View };
    expect(value.timer.status).toBe("COMPLETED");
    expect(json(value.timer.output)).toEqual(["step-one", "step-two"]);
    expect(value.later.status).toBe("COMPLETED");
    expect(json(value.later.output)).toEqual(["Hello, Again!"]);
    expect(await completions(ids[0] as string)).toBe(1);
    expect(await program.exited).toBe(0);
  });

  it("the sidecar never reports CANCELED or STALLED", async () => {
    const statuses = await wireStatuses(sidecar.address);
    expect(statuses.size).toBeGreaterThan(500);
    const bad = [...statuses].filter(([, s]) => undecodableStatuses.includes(s));
    expect(bad).toEqual([]);
  });
}
