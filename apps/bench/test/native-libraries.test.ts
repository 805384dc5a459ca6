import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const tmp = mkdtempSync(join(tmpdir(), "durabletask-bench-native-"));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * In a fresh Node process: the native libraries (`*.node`) mapped after loading the benchmark's
 * runner (what a W4 run's process loads), then after running an engine in `sqlite-normal`, then
 * after one in `libsql-file`.
 */
function nativeLibrariesByStep(): Record<"runner" | "sqlite" | "libsql", string[]> {
  const modes = new URL("../dist/modes.js", import.meta.url).href;
  const runner = new URL("../dist/runner.js", import.meta.url).href;
  const procStats = new URL("../dist/sidecar/proc-stats.js", import.meta.url).href;
  const script = `
    import { mkdtempSync } from "node:fs";
    import { join } from "node:path";
    import { createTaskRegistry } from "@durabletask/task";
    const { nativeLibraries } = await import(${JSON.stringify(procStats)});
    const mapped = () => nativeLibraries(process.pid);
    const steps = {};
    await import(${JSON.stringify(runner)});
    const { benchModes } = await import(${JSON.stringify(modes)});
    steps.runner = mapped();
    for (const [step, mode] of [["sqlite", "sqlite-normal"], ["libsql", "libsql-file"]]) {
      const dir = mkdtempSync(join(${JSON.stringify(tmp)}, step));
      const engine = await benchModes.get(mode).start(createTaskRegistry(), dir, { libsqlLatencyMs: 0 });
      await engine.stop();
      steps[step] = mapped();
    }
    process.stdout.write(JSON.stringify(steps));
  `;
  const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    encoding: "utf8",
  });
  return JSON.parse(output);
}

describe("native libraries", () => {
  it("loads libSQL's only when a libSQL mode runs, so W4 on SQLite measures a SQLite process", () => {
    const steps = nativeLibrariesByStep();
    const libsql = (paths: string[]) => paths.filter((path) => /libsql/.test(path));
    const sqlite = (paths: string[]) => paths.filter((path) => /better-sqlite3/.test(path));
    expect(libsql(steps.runner)).toEqual([]);
    expect(sqlite(steps.sqlite)).toHaveLength(1);
    expect(libsql(steps.sqlite)).toEqual([]);
    expect(libsql(steps.libsql)).toHaveLength(1);
  }, 60_000);
});
