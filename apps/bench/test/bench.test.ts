import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBenchCli } from "../src/cli.js";
import type { BenchReport, ResultRow } from "../src/runner.js";

const tmp = mkdtempSync(join(tmpdir(), "durabletask-bench-test-"));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function figure(report: BenchReport, workload: string, mode: string, metric: string): ResultRow {
  const row = report.results.find(
    (r) => r.workload === workload && r.mode === mode && r.metric === metric,
  );
  if (row === undefined) throw new Error(`no ${workload}/${mode}/${metric} in the report`);
  return row;
}

describe("bench --smoke", () => {
  it("measures W1 and W1-seq in both SQLite modes and completes every orchestration", async () => {
    const jsonPath = join(tmp, "smoke.json");
    const stores = join(tmp, "stores");
    mkdirSync(stores);
    const code = await runBenchCli(["--smoke", "--json", jsonPath, "--tmp", stores]);
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(jsonPath, "utf8")) as BenchReport;
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.node).toBe(process.version);
    expect(report.config).toMatchObject({ n: 20, runs: 5, repeat: 1 });
    for (const mode of ["sqlite-normal", "sqlite-full"]) {
      expect(figure(report, "W1", mode, "orchestrations_per_s").median).toBeGreaterThan(0);
      expect(figure(report, "W1", mode, "ratio_to_small_tx_ceiling_div4").median).toBeGreaterThan(
        0,
      );
      expect(figure(report, "W1", mode, "cpu_s_per_1000_orchestrations").median).toBeGreaterThan(0);
      expect(figure(report, "W1", mode, "db_bytes_per_orchestration").median).toBeGreaterThan(0);
      expect(figure(report, "W1", mode, "completed").median).toBe(20);
      expect(figure(report, "W1-seq", mode, "completed").median).toBe(5);
      const p50 = figure(report, "W1-seq", mode, "latency_p50_ms").median;
      expect(p50).toBeGreaterThan(0);
      expect(figure(report, "W1-seq", mode, "latency_p99_ms").median).toBeGreaterThanOrEqual(p50);
      expect(figure(report, "storage-ceiling", mode, "small_tx_per_s").median).toBeGreaterThan(0);
      expect(figure(report, "storage-ceiling", mode, "batched_rows_per_s").median).toBeGreaterThan(
        0,
      );
    }
    expect(figure(report, "W1", "sqlite-normal", "peak_rss_mb").median).toBeGreaterThan(10);
    // Every run's temporary store was removed.
    expect(existsSync(stores) && readdirSync(stores)).toEqual([]);
  }, 60_000);

  it("rejects unknown workloads with exit code 2", async () => {
    await expect(runBenchCli(["--workload", "W9"])).resolves.toBe(2);
  });
});
