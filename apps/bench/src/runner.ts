import { rmSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTaskRegistry } from "@durabletask/task";
import { type BenchConfig, warmUpSettingsOf, workloadSettingsOf } from "./config.js";
import { type MachineInfo, machineInfo } from "./machine-info.js";
import type { BenchMode, EmbeddedMode, Figures, ProcessMode } from "./modes/bench-mode.js";
import { benchModes } from "./modes.js";
import { startWorkloadProcess } from "./sidecar/workload-process.js";
import { type Summary, summarize } from "./stats.js";
import type { Workload, WorkloadSettings } from "./workloads/workload.js";
import { workloads } from "./workloads.js";

/** The pseudo-workload name of the raw storage figures. */
export const ceilingWorkload = "storage-ceiling";

/** One figure of one workload in one mode, over all repeats. */
export interface ResultRow extends Summary {
  readonly workload: string;
  readonly mode: string;
  readonly metric: string;
}

/** Everything a benchmark run measured, as written to the JSON report. */
export interface BenchReport {
  readonly machine: MachineInfo;
  readonly config: BenchConfig;
  readonly durationS: number;
  readonly results: readonly ResultRow[];
}

/** Figures of every repeat, keyed by `workload \u0000 mode \u0000 metric`. */
type Samples = Map<string, number[]>;

/**
 * Runs every (mode, workload) pair of `config` `repeat` times, interleaving modes and workloads
 * within each repeat so that drift (caches, heat) spreads over all of them. Each run gets a fresh
 * store in its own temporary directory, removed afterwards.
 *
 * @throws Error when a run did not complete every orchestration it started.
 */
export async function runBench(
  config: BenchConfig,
  log: (line: string) => void,
): Promise<BenchReport> {
  const startedAt = performance.now();
  const modes = config.modes.map((name) => benchModes.get(name) as BenchMode);
  const selected = config.workloads.map((name) => workloads.get(name) as Workload);
  const settings = workloadSettingsOf(config);
  // Process modes warm up inside every run (their processes are fresh each time).
  const firstEmbedded = modes.find((mode) => mode.kind === "embedded");
  if (config.warmup && firstEmbedded !== undefined && selected[0] !== undefined) {
    log(`warm-up: ${selected[0].name} on ${firstEmbedded.name}`);
    await runWorkload(config, firstEmbedded, selected[0], warmUpSettingsOf(settings));
  }
  const samples: Samples = new Map();
  for (let repeat = 1; repeat <= config.repeat; repeat++) {
    for (const mode of modes) {
      let ceiling: Figures = {};
      if (mode.kind === "embedded" && mode.measureCeiling !== undefined) {
        ceiling = await withTempDir(
          config,
          (dir) => mode.measureCeiling?.(dir, config.ceilingMs) ?? {},
        );
        record(samples, ceilingWorkload, mode.name, ceiling);
        log(`[${repeat}/${config.repeat}] ${mode.name} ${ceilingWorkload}: ${describe(ceiling)}`);
      }
      for (const workload of selected) {
        const figures = withCeilingRatio(
          await runWorkload(config, mode, workload, settings),
          ceiling,
        );
        record(samples, workload.name, mode.name, figures);
        log(`[${repeat}/${config.repeat}] ${mode.name} ${workload.name}: ${describe(figures)}`);
      }
    }
  }
  const durationS = (performance.now() - startedAt) / 1000;
  return { machine: machineInfo(), config, durationS, results: rowsOf(samples) };
}

/** One run of `workload` on a fresh store of `mode`, with the runner's own figures added. */
async function runWorkload(
  config: BenchConfig,
  mode: BenchMode,
  workload: Workload,
  settings: WorkloadSettings,
): Promise<Figures> {
  if (mode.kind === "process") return runInProcesses(config, mode, workload, settings);
  return withTempDir(config, (dir) =>
    workload.freshProcess === true
      ? runInFreshProcess({
          config,
          modeName: mode.name,
          workloadName: workload.name,
          settings,
          dir,
        })
      : runEmbedded(config, mode, workload, settings, dir),
  );
}

/** What a fresh process needs to make one embedded run (see embedded-child.ts). */
export interface EmbeddedRunRequest {
  readonly config: BenchConfig;
  readonly modeName: string;
  readonly workloadName: string;
  readonly settings: WorkloadSettings;
  /** The run's store directory, made and removed by the benchmark. */
  readonly dir: string;
}

/** Runs `request` in a new Node process (its store directory stays the caller's). */
async function runInFreshProcess(request: EmbeddedRunRequest): Promise<Figures> {
  const program = fileURLToPath(new URL("../dist/embedded-child.js", import.meta.url));
  // With this process's Node flags (`--max-semi-space-size`, …): only the heap starts afresh.
  const child = startWorkloadProcess(program, [JSON.stringify(request)], process.execArgv);
  try {
    const { figures } = await child.next("measured");
    const code = await child.child.waitForExit(5000);
    if (code !== 0) throw new Error(`embedded run process exited with ${code}`);
    return figures;
  } finally {
    await child.child.stop();
  }
}

/** One embedded run in this process: the runner's side of embedded-child.ts too. */
export async function runEmbeddedRequest(request: EmbeddedRunRequest): Promise<Figures> {
  const mode = benchModes.get(request.modeName);
  const workload = workloads.get(request.workloadName);
  if (mode?.kind !== "embedded" || workload === undefined) {
    throw new Error(`no embedded mode ${request.modeName} or workload ${request.workloadName}`);
  }
  return runEmbedded(request.config, mode, workload, request.settings, request.dir);
}

async function runEmbedded(
  config: BenchConfig,
  mode: EmbeddedMode,
  workload: Workload,
  settings: WorkloadSettings,
  dir: string,
): Promise<Figures> {
  const registry = createTaskRegistry();
  workload.register(registry);
  const engine = await mode.start(registry, dir, { libsqlLatencyMs: config.libsqlLatencyMs });
  let figures: Figures;
  let completed: number;
  try {
    await engine.beginMeasure?.();
    const cpuStart = process.cpuUsage();
    const run = await workload.run(engine.client, settings, {});
    const cpu = process.cpuUsage(cpuStart);
    const own = (await engine.endMeasure?.(run.orchestrations)) ?? {};
    completed = await workload.countCompleted(engine.client);
    if (completed !== run.orchestrations) {
      throw new Error(
        `${workload.name} on ${mode.name}: ${completed} of ${run.orchestrations} orchestrations completed correctly`,
      );
    }
    figures = {
      ...run.figures,
      cpu_s_per_1000_orchestrations: ((cpu.user + cpu.system) / 1e6) * (1000 / run.orchestrations),
      ...own,
      completed,
    };
  } finally {
    await engine.stop();
  }
  const bytes = engine.storeFiles.reduce((sum, file) => sum + fileSize(file), 0);
  return {
    ...figures,
    db_bytes_per_orchestration: bytes / completed,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
}

/** One run of `workload` in the child processes of `mode`, on a fresh store. */
async function runInProcesses(
  config: BenchConfig,
  mode: ProcessMode,
  workload: Workload,
  settings: WorkloadSettings,
): Promise<Figures> {
  return withTempDir(config, async (dir) => {
    const run = await mode.run(
      workload,
      {
        ...settings,
        warmup: config.warmup ? Math.min(50, settings.n) : 0,
        workerConcurrency: config.workerConcurrency,
        sidecarCpuProfDir: config.sidecarCpuProfDir,
      },
      dir,
    );
    if (run.completed !== run.orchestrations) {
      throw new Error(
        `${workload.name} on ${mode.name}: ${run.completed} of ${run.orchestrations} orchestrations completed correctly`,
      );
    }
    const bytes = run.storeFiles.reduce((sum, file) => sum + fileSize(file), 0);
    return {
      ...run.figures,
      completed: run.completed,
      db_bytes_per_orchestration: bytes / run.completed,
    };
  });
}

/** The temporary store directories in use, for {@link removeTempDirsSync}. */
const tempDirs = new Set<string>();

async function withTempDir<T>(
  config: BenchConfig,
  fn: (dir: string) => T | Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(config.tmpDir, "durabletask-bench-"));
  tempDirs.add(dir);
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  }
}

/** Removes the temporary store directories of runs in progress (for an interrupted benchmark). */
export function removeTempDirsSync(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0; // the WAL and shared-memory files are gone after a clean close
  }
}

const sep = "\u0000";

function record(samples: Samples, workload: string, mode: string, figures: Figures): void {
  for (const [metric, value] of Object.entries(figures)) {
    const key = [workload, mode, metric].join(sep);
    samples.set(key, [...(samples.get(key) ?? []), value]);
  }
}

/**
 * Adds `ratio_to_small_tx_ceiling_div4` after `orchestrations_per_s`: the throughput as a share
 * of what the store could commit in the same repeat. Three activities need at least four commits
 * per orchestration, so the bound is `small_tx_per_s / 4`.
 */
function withCeilingRatio(figures: Figures, ceiling: Figures): Figures {
  const throughput = figures.orchestrations_per_s;
  const smallTx = ceiling.small_tx_per_s;
  if (throughput === undefined || smallTx === undefined) return figures;
  const { orchestrations_per_s: _, ...rest } = figures;
  return {
    orchestrations_per_s: throughput,
    ratio_to_small_tx_ceiling_div4: throughput / (smallTx / 4),
    ...rest,
  };
}

function rowsOf(samples: Samples): ResultRow[] {
  return [...samples].map(([key, values]) => {
    const [workload = "", mode = "", metric = ""] = key.split(sep);
    return { workload, mode, metric, ...summarize(values) };
  });
}

function describe(figures: Figures): string {
  return Object.entries(figures)
    .map(([metric, value]) => `${metric}=${formatNumber(value)}`)
    .join(" ");
}

/** A figure rounded for people: 3 significant digits, integers above 1000. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toString();
  return Number(value.toPrecision(3)).toString();
}
