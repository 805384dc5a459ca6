// History tails (src/history-tails.ts): to a stream that keeps histories, the sidecar sends a long
// history's next episode only from the last event that stream was sent; other streams (the
// official SDKs) get every history whole.
import { create, toBinary } from "@bufbuild/protobuf";
import * as wire from "@durabletask/api/proto";
import { afterEach, expect, it } from "vitest";
import { historyTailsHeader, tailFromOf } from "../../src/history-tails.js";
import {
  completion,
  type FakeWorker,
  isActivity,
  isOrchestration,
  type RawSidecar,
  startRawSidecar,
} from "./raw-sidecar.js";

let sidecar: RawSidecar | undefined;
afterEach(async () => {
  await sidecar?.stop();
  sidecar = undefined;
});

const keepsHistories = { [historyTailsHeader]: "1" };
const activities = 40;

function requestOf(item: wire.WorkItem): wire.OrchestratorRequest {
  if (item.request.case !== "orchestratorRequest") throw new Error("not an orchestration item");
  return item.request.value;
}

/** Where the request's past events start in the history, and how many events come before its new ones. */
function positions(request: wire.OrchestratorRequest): { from: number; pastEnd: number } {
  const from = tailFromOf(request) ?? 0;
  return { from, pastEnd: from + request.pastEvents.length };
}

function bytesOf(events: readonly wire.HistoryEvent[]): Uint8Array[] {
  return events.map((event) => toBinary(wire.HistoryEventSchema, event));
}

async function answer(s: RawSidecar, item: wire.WorkItem, actions: wire.OrchestratorAction[]) {
  await s.call("completeOrchestratorTask", wire.OrchestratorResponseSchema, {
    instanceId: requestOf(item).instanceId,
    completionToken: item.completionToken,
    actions,
  });
}

/**
 * Starts instance `id`, schedules 40 activities in its first episode, completes them and answers
 * the episodes that take their results with nothing new: a history of more than 80 events. Returns
 * the orchestration requests received, in order.
 */
async function runFortyActivities(s: RawSidecar, worker: FakeWorker, id: string) {
  await s.call("startInstance", wire.CreateInstanceRequestSchema, { instanceId: id, name: "N" });
  const first = await worker.next(isOrchestration(id));
  const schedule = Array.from({ length: activities }, (_, i) =>
    create(wire.OrchestratorActionSchema, {
      id: i + 1,
      orchestratorActionType: { case: "scheduleTask", value: { name: "A", input: `${i}` } },
    }),
  );
  await answer(s, first, schedule);
  const received = [requestOf(first)];
  for (let i = 0; i < activities; i++) {
    const activity = await worker.next(isActivity(id));
    if (activity.request.case !== "activityRequest") throw new Error("not an activity");
    await s.call("completeActivityTask", wire.ActivityResponseSchema, {
      instanceId: id,
      taskId: activity.request.value.taskId,
      result: `"${i}"`,
      completionToken: activity.completionToken,
    });
  }
  let results = 0;
  while (results < activities) {
    const item = await worker.next(isOrchestration(id));
    const request = requestOf(item);
    received.push(request);
    results += request.newEvents.filter((e) => e.eventType.case === "taskCompleted").length;
    await answer(s, item, []);
  }
  return received;
}

/** Raises an event to `id` and returns the episode it makes, with the history committed before it. */
async function nextEpisode(s: RawSidecar, worker: FakeWorker, id: string) {
  await s.call("raiseEvent", wire.RaiseEventRequestSchema, { instanceId: id, name: "Go" });
  const item = await worker.next(isOrchestration(id));
  const history = await s.backend.getOrchestrationHistory(id);
  return { item, request: requestOf(item), history };
}

it("a stream that keeps histories is sent a long history's next episodes from the last event it was sent", async () => {
  sidecar = await startRawSidecar();
  const worker = sidecar.connectWorker({}, keepsHistories);
  const received = await runFortyActivities(sidecar, worker, "i");
  const { request, history } = await nextEpisode(sidecar, worker, "i");
  received.push(request);

  // Each episode starts where the one before it ended, less one event (which the worker
  // compares with its own copy); short histories are sent whole.
  let tails = 0;
  for (const [n, current] of received.entries()) {
    const previous = received[n - 1];
    const { from } = positions(current);
    if (tailFromOf(current) === undefined) continue;
    tails++;
    expect(previous).toBeDefined();
    expect(positions(previous as wire.OrchestratorRequest).pastEnd).toBeGreaterThanOrEqual(32);
    expect(from).toBe(positions(previous as wire.OrchestratorRequest).pastEnd - 1);
  }
  expect(tails).toBeGreaterThanOrEqual(1);
  const from = tailFromOf(request);
  expect(from).toBeDefined();
  // The 40 results were taken in the episodes before: the tail holds them.
  expect(request.pastEvents.length).toBeLessThan(history.length);
  expect(bytesOf(request.pastEvents)).toEqual(bytesOf(history.slice(from)));
  expect(request.newEvents.map((e) => e.eventType.case)).toContain("eventRaised");
});

it("streams that do not ask for tails (the official SDKs) get every history whole", async () => {
  sidecar = await startRawSidecar();
  const worker = sidecar.connectWorker();
  const received = await runFortyActivities(sidecar, worker, "i");
  const { request, history } = await nextEpisode(sidecar, worker, "i");
  for (const current of [...received, request]) {
    expect(current.properties).toEqual({});
  }
  expect(bytesOf(request.pastEvents)).toEqual(bytesOf(history));
});

it("a worker that does not hold the history asks for it and gets the episode again whole, under a new token", async () => {
  sidecar = await startRawSidecar();
  const worker = sidecar.connectWorker({}, keepsHistories);
  await runFortyActivities(sidecar, worker, "i");
  const { item: tail, request, history } = await nextEpisode(sidecar, worker, "i");
  expect(tailFromOf(request)).toBeDefined();

  await sidecar.call("completeOrchestratorTask", wire.OrchestratorResponseSchema, {
    instanceId: "i",
    completionToken: tail.completionToken,
    requiresHistory: true,
  });
  const whole = await worker.next(isOrchestration("i"));
  expect(whole.completionToken).not.toBe(tail.completionToken);
  expect(requestOf(whole).properties).toEqual({});
  expect(bytesOf(requestOf(whole).pastEvents)).toEqual(bytesOf(history));
  expect(bytesOf(requestOf(whole).newEvents)).toEqual(bytesOf(request.newEvents));

  // The old token is spent; the new one completes the episode.
  await expect(
    sidecar.call(
      "completeOrchestratorTask",
      wire.OrchestratorResponseSchema,
      completion("i", wire.OrchestrationStatus.COMPLETED, '"late"', tail.completionToken),
    ),
  ).rejects.toMatchObject({ code: 5 });
  await sidecar.call(
    "completeOrchestratorTask",
    wire.OrchestratorResponseSchema,
    completion("i", wire.OrchestrationStatus.COMPLETED, '"done"', whole.completionToken),
  );
  const done = await sidecar.call<typeof wire.GetInstanceRequestSchema, wire.GetInstanceResponse>(
    "waitForInstanceCompletion",
    wire.GetInstanceRequestSchema,
    { instanceId: "i", getInputsAndOutputs: true },
  );
  expect(done.orchestrationState?.output).toBe('"done"');
});

it("the stream that asked for a history is sent tails again after it got it whole", async () => {
  sidecar = await startRawSidecar();
  const worker = sidecar.connectWorker({}, keepsHistories);
  await runFortyActivities(sidecar, worker, "i");
  const { item: tail } = await nextEpisode(sidecar, worker, "i");
  await sidecar.call("completeOrchestratorTask", wire.OrchestratorResponseSchema, {
    instanceId: "i",
    completionToken: tail.completionToken,
    requiresHistory: true,
  });
  const whole = await worker.next(isOrchestration("i"));
  await answer(sidecar, whole, []);
  const { request } = await nextEpisode(sidecar, worker, "i");
  expect(tailFromOf(request)).toBe(requestOf(whole).pastEvents.length - 1);
});

it("asking for the history of an episode sent whole fails that episode, which is run again later", async () => {
  sidecar = await startRawSidecar();
  const worker = sidecar.connectWorker({}, keepsHistories);
  await sidecar.call("startInstance", wire.CreateInstanceRequestSchema, {
    instanceId: "i",
    name: "N",
  });
  const first = await worker.next(isOrchestration("i"));
  await sidecar.call("completeOrchestratorTask", wire.OrchestratorResponseSchema, {
    instanceId: "i",
    completionToken: first.completionToken,
    requiresHistory: true,
  });
  const again = await worker.next(isOrchestration("i"), 15_000);
  expect(again.completionToken).not.toBe(first.completionToken);
  // The same start event (each episode has an orchestratorStarted event of its own).
  const started = (r: wire.OrchestratorRequest) =>
    r.newEvents.filter((e) => e.eventType.case === "executionStarted");
  expect(bytesOf(started(requestOf(again)))).toEqual(bytesOf(started(requestOf(first))));
  expect(started(requestOf(first))).toHaveLength(1);
  const history = await sidecar.backend.getOrchestrationHistory("i");
  expect(history).toHaveLength(0);
});
