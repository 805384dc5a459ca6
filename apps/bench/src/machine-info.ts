import { availableParallelism, cpus, totalmem } from "node:os";
import { clockTicksPerSecond } from "./sidecar/proc-stats.js";

/** The machine a benchmark ran on, for the JSON report. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly availableParallelism: number;
  readonly totalMemoryMb: number;
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  /** The kernel's clock ticks per second: the resolution of the sidecar modes' CPU times. */
  readonly clockTicksPerSecond: number;
  /** When the report was made, ISO 8601. */
  readonly date: string;
}

/** Describes this machine and process. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    availableParallelism: availableParallelism(),
    totalMemoryMb: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    clockTicksPerSecond: clockTicksPerSecond(),
    date: new Date().toISOString(),
  };
}
