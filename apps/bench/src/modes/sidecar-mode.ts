import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProfileWindow } from "../cpu-profile.js";
import { cpuTimeMs, peakRssMb } from "../sidecar/proc-stats.js";
import { startSidecarProcess } from "../sidecar/sidecar-process.js";
import { childArgs } from "../sidecar/workload-child.js";
import { startWorkloadProcess } from "../sidecar/workload-process.js";
import type { Workload } from "../workloads/workload.js";
import type { ProcessMode, ProcessRun, ProcessRunSettings } from "./bench-mode.js";

/** Who runs the orchestrations and the client against the sidecar. */
export type SidecarWorker = "microsoft" | "grpc-worker";

/** The workload child program of each kind (built: the tests run from src/ too). */
const programs: Record<SidecarWorker, string> = {
  microsoft: "microsoft-child.js",
  "grpc-worker": "grpc-worker-child.js",
};

/** How long a workload child may take to stop its worker and client after `stop`. */
const childStopMs = 15_000;

/**
 * The sidecar (`apps/sidecar/dist/main.js`, SQLite file, `synchronous = NORMAL`) as a child
 * process, and the workload in another child process: the official `@microsoft/durabletask-js`
 * worker and client (`microsoft`), or our `createTaskHubGrpcWorker` and
 * `createTaskHubGrpcClient` (`grpc-worker`). Both processes are fresh for every run and warm up
 * before the measured part. Beside the workload's figures it reports each process's CPU time per
 * orchestration over the measured part (`/proc/<pid>/stat`) and peak RSS (`VmHWM`).
 */
export function createSidecarMode(worker: SidecarWorker): ProcessMode {
  const program = fileURLToPath(new URL(`../../dist/sidecar/${programs[worker]}`, import.meta.url));
  const name = `sidecar-${worker}`;
  return {
    kind: "process",
    name,
    async run(workload: Workload, settings: ProcessRunSettings, dir: string): Promise<ProcessRun> {
      if (!existsSync(program)) throw new Error(`${program} is missing: build apps/bench first`);
      const db = join(dir, "bench.sqlite3");
      const sidecar = await startSidecarProcess({ db, cpuProfDir: settings.sidecarCpuProfDir });
      let run: ProcessRun;
      let window: ProfileWindow & { label: string } = { startUs: 0, endUs: 0, label: "" };
      try {
        const args = childArgs({
          address: sidecar.address,
          workload: workload.name,
          settings,
          warmup: settings.warmup,
          concurrency: settings.workerConcurrency,
          sidecarPid: sidecar.pid,
        });
        const child = startWorkloadProcess(program, args);
        try {
          await child.next("ready");
          const sidecarCpuBefore = cpuTimeMs(sidecar.pid);
          const workloadCpuBefore = cpuTimeMs(child.child.pid);
          const startUs = monotonicUs();
          child.send("go");
          const measured = await child.next("measured");
          window = { startUs, endUs: monotonicUs(), label: `${name} ${workload.name}` };
          const sidecarCpuMs = cpuTimeMs(sidecar.pid) - sidecarCpuBefore;
          const workloadCpuMs = cpuTimeMs(child.child.pid) - workloadCpuBefore;
          const { completed } = await child.next("counted");
          const sidecarRssMb = peakRssMb(sidecar.pid);
          const workloadRssMb = peakRssMb(child.child.pid);
          child.send("stop");
          const code = await child.child.waitForExit(childStopMs);
          if (code !== 0) {
            throw new Error(
              `the workload process exited with ${code}:\n${child.child.stderrTail()}`,
            );
          }
          const n = measured.orchestrations;
          run = {
            figures: {
              ...measured.figures,
              sidecar_cpu_ms_per_orchestration: sidecarCpuMs / n,
              workload_cpu_ms_per_orchestration: workloadCpuMs / n,
              cpu_s_per_1000_orchestrations: (sidecarCpuMs + workloadCpuMs) / n,
              sidecar_peak_rss_mb: sidecarRssMb,
              workload_peak_rss_mb: workloadRssMb,
            },
            orchestrations: n,
            completed,
            storeFiles: [db, `${db}-wal`, `${db}-shm`],
          };
        } finally {
          await child.child.stop();
        }
      } catch (error) {
        await sidecar.stop();
        throw error;
      }
      const code = await sidecar.stop();
      if (code !== 0) {
        throw new Error(
          `the sidecar exited with ${code} on SIGTERM:\n${sidecar.child.stderrTail()}`,
        );
      }
      if (settings.sidecarCpuProfDir !== undefined) {
        writeProfileWindow(settings.sidecarCpuProfDir, sidecar.pid, window);
      }
      return run;
    },
  };
}

/** Now on the monotonic clock V8's CPU profiles use (CLOCK_MONOTONIC), in microseconds. */
function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Writes the measured part's window next to the sidecar's profile (`CPU.….<pid>.….cpuprofile` →
 * `….window.json`), for `cpu-profile-main.js`.
 */
function writeProfileWindow(dir: string, pid: number, window: ProfileWindow): void {
  const profile = readdirSync(dir).find(
    (name) => name.endsWith(".cpuprofile") && name.includes(`.${pid}.`),
  );
  if (profile === undefined)
    throw new Error(`no CPU profile of the sidecar (pid ${pid}) in ${dir}`);
  const path = join(dir, profile.replace(/\.cpuprofile$/, ".window.json"));
  writeFileSync(path, `${JSON.stringify(window)}\n`);
}
