import { describe, expect, it } from "vitest";
import { backoffDelayMs, sleep } from "../../src/client/backoff.js";

describe("backoffDelayMs", () => {
  const options = { initialDelayMs: 500, maxDelayMs: 15_000 };

  it("doubles from the initial delay up to the maximum", () => {
    const middle = () => 0.5;
    expect([0, 1, 2, 3, 4, 5, 6, 40].map((a) => backoffDelayMs(a, options, middle))).toEqual([
      500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000,
    ]);
  });

  it("jitters by ±20 % and never exceeds the maximum", () => {
    expect(backoffDelayMs(0, options, () => 0)).toBe(400);
    expect(backoffDelayMs(0, options, () => 0.999_999)).toBe(600);
    expect(backoffDelayMs(10, options, () => 0.999_999)).toBe(15_000);
    expect(backoffDelayMs(10, options, () => 0)).toBe(12_000);
  });
});

describe("sleep", () => {
  it("ends early when its signal fires", async () => {
    const controller = new AbortController();
    const startedAt = Date.now();
    setTimeout(() => controller.abort(), 20);
    await sleep(5000, controller.signal);
    expect(Date.now() - startedAt).toBeLessThan(1000);
    await sleep(5000, controller.signal);
    expect(Date.now() - startedAt).toBeLessThan(1000);
  });
});
