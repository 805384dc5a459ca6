import { describe, expect, it } from "vitest";
import { parseBenchArgs } from "./config.js";

describe("parseBenchArgs", () => {
  it("defaults to every workload and mode at full size", () => {
    expect(parseBenchArgs([])).toMatchObject({
      workloads: ["W1", "W1-seq"],
      modes: [
        "sqlite-normal",
        "sqlite-full",
        "sidecar-microsoft",
        "sidecar-grpc-worker",
        "libsql-file",
        "libsql-remote",
      ],
      n: 1000,
      runs: 200,
      repeat: 3,
      wait: "poll",
      warmup: true,
      workerConcurrency: 100,
      sidecarCpuProfDir: undefined,
      libsqlLatencyMs: 0,
    });
  });

  it("selects W2–W5 explicitly or with all, at full or smoke sizes", () => {
    expect(parseBenchArgs(["--workload", "W2,W5"])).toMatchObject({
      workloads: ["W2", "W5"],
      fanOut: 100,
      fanOutRuns: 20,
      fanOutLarge: 10_000,
      timers: 1000,
      timerMs: 1000,
    });
    expect(parseBenchArgs(["--workload", "all", "--waiting", "500"])).toMatchObject({
      workloads: ["W1", "W1-seq", "W2", "W3", "W4", "W5"],
      sequence: 10_000,
      waiting: 500,
    });
    expect(parseBenchArgs(["--smoke"])).toMatchObject({
      fanOutRuns: 3,
      fanOutLarge: 300,
      sequence: 60,
      waiting: 50,
      timers: 20,
    });
    expect(() => parseBenchArgs(["--sequence", "0"])).toThrow(/--sequence/);
  });

  it("reads --libsql-latency-ms (0 allowed)", () => {
    expect(parseBenchArgs(["--libsql-latency-ms", "20"])).toMatchObject({ libsqlLatencyMs: 20 });
    expect(parseBenchArgs(["--libsql-latency-ms=0"])).toMatchObject({ libsqlLatencyMs: 0 });
    for (const bad of ["-1", "1.5", "x", "", "60001"]) {
      expect(() => parseBenchArgs([`--libsql-latency-ms=${bad}`])).toThrow(
        /--libsql-latency-ms: expected an integer from 0 to 60000/,
      );
    }
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
