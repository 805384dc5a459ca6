import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The compiled crash worker; `pnpm build` (or the workspace build) makes it. */
export const crashWorkerJs = fileURLToPath(new URL("../dist/crash-worker.js", import.meta.url));

/** A running crash-worker child process. */
export interface WorkerProcess {
  readonly pid: number;
  /** SIGKILL, then wait for the process to be gone. Safe to call when it already exited. */
  kill(): Promise<void>;
  /** SIGTERM (drain, then exit) and wait; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** Everything the process wrote to stderr so far (warnings, errors). */
  stderr(): string;
}

/** Starts the crash worker with `args` and waits until it prints `ready`. */
export async function startWorker(
  args: readonly string[],
  timeoutMs = 15_000,
): Promise<WorkerProcess> {
  if (!existsSync(crashWorkerJs)) {
    throw new Error(`${crashWorkerJs} is missing: build apps/chaos first (pnpm build)`);
  }
  const child = spawn(process.execPath, [crashWorkerJs, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  try {
    await waitForReady(child, exited, timeoutMs);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`crash worker did not start: ${(error as Error).message}\n${stderr}`);
  }
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    return exited;
  };
  return {
    pid: child.pid ?? -1,
    kill: async () => {
      await signal("SIGKILL");
    },
    stop: () => signal("SIGTERM"),
    stderr: () => stderr,
  };
}

function waitForReady(
  child: ChildProcess,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no 'ready' within ${timeoutMs} ms`)),
      timeoutMs,
    );
    let stdout = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (stdout.includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with code ${code} before it was ready`));
    });
  });
}
