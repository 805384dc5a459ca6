// Another process's CPU time, peak memory and listening port, from Linux's /proc.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`, nearly always 100). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    let value = Number.NaN;
    try {
      value = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    } catch {
      // no getconf: Linux's USER_HZ is 100 on every architecture Node runs on
    }
    ticksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}

/**
 * CPU time process `pid` has used so far, user + system, all its threads, in milliseconds
 * (`utime` + `stime` of `/proc/<pid>/stat`; resolution one clock tick, usually 10 ms).
 *
 * @throws Error when the process is gone or there is no /proc.
 */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) is in parentheses and may contain spaces: split after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`cannot read the CPU time of process ${pid}`);
  return (ticks * 1000) / clockTicksPerSecond();
}

/** Field `field` (a size in kB) of `/proc/<pid>/status`, in MiB. */
function statusMb(pid: number, field: "VmHWM" | "VmRSS", what: string): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
  if (match === null) throw new Error(`cannot read the ${what} of process ${pid}`);
  return Number(match[1]) / 1024;
}

/**
 * Peak resident set size of process `pid` so far, in MiB (`VmHWM` of `/proc/<pid>/status`).
 *
 * @throws Error when the process is gone or there is no /proc.
 */
export function peakRssMb(pid: number): number {
  return statusMb(pid, "VmHWM", "peak RSS");
}

/**
 * Resident set size of process `pid` now, in MiB (`VmRSS` of `/proc/<pid>/status`).
 *
 * @throws Error when the process is gone or there is no /proc.
 */
export function rssMb(pid: number): number {
  return statusMb(pid, "VmRSS", "RSS");
}

/** The native libraries (`*.node` files) process `pid` has mapped (`/proc/<pid>/maps`). */
export function nativeLibraries(pid: number): string[] {
  const paths = readFileSync(`/proc/${pid}/maps`, "utf8")
    .split("\n")
    .map((line) => line.split(/\s+/).at(-1) ?? "")
    .filter((path) => path.endsWith(".node"));
  return [...new Set(paths)];
}

/**
 * The TCP ports process `pid` listens on (sockets in LISTEN state among its open files), from
 * `/proc/<pid>/fd` and `/proc/<pid>/net/tcp{,6}`. Empty while it listens on none.
 */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1] !== undefined) inodes.add(match[1]);
    } catch {
      // the descriptor was closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
    } catch {
      continue; // no IPv6
    }
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const columns = line.trim().split(/\s+/);
      const [, local, , state] = columns;
      const inode = columns[9];
      if (state !== "0A" || inode === undefined || !inodes.has(inode)) continue;
      ports.add(Number.parseInt(local?.split(":")[1] ?? "", 16));
    }
  }
  return [...ports];
}
