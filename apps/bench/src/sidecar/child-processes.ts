// Every child process the benchmark starts goes through spawnChild, so that none outlives it: not
// on failure, not on Ctrl-C (main.ts), not when the process exits some other way.
import { type ChildProcess, spawn } from "node:child_process";

/** The last this many characters of a child's stderr are kept for error messages. */
const stderrKeep = 8 * 1024;

/** A child process of the benchmark. */
export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** The last few KiB the child wrote to stderr. */
  stderrTail(): string;
  /** Resolves with the exit code (or the signal's name) once the child is gone. */
  readonly exited: Promise<number | string>;
  /** Whether the child is gone. */
  hasExited(): boolean;
  /**
   * Sends `signal` (default SIGKILL) if the child still runs, waits up to `graceMs` for it to
   * exit, then kills it with SIGKILL. Resolves with the exit code or signal name once it is gone.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
  /** Waits up to `graceMs` for the child to exit by itself, then kills it like {@link stop}. */
  waitForExit(graceMs: number): Promise<number | string>;
}

const live = new Set<ChildProcess>();

/** Starts `node …args` (the Node that runs this process), stdin/stdout/stderr piped. */
export function spawnChild(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Child {
  const child = spawn(process.execPath, args, { env, stdio: ["pipe", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`could not start node ${args.join(" ")}`);
  live.add(child);
  child.stdin?.on("error", () => {}); // EPIPE once the child is gone
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-stderrKeep);
  });
  let gone = false;
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => {
      gone = true;
      live.delete(child);
      resolve(code ?? signal ?? "unknown");
    }),
  );
  const waitForExit = async (graceMs: number): Promise<number | string> => {
    if (!gone) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), graceMs);
      });
      const outcome = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (outcome === "timeout") child.kill("SIGKILL");
    }
    return exited;
  };
  return {
    process: child,
    pid: child.pid,
    stderrTail: () => stderr,
    exited,
    hasExited: () => gone,
    stop(signal: NodeJS.Signals = "SIGKILL", graceMs = 0) {
      if (!gone) child.kill(signal);
      return signal === "SIGKILL" ? exited : waitForExit(graceMs);
    },
    waitForExit,
  };
}

/** The process ids of the children still running. */
export function runningChildPids(): number[] {
  return [...live].flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
}

/** Kills every child still running with SIGKILL, without waiting (for signal and exit handlers). */
export function killChildrenSync(): void {
  for (const child of live) child.kill("SIGKILL");
}

process.once("exit", killChildrenSync);
