import type { Backend, OrchestrationWorkItem } from "@durabletask/backend";
import { sleep } from "@durabletask/testing";
import { describe, expect, it } from "vitest";
import { createLibsqlBackend } from "../src/index.js";
import { createInstances, runningCommit, trackBackends } from "./fixtures.js";
import { hranaServers, type Transport, urlOf } from "./hrana-servers.js";

const startServer = hranaServers();
const track = trackBackends();

interface Race {
  readonly locked: string[];
  readonly committed: string[];
  readonly lost: string[];
}

/**
 * Locks and commits until no work is left (bounded, so a broken lease ends the race), taking up
 * to `maxThinkMs` (random) before each commit.
 */
async function race(backend: Backend, batchSize: number, maxThinkMs = 0): Promise<Race> {
  const result: Race = { locked: [], committed: [], lost: [] };
  const commit = async (item: OrchestrationWorkItem) => {
    if (maxThinkMs > 0) await sleep(Math.random() * maxThinkMs);
    try {
      await backend.completeOrchestrationWorkItem(item, runningCommit(item));
      result.committed.push(item.instanceId);
    } catch (err) {
      if ((err as { code?: string }).code !== "WorkItemLockLost") throw err;
      result.lost.push(item.instanceId);
    }
  };
  while (result.locked.length < 600) {
    const items = await backend.lockOrchestrationWorkItems(batchSize);
    if (items.length === 0) break;
    result.locked.push(...items.map((i) => i.instanceId));
    await Promise.all(items.map(commit));
  }
  return result;
}

describe("backends sharing one libSQL server database", () => {
  it("never lock an instance twice nor commit an episode twice while racing", async () => {
    const server = await startServer();
    const sidecars = (["http", "ws", "http"] as Transport[]).map((transport, i) =>
      track(createLibsqlBackend({ url: urlOf(server, transport), workerName: `sidecar-${i}` })),
    );
    for (const backend of sidecars) await backend.start();
    const [first] = sidecars;
    if (first === undefined) throw new Error("no backend");
    const ids = await createInstances(first, 200);
    // Some of the racing batches are refused as busy and re-sent.
    server.failNextWithBusy(10);
    const results = await Promise.all(sidecars.map((b, i) => race(b, 2 + i)));
    for (const r of results) expect(r.locked.length).toBeGreaterThan(0);
    expect(results.flatMap((r) => r.locked).sort()).toEqual(ids);
    expect(results.flatMap((r) => r.committed).sort()).toEqual(ids);
    expect(results.flatMap((r) => r.lost)).toEqual([]);
    for (const id of ids) {
      expect(await first.getOrchestrationHistory(id), id).toHaveLength(2);
    }
  });

  it("commit each episode once when leases expire mid-race and others take over", async () => {
    const server = await startServer();
    const sidecars = (["http", "ws"] as Transport[]).map((transport, i) =>
      track(
        createLibsqlBackend({
          url: urlOf(server, transport),
          workerName: `sidecar-${i}`,
          orchestrationLockTimeoutMs: 40,
        }),
      ),
    );
    for (const backend of sidecars) await backend.start();
    const [first] = sidecars;
    if (first === undefined) throw new Error("no backend");
    const ids = await createInstances(first, 200);
    // Some commits come after their lease expired: the other sidecar may have taken over.
    const results = await Promise.all(sidecars.map((b, i) => race(b, 3 + i, 60)));
    const locked = results.flatMap((r) => r.locked);
    const committed = results.flatMap((r) => r.committed);
    const lost = results.flatMap((r) => r.lost);
    console.log(`locked ${locked.length}, committed ${committed.length}, lost ${lost.length}`);
    expect(committed.sort()).toEqual(ids);
    expect(locked.length).toBe(committed.length + lost.length);
    for (const id of ids) {
      expect(await first.getOrchestrationHistory(id), id).toHaveLength(2);
    }
  });
});
