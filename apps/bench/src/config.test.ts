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
