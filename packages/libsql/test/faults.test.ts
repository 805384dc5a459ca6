import { eventRaisedEvent } from "@durabletask/api";
import { createClient } from "@libsql/client";
import { describe, expect, it } from "vitest";
import { createLibsqlBackend } from "../src/index.js";
import { createInstances, lockOne, runningCommit, start, trackBackends } from "./fixtures.js";
import { hranaServers, type Transport, urlOf } from "./hrana-servers.js";
import { startLossyProxy } from "./lossy-proxy.js";

const startServer = hranaServers();
const track = trackBackends();

async function started(transport: Transport, options: { maxRetries?: number } = {}) {
  const server = await startServer();
  const backend = track(createLibsqlBackend({ url: urlOf(server, transport), ...options }));
  await backend.start();
  return { server, backend };
}

describe.each<Transport>(["http", "ws"])("libSQL server faults over %s", (transport) => {
  it("re-sends batches the server refused as busy: nothing lost, nothing applied twice", async () => {
    const { server, backend } = await started(transport);
    await backend.createOrchestrationInstance(start("busy"));
    server.failNextWithBusy(3);
    await backend.addNewOrchestrationEvent("busy", eventRaisedEvent(Date.now(), "Once"));
    const item = await lockOne(backend);
    expect(item.newEvents.map((e) => e.eventType.case)).toEqual([
      "executionStarted",
      "eventRaised",
    ]);
    server.failNextWithBusy(2);
    await backend.completeOrchestrationWorkItem(item, runningCommit(item));
    expect(await backend.getOrchestrationHistory("busy")).toHaveLength(3);
    expect(await backend.lockOrchestrationWorkItems(5)).toEqual([]);
  });

  it("reports busy beyond maxRetries as Unavailable, having applied nothing", async () => {
    const { server, backend } = await started(transport, { maxRetries: 2 });
    server.failNextWithBusy(1000);
    server.stats.reset();
    await expect(backend.createOrchestrationInstance(start("late"))).rejects.toMatchObject({
      code: "Unavailable",
      message: expect.stringContaining("after 3 attempts"),
    });
    expect(server.stats.batches).toBe(3);
    server.failNextWithBusy(0);
    expect(await backend.getOrchestrationMetadata("late")).toBeUndefined();
    await backend.createOrchestrationInstance(start("late"));
    expect((await backend.getOrchestrationMetadata("late"))?.runtimeStatus).toBe("PENDING");
  });

  it("carries on after the server expired its streams: a batch opens and closes its own", async () => {
    const { server, backend } = await started(transport);
    await backend.createOrchestrationInstance(start("a"));
    // An interactive transaction (which the driver never uses) keeps its stream across requests.
    const raw = createClient({ url: urlOf(server, transport) });
    try {
      const tx = await raw.transaction("read");
      await tx.execute("SELECT 1");
      server.expireStreams();
      await expect(tx.execute("SELECT 1")).rejects.toMatchObject({ code: "STREAM_EXPIRED" });
      tx.close();
    } finally {
      raw.close();
    }
    await backend.createOrchestrationInstance(start("b"));
    server.expireStreams();
    expect((await backend.listInstanceIds({})).instanceIds).toEqual(["a", "b"]);
  });

  it("commits within a 1 ms server transaction timeout: its batches are one request", async () => {
    const { server, backend } = await started(transport);
    server.setTransactionTimeoutMs(1);
    // An interactive write transaction that spans requests is rolled back by the server.
    const raw = createClient({ url: urlOf(server, transport) });
    try {
      const tx = await raw.transaction("write");
      await tx.execute("SELECT COUNT(*) FROM Instances");
      await new Promise((resolve) => setTimeout(resolve, 20));
      await expect(tx.commit()).rejects.toMatchObject({ code: "TRANSACTION_TIMEOUT" });
      tx.close();
    } finally {
      raw.close();
    }
    await createInstances(backend, 20, "t");
    const items = await backend.lockOrchestrationWorkItems(20);
    expect(items).toHaveLength(20);
    // Issued together: one grouped batch of 20 commits.
    await Promise.all(items.map((i) => backend.completeOrchestrationWorkItem(i, runningCommit(i))));
    const page = await backend.queryInstances({ pageSize: 100 });
    expect(page.instances.map((m) => m.runtimeStatus)).toEqual(Array(20).fill("RUNNING"));
  });

  it("reports a response over the server's size cap as PayloadTooLarge, saying what to do", async () => {
    const { server, backend } = await started(transport);
    await backend.createOrchestrationInstance(start("big"));
    const input = "x".repeat(64 * 1024);
    await backend.addNewOrchestrationEvent("big", eventRaisedEvent(Date.now(), "Big", input));
    server.setMaxResponseBytes(16 * 1024);
    await expect(backend.lockOrchestrationWorkItems(1)).rejects.toMatchObject({
      code: "PayloadTooLarge",
      message: expect.stringMatching(/size limit.*Lock fewer work items/),
    });
    server.setMaxResponseBytes(10 * 1024 * 1024);
    // The refused lock applied nothing: the instance is handed out now.
    expect((await lockOne(backend)).newEvents).toHaveLength(2);
  });
});

/** The server's URL for `transport`, pointed at `port` on 127.0.0.1. */
function viaPort(url: string, port: number): string {
  const u = new URL(url);
  u.port = String(port);
  return u.href;
}

describe.each<Transport>(["http", "ws"])("a response lost over %s", (transport) => {
  it("is not re-sent for a commit; re-sending the commit fails WorkItemLockLost", async () => {
    const server = await startServer();
    const url = urlOf(server, transport);
    const proxy = await startLossyProxy(Number(new URL(url).port));
    try {
      const backend = track(createLibsqlBackend({ url: viaPort(url, proxy.port) }));
      await backend.start();
      await backend.createOrchestrationInstance(start("lost"));
      const item = await lockOne(backend);
      const commit = runningCommit(item);
      server.stats.reset();
      const lost = proxy.loseNextResponse();
      await expect(backend.completeOrchestrationWorkItem(item, commit)).rejects.toMatchObject({
        code: "Unavailable",
        message: expect.stringContaining("may or may not have been applied"),
      });
      await lost;
      expect(server.stats.batches).toBe(1);
      // The commit did apply; the caller (the engine abandons, a client retries) repeats it.
      expect(await backend.getOrchestrationHistory("lost")).toHaveLength(2);
      await expect(backend.completeOrchestrationWorkItem(item, commit)).rejects.toMatchObject({
        code: "WorkItemLockLost",
      });
      await expect(backend.abandonOrchestrationWorkItem(item, 0)).rejects.toMatchObject({
        code: "WorkItemLockLost",
      });
      expect(await backend.getOrchestrationHistory("lost")).toHaveLength(2);
      expect((await backend.getOrchestrationMetadata("lost"))?.runtimeStatus).toBe("RUNNING");
      expect(await backend.lockOrchestrationWorkItems(5)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it("is re-sent for a read: the caller never notices", async () => {
    const server = await startServer();
    const url = urlOf(server, transport);
    const proxy = await startLossyProxy(Number(new URL(url).port));
    try {
      const backend = track(createLibsqlBackend({ url: viaPort(url, proxy.port) }));
      await backend.start();
      await backend.createOrchestrationInstance(start("read"));
      server.stats.reset();
      const lost = proxy.loseNextResponse();
      const metadata = await backend.getOrchestrationMetadata("read");
      await lost;
      expect(metadata?.runtimeStatus).toBe("PENDING");
      expect(server.stats.batches).toBe(2);
    } finally {
      await proxy.close();
    }
  });
});
