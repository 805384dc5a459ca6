import { type Child, spawnChild } from "./child-processes.js";
import { type ChildMessage, messagePrefix, type ParentCommand } from "./child-protocol.js";

/** The benchmark's side of a workload child process (see child-protocol.ts). */
export interface WorkloadProcess {
  readonly child: Child;
  /**
   * The next message; rejects when it is not `event` (an `error` message's text included), or
   * when the child exits first.
   */
  next<E extends ChildMessage["event"]>(event: E): Promise<Extract<ChildMessage, { event: E }>>;
  send(command: ParentCommand): void;
}

/** Starts `node …nodeFlags <program> …args`, a workload child. */
export function startWorkloadProcess(
  program: string,
  args: readonly string[],
  nodeFlags: readonly string[] = [],
): WorkloadProcess {
  const child = spawnChild([...nodeFlags, program, ...args]);
  const queue: ChildMessage[] = [];
  let wake: (() => void) | undefined;
  let pending = "";
  child.process.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (line.startsWith(messagePrefix)) {
        queue.push(JSON.parse(line.slice(messagePrefix.length)) as ChildMessage);
      }
    }
    wake?.();
  });
  // "close", not "exit": the child's last lines may still be in the pipe when it has exited.
  let closed = false;
  child.process.once("close", () => {
    closed = true;
    wake?.();
  });
  return {
    child,
    async next(event) {
      for (;;) {
        const message = queue.shift();
        if (message !== undefined) {
          if (message.event === event)
            return message as Extract<ChildMessage, { event: typeof event }>;
          const detail = message.event === "error" ? message.error : JSON.stringify(message);
          throw new Error(`workload process: expected '${event}', got ${detail}`);
        }
        if (closed) {
          throw new Error(
            `workload process exited (${await child.exited}) before '${event}':\n${child.stderrTail()}`,
          );
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
    send(command) {
      child.process.stdin?.write(`${command}\n`);
    },
  };
}
