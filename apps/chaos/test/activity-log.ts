import { existsSync, readFileSync } from "node:fs";

/** One activity execution, as the crash worker logged it. */
export interface LoggedExecution {
  readonly instanceId: string;
  readonly taskId: number;
  readonly value: string;
  readonly pid: number;
  /** When it started (epoch ms). */
  readonly atMs: number;
}

/** The parsed activity log, and the lines that did not parse (torn writes). */
export function readActivityLog(path: string): { executions: LoggedExecution[]; torn: string[] } {
  const executions: LoggedExecution[] = [];
  const torn: string[] = [];
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const match = /^(\S+) (\d+) (\S+) (\d+) (\d+)$/.exec(line);
    if (match === null) {
      torn.push(line);
      continue;
    }
    const [, instanceId = "", taskId = "", value = "", pid = "", atMs = ""] = match;
    executions.push({
      instanceId,
      taskId: Number(taskId),
      value,
      pid: Number(pid),
      atMs: Number(atMs),
    });
  }
  return { executions, torn };
}

/** Executions grouped by activity call (`<instanceId> <taskId>`). */
export function groupByCall(
  executions: readonly LoggedExecution[],
): Map<string, LoggedExecution[]> {
  const calls = new Map<string, LoggedExecution[]>();
  for (const e of executions) {
    const key = `${e.instanceId} ${e.taskId}`;
    calls.set(key, [...(calls.get(key) ?? []), e]);
  }
  return calls;
}
