import type { OrchestrationMetadata, OrchestrationStatus } from "@durabletask/api";
import { describe, expect, it } from "vitest";
import type { Backend, BackendListener } from "../src/index.js";
import { waitForInstance } from "../src/index.js";

/** A backend whose instances stay RUNNING until `finish`; counts subscriptions and reads. */
function watchedBackend() {
  const listeners = new Set<BackendListener>();
  const finished = new Set<string>();
  const reads = new Map<string, number>();
  let subscriptions = 0;
  const backend: Partial<Backend> = {
    description: "watched",
    subscribe(listener) {
      subscriptions++;
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async getOrchestrationMetadata(instanceId) {
      reads.set(instanceId, (reads.get(instanceId) ?? 0) + 1);
      return {
        instanceId,
        runtimeStatus: finished.has(instanceId) ? "COMPLETED" : "RUNNING",
      } as unknown as OrchestrationMetadata;
    },
  };
  return {
    backend: backend as Backend,
    reads,
    listenerCount: () => listeners.size,
    subscriptions: () => subscriptions,
    change(instanceId: string, finish = false, status?: OrchestrationStatus) {
      if (finish) finished.add(instanceId);
      for (const l of [...listeners]) l.onInstanceChanged?.(instanceId, status);
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
const done = (m: OrchestrationMetadata) => m.runtimeStatus === "COMPLETED";

describe("waitForInstance", () => {
  it("wakes only the waits on the changed instance, over one subscription", async () => {
    const b = watchedBackend();
    const ids = Array.from({ length: 500 }, (_, i) => `i${i}`);
    const waits = ids.map((id) => waitForInstance(b.backend, id, done, { timeoutMs: 10_000 }));
    await settle();
    expect(b.subscriptions()).toBe(1);
    expect(b.listenerCount()).toBe(1);
    const before = new Map(b.reads);

    b.change("i7");
    await settle();
    for (const id of ids) {
      expect(b.reads.get(id), id).toBe((before.get(id) ?? 0) + (id === "i7" ? 1 : 0));
    }

    for (const id of ids) b.change(id, true);
    const results = await Promise.all(waits);
    expect(results.map((m) => m.instanceId)).toEqual(ids);
    // The last wait to end drops the subscription: nothing stays registered on the backend.
    expect(b.listenerCount()).toBe(0);
  });

  it("keeps the other waits on one instance when one of them ends", async () => {
    const b = watchedBackend();
    const aborter = new AbortController();
    const aborted = waitForInstance(b.backend, "x", done, { signal: aborter.signal });
    const kept = waitForInstance(b.backend, "x", done, { timeoutMs: 10_000 });
    await settle();
    aborter.abort();
    await expect(aborted).rejects.toMatchObject({ code: "Aborted" });
    expect(b.listenerCount()).toBe(1);

    b.change("x", true);
    await expect(kept).resolves.toMatchObject({ runtimeStatus: "COMPLETED" });
    expect(b.listenerCount()).toBe(0);
    // A new wait after that subscribes again.
    const again = waitForInstance(b.backend, "y", done, { timeoutMs: 10_000 });
    await settle();
    expect(b.listenerCount()).toBe(1);
    b.change("y", true);
    await again;
  });

  it("skips the read after a change to a status the wait cannot accept", async () => {
    const b = watchedBackend();
    const completed = (status: OrchestrationStatus) => status === "COMPLETED";
    const wait = waitForInstance(b.backend, "s", done, { timeoutMs: 10_000 }, completed);
    await settle();
    const reads = b.reads.get("s");
    b.change("s", false, "RUNNING");
    b.change("s", false, "SUSPENDED");
    await settle();
    expect(b.reads.get("s")).toBe(reads);
    // A change of unknown outcome (a purge, another backend) is read.
    b.change("s");
    await settle();
    expect(b.reads.get("s")).toBe((reads ?? 0) + 1);
    b.change("s", true, "COMPLETED");
    await expect(wait).resolves.toMatchObject({ runtimeStatus: "COMPLETED" });
  });

  it("puts off polling while this process reports progress on the instance", async () => {
    const b = watchedBackend();
    const completed = (status: OrchestrationStatus) => status === "COMPLETED";
    const wait = waitForInstance(b.backend, "p", done, { timeoutMs: 10_000 }, completed);
    await settle();
    // Without progress reports the wait polls after 50 and 150 ms.
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      b.change("p", false, "RUNNING");
    }
    expect(b.reads.get("p")).toBe(1);
    b.change("p", true, "COMPLETED");
    await wait;
  });

  it("spreads the polls of many waits", async () => {
    const b = watchedBackend();
    const ids = Array.from({ length: 1000 }, (_, i) => `w${i}`);
    const waits = ids.map((id) => waitForInstance(b.backend, id, done, { timeoutMs: 10_000 }));
    await new Promise((resolve) => setTimeout(resolve, 150));
    // With a 50 ms first pause every wait would have read twice or three times by now.
    const reads = ids.map((id) => b.reads.get(id) ?? 0);
    expect(Math.max(...reads)).toBe(1);
    for (const id of ids) b.change(id, true);
    await Promise.all(waits);
  });
});
