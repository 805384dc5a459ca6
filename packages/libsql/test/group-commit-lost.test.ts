import { eventRaisedEvent } from "@durabletask/api";
import { describe, expect, it } from "vitest";
import { createLibsqlBackend } from "../src/index.js";
import { lockOne, start, trackBackends } from "./fixtures.js";
import { hranaServers } from "./hrana-servers.js";
import { startLossyProxy } from "./lossy-proxy.js";

const startServer = hranaServers();
const track = trackBackends();

describe("a grouped write whose response is lost", () => {
  // Regression: the group committer re-ran every member of a failed group alone, assuming a
  // rollback; after a lost response the group may have committed, and an unguarded write
  // (addNewOrchestrationEvent) was applied twice: A, A, B, B. The driver now marks such errors
  // outcome-unknown and the committer rejects the whole group instead.
  it("is not applied twice", async () => {
    const server = await startServer();
    const proxy = await startLossyProxy(Number(new URL(server.httpUrl).port));
    try {
      const backend = track(createLibsqlBackend({ url: `http://127.0.0.1:${proxy.port}` }));
      await backend.start();
      await backend.createOrchestrationInstance(start("g"));
      const lost = proxy.loseNextResponse();
      server.stats.reset();
      // Issued in one turn: the SQL backend groups them into one batch.
      const outcomes = await Promise.allSettled([
        backend.addNewOrchestrationEvent("g", eventRaisedEvent(Date.now(), "A")),
        backend.addNewOrchestrationEvent("g", eventRaisedEvent(Date.now(), "B")),
      ]);
      await lost;
      expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
      const item = await lockOne(backend);
      const raised = item.newEvents.filter((e) => e.eventType.case === "eventRaised");
      expect(raised.map((e) => (e.eventType.value as { name: string }).name).sort()).toEqual([
        "A",
        "B",
      ]);
    } finally {
      await proxy.close();
    }
  });
});
