import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it, vi } from "vitest";
import * as eternal from "../src/eternal.js";
import * as externalEvents from "../src/external-events.js";
import * as parallel from "../src/parallel.js";
import * as retries from "../src/retries.js";
import * as sequence from "../src/sequence.js";
import * as subOrchestrations from "../src/sub-orchestrations.js";

const run = promisify(execFile);
const appDir = fileURLToPath(new URL("..", import.meta.url));
const mainJs = join(appDir, "dist", "main.js");
const tmp = mkdtempSync(join(tmpdir(), "durabletask-samples-"));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Options for an in-memory run whose printed lines are collected in `lines`. */
function capture() {
  const lines: string[] = [];
  return { lines, options: { dbPath: ":memory:", print: (line: string) => lines.push(line) } };
}

describe("samples on in-memory SQLite", () => {
  it("sequence greets three cities in order and prints the metadata JSON", async () => {
    const { lines, options } = capture();
    await expect(sequence.main(options)).resolves.toEqual([
      "Hello, Tokyo!",
      "Hello, London!",
      "Hello, Seattle!",
    ]);
    const metadata = JSON.parse(lines[0] ?? "{}");
    expect(metadata).toMatchObject({ name: "HelloCities", status: "COMPLETED" });
    expect(JSON.parse(metadata.serializedOutput)).toHaveLength(3);
  });

  it("parallel updates all 10 devices", async () => {
    await expect(parallel.main(capture().options)).resolves.toBe(10);
  });

  it("external-events completes with the approver the sample raised", async () => {
    const { options } = capture();
    await expect(externalEvents.main({ ...options, approver: "Grace" })).resolves.toBe(
      "Approved by Grace",
    );
  });

  it("external-events --interactive takes the approver's name from its input", async () => {
    const input = new PassThrough();
    const { lines, options } = capture();
    const result = externalEvents.main({ ...options, interactive: true, input });
    await vi.waitFor(
      () => expect(lines.some((line) => line.startsWith("Enter your name"))).toBe(true),
      { timeout: 10_000 },
    );
    input.end("Linus\n");
    await expect(result).resolves.toBe("Approved by Linus");
  });

  it("retries succeeds on the attempt its seed dictates", async () => {
    await expect(retries.main({ ...capture().options, seed: 1 })).resolves.toBe(4);
    await expect(retries.main({ ...capture().options, seed: 5 })).resolves.toBe(2);
  });

  it("sub-orchestrations returns every child's output in region order", async () => {
    await expect(subOrchestrations.main(capture().options)).resolves.toEqual([
      "vm-americas configured",
      "vm-europe configured",
      "vm-asia configured",
    ]);
  });

  it("eternal continues as new until the last generation", async () => {
    const { lines, options } = capture();
    await expect(eternal.main({ ...options, generations: 4, intervalMs: 10 })).resolves.toBe(4);
    expect(lines.join("\n")).toContain('{"generation":4}');
  });
});

describe("samples CLI", () => {
  it("runs sequence on a database file and exits 0", async () => {
    const db = join(tmp, "cli.sqlite3");
    const { stdout } = await run(process.execPath, [mainJs, "sequence", "--db", db], {
      cwd: tmp,
      timeout: 30_000,
    });
    expect(stdout).toContain('"status": "COMPLETED"');
    expect(stdout).toContain(
      "Orchestration completed: Hello, Tokyo! Hello, London! Hello, Seattle!",
    );
  });

  it("rejects an unknown sample with exit code 2 and lists the samples", async () => {
    const failure = await run(process.execPath, [mainJs, "nope", "--db", ":memory:"], {
      cwd: tmp,
      timeout: 30_000,
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 2 });
    const { stderr } = failure as { stderr: string };
    expect(stderr).toContain("unknown sample 'nope'");
    for (const name of ["sequence", "parallel", "external-events", "retries", "eternal"]) {
      expect(stderr).toContain(name);
    }
  });
});
