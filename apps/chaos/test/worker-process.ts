import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** A compiled program of this app; `pnpm build` (or the workspace build) makes it. */
export function distProgram(name: string): string {
  return fileURLToPath(new URL(`../dist/${name}.js`, import.meta.url));
}

/** The compiled crash worker. */
export const crashWorkerJs = distProgram("crash-worker");

/** A running child process of the chaos tests. */
export interface WorkerProcess {
  readonly pid: number;
  /** The `ready …` line the process printed once it ran. */
  readonly readyLine: string;
  /** SIGKILL, then wait for the process to be gone. Safe to call when it already exited. */
  kill(): Promise<void>;
  /** SIGTERM (drain, then exit) and wait; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** Everything the process wrote to stdout so far. */
  stdout(): string;
  /** Everything the process wrote to stderr so far (warnings, errors). */
  stderr(): string;
}

const running = new Set<ChildProcess>();
// A crashed or interrupted test run must not leave children behind.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Starts the crash worker with `args` and waits until it prints `ready`. */
export function startWorker(args: readonly string[], timeoutMs = 15_000): Promise<WorkerProcess> {
  return startProgram(crashWorkerJs, args, timeoutMs);
}

/** Starts `program` (a script for this Node) with `args` and waits until it prints `ready`. */
export async function startProgram(
  program: string,
  args: readonly string[],
  timeoutMs = 15_000,
): Promise<WorkerProcess> {
  if (!existsSync(program)) {
    throw new Error(`${program} is missing: build apps/chaos first (pnpm build)`);
  }
  const child = spawn(process.execPath, [program, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  let readyLine: string;
  try {
    readyLine = await waitForReady(child, exited, timeoutMs);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${program} did not start: ${(error as Error).message}\n${stderr}`);
  }
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    return exited;
  };
  return {
    pid: child.pid ?? -1,
    readyLine,
    kill: async () => {
      await signal("SIGKILL");
    },
    stop: () => signal("SIGTERM"),
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

/** Waits until `child` printed `text` on stdout; throws after `timeoutMs`. */
export async function waitForOutput(
  child: WorkerProcess,
  text: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!child.stdout().includes(text)) {
    if (Date.now() > deadline) {
      throw new Error(`no '${text}' within ${timeoutMs} ms\n${child.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function waitForReady(
  child: ChildProcess,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no 'ready' within ${timeoutMs} ms`)),
      timeoutMs,
    );
    let stdout = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const line = /^ready.*$/m.exec(stdout);
      if (line !== null && stdout.includes("\n", line.index)) {
        clearTimeout(timer);
        resolve(line[0]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with code ${code} before it was ready`));
    });
  });
}
