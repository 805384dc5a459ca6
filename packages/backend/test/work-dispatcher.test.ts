import { DurableTaskError, type Logger, silentLogger } from "@durabletask/api";
import { describe, expect, it } from "vitest";
import { WorkDispatcher, type WorkSource } from "../src/index.js";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A queue of numbered items with hooks to observe the dispatcher. */
function queueSource(processMs: number) {
  const queue: number[] = [];
  const processed: number[] = [];
  const fetchSizes: number[] = [];
  let running = 0;
  let maxRunning = 0;
  const source: WorkSource<number> = {
    async fetch(maxCount) {
      fetchSizes.push(maxCount);
      return queue.splice(0, maxCount);
    },
    async process(item) {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(processMs);
      running--;
      processed.push(item);
    },
    async abandon() {},
    describe: (item) => `item ${item}`,
  };
  return { source, queue, processed, fetchSizes, maxRunning: () => maxRunning };
}

const options = { name: "test", logger: silentLogger, maxConcurrent: 3, maxPollIntervalMs: 5000 };

describe("WorkDispatcher", () => {
  it("never runs more than maxConcurrent items and processes everything", async () => {
    const q = queueSource(20);
    q.queue.push(...Array.from({ length: 10 }, (_, i) => i));
    const d = new WorkDispatcher(q.source, options);
    d.start();
    while (q.processed.length < 10) await sleep(5);
    await d.stop();
    expect(q.maxRunning()).toBe(3);
    expect(q.processed.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Math.max(...q.fetchSizes)).toBeLessThanOrEqual(3);
  });

  it("runs work from elsewhere in a free slot only, counts it against the limit, drains it", async () => {
    const q = queueSource(40);
    let capacity = 10;
    const d = new WorkDispatcher({ ...q.source, capacity: () => capacity }, options);
    expect(d.tryRunInSlot(async () => 1)).toBeUndefined(); // not started
    d.start();
    await sleep(10); // the first fetch, which found nothing
    let release = () => {};
    const borrowed = d.tryRunInSlot(() => new Promise<string>((r) => (release = () => r("ok"))));
    expect(borrowed).toBeDefined();
    q.queue.push(1, 2, 3, 4);
    d.notify();
    await sleep(10);
    // Three slots: the borrowed one and two fetched items; none left to lend.
    expect(d.activeCount).toBe(3);
    expect(d.tryRunInSlot(async () => 2)).toBeUndefined();
    expect(q.maxRunning()).toBe(2);
    release();
    await expect(borrowed).resolves.toBe("ok");
    while (q.processed.length < 4) await sleep(5);
    capacity = 0;
    expect(d.tryRunInSlot(async () => 3)).toBeUndefined(); // the source has no capacity
    capacity = 10;
    // stop() waits for borrowed work, and lends no slot once stopping.
    let finished = false;
    const late = d.tryRunInSlot(() => sleep(30).then(() => (finished = true)));
    await d.stop();
    expect(finished).toBe(true);
    await expect(late).resolves.toBe(true);
    expect(d.tryRunInSlot(async () => 4)).toBeUndefined();
  });

  it("fetches when capacity returns only if it went without capacity", async () => {
    const q = queueSource(0);
    let capacity = 0;
    const d = new WorkDispatcher({ ...q.source, capacity: () => capacity }, options);
    d.start();
    q.queue.push(1);
    d.notify();
    await sleep(50);
    expect(q.fetchSizes).toEqual([]); // no capacity: nothing fetched
    capacity = 2;
    d.notifyCapacity();
    while (q.processed.length < 1) await sleep(1);
    const fetches = q.fetchSizes.length;
    // Capacity announced again (as every finished item does in the sidecar): nothing new to
    // look for, no fetch.
    d.notifyCapacity();
    d.notifyCapacity();
    await sleep(20);
    expect(q.fetchSizes).toHaveLength(fetches);
    await d.stop();
  });

  it("picks up notified work at once instead of waiting for the next poll", async () => {
    const q = queueSource(0);
    const d = new WorkDispatcher(q.source, options);
    d.start();
    await sleep(200); // idle long enough for the poll interval to have grown
    q.queue.push(1);
    const notifiedAt = Date.now();
    d.notify();
    while (q.processed.length < 1) await sleep(1);
    expect(Date.now() - notifiedAt).toBeLessThan(100);
    await d.stop();
  });

  it("wakes up for work that becomes visible later without polling for it", async () => {
    const q = queueSource(0);
    const d = new WorkDispatcher(q.source, { ...options, maxPollIntervalMs: 60_000 });
    d.start();
    await sleep(50);
    const visibleAt = Date.now() + 150;
    d.notify(visibleAt);
    setTimeout(() => q.queue.push(7), 140);
    while (q.processed.length < 1) await sleep(2);
    expect(Date.now()).toBeGreaterThanOrEqual(visibleAt);
    expect(Date.now() - visibleAt).toBeLessThan(100);
    await d.stop();
  });

  it("wakes up for each of several later visibility times, not only the earliest", async () => {
    const q = queueSource(0);
    const d = new WorkDispatcher(q.source, { ...options, maxPollIntervalMs: 60_000 });
    d.start();
    await sleep(800); // idle: the poll interval has grown
    const first = Date.now() + 100;
    const second = Date.now() + 600;
    d.notify(second);
    d.notify(first);
    setTimeout(() => q.queue.push(1), 90);
    setTimeout(() => q.queue.push(2), 590);
    while (q.processed.length < 2) await sleep(2);
    expect(Date.now()).toBeGreaterThanOrEqual(second);
    // Polling alone (back-off after the first item) would find it about 250 ms late.
    expect(Date.now() - second).toBeLessThan(150);
    await d.stop();
  });

  it("drains in-flight items on stop and abandons a failing one", async () => {
    const abandoned: number[] = [];
    const q = queueSource(100);
    const source: WorkSource<number> = {
      ...q.source,
      async process(item, signal) {
        if (item === 2) throw new Error("bad item");
        await q.source.process(item, signal);
      },
      async abandon(item) {
        abandoned.push(item);
      },
    };
    q.queue.push(1, 2, 3);
    const d = new WorkDispatcher(source, options);
    d.start();
    await sleep(20);
    await d.stop();
    expect(q.processed.sort()).toEqual([1, 3]);
    expect(abandoned).toEqual([2]);
    expect(d.activeCount).toBe(0);
  });

  it("aborts in-flight items when asked to and when their lease cannot be renewed", async () => {
    const aborted: string[] = [];
    const source: WorkSource<string> = {
      fetch: async () => [],
      async process(item, signal) {
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
        aborted.push(item);
      },
      async abandon() {},
      leaseExpiresAtMs: () => Date.now() + 100,
      renew: async () => {
        throw new Error("lock lost");
      },
      describe: (item) => item,
    };
    const d = new WorkDispatcher(source, options);
    let fetched = false;
    source.fetch = async () => {
      if (fetched) return [];
      fetched = true;
      return ["leased"];
    };
    d.start();
    while (aborted.length < 1) await sleep(5);
    await d.stop({ abortAfterMs: 0 });
    expect(aborted).toEqual(["leased"]);
  });

  it("gives nothing back for a lost lease and logs it once, found by renewal or by the commit", async () => {
    const lockLost = () => new DurableTaskError("WorkItemLockLost", "the lease was lost");
    const abandoned: string[] = [];
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (message) => void warnings.push(message) };
    let pending = ["renewal", "commit"];
    const source: WorkSource<string> = {
      fetch: async () => pending.splice(0),
      async process(item, signal) {
        if (item === "commit") throw lockLost();
        // The renewal finds the lease lost and aborts; the attempt then fails as aborted.
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
        throw new DurableTaskError("Aborted", "the activity call was aborted");
      },
      async abandon(item) {
        abandoned.push(item);
      },
      leaseExpiresAtMs: (item) => Date.now() + (item === "renewal" ? 100 : 60_000),
      renew: async () => {
        throw lockLost();
      },
      describe: (item) => item,
    };
    const d = new WorkDispatcher(source, { ...options, logger });
    d.start();
    while (warnings.length < 2) await sleep(5);
    await sleep(20);
    await d.stop();
    pending = [];
    expect(abandoned).toEqual([]);
    expect(warnings.sort()).toEqual([
      "test: lost the lease of commit; its result was not applied",
      "test: lost the lease of renewal; aborting it, its result will not be applied",
    ]);
  });
});
