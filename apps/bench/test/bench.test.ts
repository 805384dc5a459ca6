import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBenchCli } from "../src/cli.js";
import type { BenchReport, ResultRow } from "../src/runner.js";
import { runningChildPids } from "../src/sidecar/child-processes.js";

const tmp = mkdtempSync(join(tmpdir(), "durabletask-bench-test-"));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The live processes whose parent is `pid` (zombies excluded), as `pid command`. */
function childrenOf(pid: number): string[] {
  const children: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === pid && state !== "Z") {
        const command = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
        children.push(`${entry} ${command}`);
      }
    } catch {
      // the process ended meanwhile
    }
  }
  return children;
}

function figure(report: BenchReport, workload: string, mode: string, metric: string): ResultRow {
  const row = report.results.find(
    (r) => r.workload === workload && r.mode === mode && r.metric === metric,
  );
  if (row === undefined) throw new Error(`no ${workload}/${mode}/${metric} in the report`);
  return row;
}

describe("bench --smoke", () => {
  it("measures W1 and W1-seq in every mode and completes every orchestration", async () => {
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
    for (const mode of ["sidecar-microsoft", "sidecar-grpc-worker"]) {
      expect(figure(report, "W1", mode, "completed").median).toBe(20);
      expect(figure(report, "W1-seq", mode, "completed").median).toBe(5);
      for (const workload of ["W1", "W1-seq"]) {
        for (const metric of [
          "sidecar_cpu_ms_per_orchestration",
          "workload_cpu_ms_per_orchestration",
          "cpu_s_per_1000_orchestrations",
          "sidecar_peak_rss_mb",
          "workload_peak_rss_mb",
          "db_bytes_per_orchestration",
        ]) {
          expect(
            figure(report, workload, mode, metric).median,
            `${workload} ${mode} ${metric}`,
          ).toBeGreaterThan(0);
        }
      }
      expect(figure(report, "W1", mode, "orchestrations_per_s").median).toBeGreaterThan(0);
      const p50 = figure(report, "W1-seq", mode, "latency_p50_ms").median;
      expect(p50).toBeGreaterThan(0);
      expect(figure(report, "W1-seq", mode, "latency_p99_ms").median).toBeGreaterThanOrEqual(p50);
      // The sidecar and the workload process are both Node processes with a heap of their own.
      expect(figure(report, "W1", mode, "sidecar_peak_rss_mb").median).toBeGreaterThan(30);
    }
    for (const mode of ["libsql-file", "libsql-remote"]) {
      expect(figure(report, "W1", mode, "completed").median).toBe(20);
      expect(figure(report, "W1-seq", mode, "completed").median).toBe(5);
      expect(figure(report, "W1", mode, "orchestrations_per_s").median).toBeGreaterThan(0);
      expect(figure(report, "W1", mode, "cpu_s_per_1000_orchestrations").median).toBeGreaterThan(0);
      expect(figure(report, "W1", mode, "db_bytes_per_orchestration").median).toBeGreaterThan(0);
      const p50 = figure(report, "W1-seq", mode, "latency_p50_ms").median;
      expect(figure(report, "W1-seq", mode, "latency_p99_ms").median).toBeGreaterThanOrEqual(p50);
    }
    for (const workload of ["W1", "W1-seq"]) {
      // Concurrent commits may share a round trip (W1), but every commit runs statements:
      // the creation, 3 activities' results, 4 episodes.
      expect(
        figure(report, workload, "libsql-remote", "round_trips_per_orchestration").median,
      ).toBeGreaterThan(0);
      expect(
        figure(report, workload, "libsql-remote", "statements_per_orchestration").median,
      ).toBeGreaterThanOrEqual(8);
      // /proc counts CPU in 10 ms ticks: the 5 W1-seq orchestrations may show none.
      expect(
        figure(report, workload, "libsql-remote", "server_cpu_ms_per_orchestration").median,
      ).toBeGreaterThanOrEqual(workload === "W1" ? 0.001 : 0);
    }
    expect(report.config.libsqlLatencyMs).toBe(0);
    // Every run's temporary store was removed, and no child process is left.
    expect(existsSync(stores) && readdirSync(stores)).toEqual([]);
    expect(runningChildPids()).toEqual([]);
    expect(childrenOf(process.pid)).toEqual([]);
  }, 180_000);

  it("fails a sidecar run cleanly: the error, no child process left, no store left", async () => {
    const stores = join(tmp, "failing");
    mkdirSync(stores);
    // The workload child cannot start: its worker concurrency is above what the sidecar takes.
    const code = await runBenchCli([
      "--smoke",
      "--mode",
      "sidecar-grpc-worker",
      "--workload",
      "W1",
      "--worker-concurrency",
      String(2 ** 31),
      "--json",
      join(tmp, "failing.json"),
      "--tmp",
      stores,
    ]);
    expect(code).toBe(1);
    expect(readdirSync(stores)).toEqual([]);
    expect(runningChildPids()).toEqual([]);
    expect(childrenOf(process.pid)).toEqual([]);
  }, 60_000);

  it("measures W2–W5 in the embedded modes at smoke size", async () => {
    const jsonPath = join(tmp, "smoke-w2-w5.json");
    const stores = join(tmp, "stores-w2-w5");
    mkdirSync(stores);
    const code = await runBenchCli([
      ...["--smoke", "--workload", "W2,W3,W4,W5", "--mode", "sqlite-normal,libsql-file"],
      ...["--timer-ms", "300", "--json", jsonPath, "--tmp", stores],
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(jsonPath, "utf8")) as BenchReport;
    expect(report.config).toMatchObject({ fanOut: 100, fanOutLarge: 300, sequence: 60 });
    for (const mode of ["sqlite-normal", "libsql-file"]) {
      // W2: 3 small fan-outs and the large one.
      expect(figure(report, "W2", mode, "completed").median).toBe(4);
      const small = figure(report, "W2", mode, "fanout_small_latency_p50_ms").median;
      expect(small).toBeGreaterThan(0);
      expect(figure(report, "W2", mode, "fanout_large_total_ms").median).toBeGreaterThan(0);
      expect(
        figure(report, "W2", mode, "large_to_small_per_activity_ratio").median,
      ).toBeGreaterThan(0);
      expect(figure(report, "W2", mode, "fanout_small_episodes").median).toBeGreaterThanOrEqual(2);
      expect(figure(report, "W3", mode, "completed").median).toBe(1);
      expect(figure(report, "W3", mode, "first_round_trip_ms").median).toBeGreaterThan(0);
      expect(figure(report, "W3", mode, "last_to_first_ratio").median).toBeGreaterThan(0);
      // One episode to start, one per activity result.
      expect(figure(report, "W3", mode, "episodes").median).toBe(61);
      expect(figure(report, "W4", mode, "completed").median).toBe(50);
      const rss = figure(report, "W4", mode, "rss_all_waiting_mb").median;
      expect(rss).toBeGreaterThan(10);
      // The breakdown splits that RSS: V8's resident heap (young generation included) + the rest.
      const v8 = figure(report, "W4", mode, "v8_heap_resident_mb").median;
      const young = figure(report, "W4", mode, "v8_young_generation_mb").median;
      const outside = figure(report, "W4", mode, "outside_v8_heap_mb").median;
      expect(young).toBeGreaterThan(0);
      expect(young).toBeLessThan(v8);
      expect(outside).toBeGreaterThan(0);
      expect(v8 + outside).toBeCloseTo(rss, 6);
      // The forced collection leaves only what is live, less than the heap V8 holds.
      const live = figure(report, "W4", mode, "heap_live_after_gc_mb").median;
      expect(live).toBeGreaterThan(1);
      expect(live).toBeLessThan(v8);
      expect(figure(report, "W4", mode, "completions_per_s").median).toBeGreaterThan(0);
      expect(figure(report, "W5", mode, "completed").median).toBe(20);
      // A timer never fires early; its run lasts at least the timer.
      expect(figure(report, "W5", mode, "lateness_min_ms").median).toBeGreaterThanOrEqual(0);
      const p50 = figure(report, "W5", mode, "lateness_p50_ms").median;
      expect(figure(report, "W5", mode, "lateness_p99_ms").median).toBeGreaterThanOrEqual(p50);
      expect(figure(report, "W5", mode, "total_s").median).toBeGreaterThanOrEqual(0.3);
    }
    expect(existsSync(stores) && readdirSync(stores)).toEqual([]);
  }, 120_000);

  it("measures W2–W5 through the sidecar, with the official SDK's worker and with ours", async () => {
    const jsonPath = join(tmp, "smoke-sidecar-w2-w5.json");
    const stores = join(tmp, "stores-sidecar-w2-w5");
    mkdirSync(stores);
    const code = await runBenchCli([
      ...[
        "--smoke",
        "--workload",
        "W2,W3,W4,W5",
        "--mode",
        "sidecar-microsoft,sidecar-grpc-worker",
      ],
      ...["--timer-ms", "300", "--json", jsonPath, "--tmp", stores],
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(jsonPath, "utf8")) as BenchReport;
    for (const mode of ["sidecar-microsoft", "sidecar-grpc-worker"]) {
      const at = (workload: string, metric: string) =>
        figure(report, workload, mode, metric).median;
      // Every orchestration completed with the output the workload's own orchestrator gives.
      expect(at("W2", "completed")).toBe(4);
      expect(at("W3", "completed")).toBe(1);
      expect(at("W4", "completed")).toBe(50);
      expect(at("W5", "completed")).toBe(20);
      // Histories read through the client: the fan-out joins in few episodes; the sequence
      // runs one to start and one per activity result.
      expect(at("W2", "fanout_small_episodes")).toBeGreaterThanOrEqual(2);
      expect(at("W3", "episodes")).toBe(61);
      // W4 reads the sidecar's memory (the engine's process) from /proc, not the workload
      // process's: none of the V8 figures only this process could read.
      for (const metric of ["heap_used_all_waiting_mb", "heap_live_after_gc_mb"]) {
        expect(
          report.results.some((r) => r.workload === "W4" && r.mode === mode && r.metric === metric),
          `${mode} ${metric}`,
        ).toBe(false);
      }
      const rss = at("W4", "rss_all_waiting_mb");
      expect(rss).toBeGreaterThan(30);
      expect(at("W4", "peak_rss_until_all_waiting_mb")).toBeGreaterThanOrEqual(rss);
      expect(at("W4", "peak_rss_until_all_waiting_mb")).toBeLessThanOrEqual(
        at("W4", "sidecar_peak_rss_mb"),
      );
      expect(at("W4", "workload_rss_all_waiting_mb")).toBeGreaterThan(30);
      expect(at("W4", "completions_per_s")).toBeGreaterThan(0);
      expect(at("W5", "lateness_min_ms")).toBeGreaterThanOrEqual(0);
      expect(at("W5", "total_s")).toBeGreaterThanOrEqual(0.3);
    }
    expect(existsSync(stores) && readdirSync(stores)).toEqual([]);
    expect(runningChildPids()).toEqual([]);
    expect(childrenOf(process.pid)).toEqual([]);
  }, 120_000);

  it("rejects unknown workloads with exit code 2", async () => {
    await expect(runBenchCli(["--workload", "W9"])).resolves.toBe(2);
  });
});
