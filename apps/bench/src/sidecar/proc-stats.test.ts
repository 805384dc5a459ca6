import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { clockTicksPerSecond, cpuTimeMs, listeningPorts, peakRssMb, rssMb } from "./proc-stats.js";

describe("/proc readings", () => {
  it("reads this process's CPU time, which grows with work, and its peak RSS", () => {
    expect(clockTicksPerSecond()).toBeGreaterThan(0);
    const before = cpuTimeMs(process.pid);
    const until = performance.now() + 100;
    let spin = 0;
    while (performance.now() < until) spin++;
    expect(spin).toBeGreaterThan(0);
    const after = cpuTimeMs(process.pid);
    expect(after - before).toBeGreaterThanOrEqual(50);
    const { user, system } = process.cpuUsage();
    // Both count every thread since the start; /proc rounds down to clock ticks.
    expect(Math.abs(after - (user + system) / 1000)).toBeLessThan(100);
    expect(peakRssMb(process.pid)).toBeGreaterThan(10);
    expect(peakRssMb(process.pid)).toBeGreaterThanOrEqual(process.memoryUsage().rss / 2 ** 20 - 1);
  });

  it("reads a process's RSS now, which follows memory it touches, under its peak", () => {
    const before = rssMb(process.pid);
    expect(Math.abs(before - process.memoryUsage().rss / 2 ** 20)).toBeLessThan(8);
    // 64 MiB written outside the V8 heap is resident until released.
    const block = Buffer.alloc(64 * 2 ** 20, 1);
    const after = rssMb(process.pid);
    expect(after - before).toBeGreaterThan(48);
    expect(block[block.length - 1]).toBe(1);
  });

  it("finds the port a process listens on", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    expect(listeningPorts(process.pid)).toContain(address.port);
    await new Promise((resolve) => server.close(resolve));
    expect(listeningPorts(process.pid)).not.toContain(address.port);
  });

  it("throws for a process that does not exist", () => {
    expect(() => cpuTimeMs(2 ** 22 + 1)).toThrow();
    expect(() => rssMb(2 ** 22 + 1)).toThrow();
  });
});
