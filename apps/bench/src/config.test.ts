import { describe, expect, it } from "vitest";
import { parseBenchArgs } from "./config.js";

describe("parseBenchArgs", () => {
  it("defaults to every workload and mode at full size", () => {
    expect(parseBenchArgs([])).toMatchObject({
      workloads: ["W1", "W1-seq"],
      modes: ["sqlite-normal", "sqlite-full", "sidecar-microsoft", "sidecar-grpc-worker"],
      n: 1000,
      runs: 200,
      repeat: 3,
      wait: "poll",
      warmup: true,
      workerConcurrency: 100,
      sidecarCpuProfDir: undefined,
    });
  });

  it("reads the sidecar modes' flags", () => {
    expect(
      parseBenchArgs([
        "--mode",
        "sidecar-grpc-worker",
        "--worker-concurrency",
        "500",
        "--sidecar-cpu-prof",
        "profiles",
      ]),
    ).toMatchObject({
      modes: ["sidecar-grpc-worker"],
      workerConcurrency: 500,
      sidecarCpuProfDir: expect.stringMatching(/\/profiles$/),
    });
    expect(() => parseBenchArgs(["--worker-concurrency", "0"])).toThrow(/--worker-concurrency/);
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
