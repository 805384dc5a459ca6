import { describe, expect, it } from "vitest";
import { parseBenchArgs } from "./config.js";

describe("parseBenchArgs", () => {
  it("defaults to every workload and mode at full size", () => {
    expect(parseBenchArgs([])).toMatchObject({
      workloads: ["W1", "W1-seq"],
      modes: ["sqlite-normal", "sqlite-full"],
      n: 1000,
      runs: 200,
      repeat: 3,
      wait: "poll",
      warmup: true,
    });
  });

  it("uses smoke sizes that explicit flags override", () => {
    expect(parseBenchArgs(["--smoke", "--runs", "7", "--mode", "sqlite-full"])).toMatchObject({
      modes: ["sqlite-full"],
      n: 20,
      runs: 7,
      repeat: 1,
      smoke: true,
    });
  });

  it("names the bad flag", () => {
    expect(() => parseBenchArgs(["--mode", "postgres"])).toThrow(/--mode: unknown 'postgres'/);
    expect(() => parseBenchArgs(["--n", "0"])).toThrow(/--n: expected an integer ≥ 1/);
    expect(() => parseBenchArgs(["--wait", "sometimes"])).toThrow(/--wait/);
    expect(parseBenchArgs(["--help"])).toBe("help");
  });
});
