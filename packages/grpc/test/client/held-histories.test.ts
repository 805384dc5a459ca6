import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import * as wire from "@durabletask/api/proto";
import { expect, it } from "vitest";
import { HeldHistories } from "../../src/client/held-histories.js";

/** A history of `length` events (timer events whose fire time is their position). */
function history(length: number, offsetMs = 0): wire.HistoryEvent[] {
  return Array.from({ length }, (_, i) =>
    create(wire.HistoryEventSchema, {
      eventId: i,
      eventType: { case: "timerCreated", value: { fireAt: timestampFromMs(offsetMs + i) } },
    }),
  );
}

function request(instanceId: string, pastEvents: wire.HistoryEvent[], executionId = "e1") {
  return create(wire.OrchestratorRequestSchema, { instanceId, executionId, pastEvents });
}

const running = create(wire.OrchestratorResponseSchema, {});
const ended = create(wire.OrchestratorResponseSchema, {
  actions: [
    {
      id: 1,
      orchestratorActionType: {
        case: "completeOrchestration",
        value: { orchestrationStatus: wire.OrchestrationStatus.COMPLETED },
      },
    },
  ],
});

it("a tail that starts on the last held event is expanded to the whole history", () => {
  const held = new HeldHistories(1000);
  const whole = history(50);
  held.remember(request("i", whole.slice(0, 40)), running);
  const expanded = held.expand(request("i", whole.slice(39)), 39);
  expect(expanded?.pastEvents).toEqual(whole);
  expect(expanded?.instanceId).toBe("i");
  // Taken: the instance is held again only once remembered again.
  expect(held.events).toBe(0);
  expect(held.expand(request("i", whole.slice(39)), 39)).toBeUndefined();
});

it("a tail of another execution, or whose first event differs from the held one, is not expanded", () => {
  const held = new HeldHistories(1000);
  const whole = history(50);
  held.remember(request("i", whole.slice(0, 40)), running);
  expect(held.expand(request("i", whole.slice(39), "e2"), 39)).toBeUndefined();

  held.remember(request("i", whole.slice(0, 40)), running);
  expect(held.expand(request("i", history(11, 1000)), 39)).toBeUndefined();

  held.remember(request("i", whole.slice(0, 40)), running);
  expect(held.expand(request("i", whole.slice(40)), 40)).toBeUndefined();
  expect(held.expand(request("other", whole.slice(39)), 39)).toBeUndefined();
});

it("short histories and those of ended executions are not held", () => {
  const held = new HeldHistories(1000);
  held.remember(request("short", history(31)), running);
  held.remember(request("ended", history(40)), ended);
  expect(held.events).toBe(0);
  expect(held.expand(request("short", history(31).slice(30)), 30)).toBeUndefined();
  expect(held.expand(request("ended", history(40).slice(39)), 39)).toBeUndefined();
});

it("holds at most maxEvents events, dropping the least recently used instances first", () => {
  const held = new HeldHistories(100);
  held.remember(request("a", history(40)), running);
  held.remember(request("b", history(40)), running);
  expect(held.events).toBe(80);
  held.remember(request("c", history(40)), running);
  expect(held.events).toBe(80);
  expect(held.expand(request("a", history(40).slice(39)), 39)).toBeUndefined();
  expect(held.expand(request("b", history(40).slice(39)), 39)?.pastEvents).toHaveLength(40);
  // Longer than the whole budget: not held at all.
  held.remember(request("d", history(101)), running);
  expect(held.expand(request("d", history(101).slice(100)), 100)).toBeUndefined();
});
