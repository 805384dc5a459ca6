import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import * as wire from "@durabletask/api/proto";
import { health } from "@durabletask/api/proto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  callSidecar,
  checkHealth,
  healthClient,
  killAll,
  nativeStorageLibraries,
  startCli,
} from "./cli-process.js";

const dir = mkdtempSync(join(tmpdir(), "durabletask-sidecar-cli-"));
const version = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

afterEach(killAll);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("durabletask-sidecar", () => {
  it("--help lists every flag; --version prints the version", async () => {
    const help = startCli(["--help"]);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toContain("Usage: durabletask-sidecar");
    expect(help.stdout()).toContain("DURABLETASK_LOG_FORMAT");
    expect(help.stdout()).toContain("OTEL_EXPORTER_OTLP_ENDPOINT");
    const v = startCli(["--version"]);
    expect(await v.exited).toBe(0);
    expect(v.stdout().trim()).toBe(version);
  });

  it.each([
    [["--port", "abc"], {}, "--port: must be an integer from 0 to 65535, got 'abc'"],
    [[], { DURABLETASK_LOG_LEVEL: "loud" }, "DURABLETASK_LOG_LEVEL (--log-level): must be one of"],
    [["--log-format", "xml"], {}, "--log-format: must be one of text, json"],
    [[], { OTEL_TRACES_EXPORTER: "zipkin" }, "OTEL_TRACES_EXPORTER: must be one of otlp"],
    [["--sqlite-synchronous", "OFF"], {}, "--sqlite-synchronous: must be one of NORMAL, FULL"],
    [["--bogus"], {}, "--bogus"],
    [["--backend", "libsql"], {}, "--libsql-url (or DURABLETASK_LIBSQL_URL) is required"],
    [
      ["--backend", "libsql", "--libsql-url", "file:x.db", "--db", "y.sqlite3"],
      {},
      "--db: applies to --backend sqlite only",
    ],
    [
      ["--backend", "libsql", "--sqlite-synchronous", "NORMAL"],
      { DURABLETASK_LIBSQL_URL: "file:x.db" },
      "--sqlite-synchronous: applies to --backend sqlite only",
    ],
    [["--libsql-url", "file:x.db"], {}, "--libsql-url: applies to --backend libsql only"],
    [
      ["--backend", "libsql", "--libsql-url", "file://elsewhere/x.db"],
      {},
      "--libsql-url: a file: URL must be file:relative.db",
    ],
  ])(
    "bad settings %j %j exit with code 2 and one line naming the flag",
    async (args, env, message) => {
      const cli = startCli(args, env);
      expect(await cli.exited).toBe(2);
      const lines = cli.stderr().trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(message);
      expect(lines[0]).toMatch(/^durabletask-sidecar: /);
    },
  );

  it("listens on --port 0, serves the health service, and drains on SIGTERM (exit 0)", async () => {
    const cli = startCli(["--port", "0", "--host", "127.0.0.1"]);
    const port = await cli.listening();
    expect(port).toBeGreaterThan(0);
    expect(cli.stderr()).toMatch(
      new RegExp(
        `^\\S+Z INFO durabletask sidecar listening on 127\\.0\\.0\\.1:${port} \\(sqlite::+memory:\\)`,
        "m",
      ),
    );
    expect(await checkHealth(`127.0.0.1:${port}`)).toBe(
      health.HealthCheckResponse_ServingStatus.SERVING,
    );
    // On SQLite it never loads libSQL's native library (≈ 9 MB of RSS when idle).
    expect(nativeStorageLibraries(cli.child.pid as number)).toEqual({
      betterSqlite3: true,
      libsql: false,
    });
    const stopAt = Date.now();
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(5000);
    expect(cli.stderr()).toContain("received SIGTERM");
  });

  it("environment variables configure it; flags beat them; JSON log lines parse", async () => {
    const cli = startCli(["--log-format", "json"], {
      DURABLETASK_PORT: "0",
      DURABLETASK_HOST: "127.0.0.1",
      DURABLETASK_LOG_FORMAT: "text",
      DURABLETASK_LOG_LEVEL: "debug",
    });
    const port = await cli.listening();
    cli.child.kill("SIGINT");
    expect(await cli.exited).toBe(0);
    const lines = cli
      .stderr()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const line of lines) {
      expect(Date.parse(String(line.time))).not.toBeNaN();
      expect(["debug", "info", "warn", "error"]).toContain(line.level);
      expect(typeof line.msg).toBe("string");
    }
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "info",
        msg: `durabletask sidecar listening on 127.0.0.1:${port} (sqlite::memory:)`,
        port,
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: expect.stringContaining("received SIGINT") }),
    );
  });

  it("keeps instances in the --db file across restarts", async () => {
    const db = join(dir, "restart.sqlite3");
    const first = startCli(["--port", "0", "--host", "127.0.0.1", "--db", db]);
    const port = await first.listening();
    expect(first.stderr()).toContain(db);
    await callSidecar(
      `127.0.0.1:${port}`,
      "startInstance",
      create(wire.CreateInstanceRequestSchema, {
        instanceId: "kept",
        name: "Anything",
        input: '"x"',
      }),
    );
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);

    const second = startCli(["--port", "0", "--host", "127.0.0.1"], { DURABLETASK_DB: db });
    const port2 = await second.listening();
    const response = await callSidecar<wire.GetInstanceResponse>(
      `127.0.0.1:${port2}`,
      "getInstance",
      create(wire.GetInstanceRequestSchema, { instanceId: "kept", getInputsAndOutputs: true }),
    );
    expect(response.exists).toBe(true);
    expect(response.orchestrationState).toMatchObject({ name: "Anything", input: '"x"' });
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });

  it("runs on a --db file with --sqlite-synchronous NORMAL (or its variable)", async () => {
    const db = join(dir, "normal.sqlite3");
    const cli = startCli(["--port", "0", "--host", "127.0.0.1", "--db", db], {
      DURABLETASK_SQLITE_SYNCHRONOUS: "NORMAL",
    });
    const port = await cli.listening();
    await callSidecar(
      `127.0.0.1:${port}`,
      "startInstance",
      create(wire.CreateInstanceRequestSchema, { instanceId: "normal", name: "Anything" }),
    );
    const response = await callSidecar<wire.GetInstanceResponse>(
      `127.0.0.1:${port}`,
      "getInstance",
      create(wire.GetInstanceRequestSchema, { instanceId: "normal" }),
    );
    expect(response.exists).toBe(true);
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
  });

  it("a second signal while draining exits at once with code 1", async () => {
    const cli = startCli(["--port", "0", "--host", "127.0.0.1"]);
    const port = await cli.listening();
    // An open Health.Watch call keeps the graceful shutdown waiting (up to its 5 s grace).
    const watcher = healthClient(`127.0.0.1:${port}`);
    const watch = watcher.watch(create(health.HealthCheckRequestSchema, {}));
    watch.on("error", () => {});
    await new Promise((resolve) => watch.once("data", resolve));
    cli.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const secondAt = Date.now();
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(1);
    expect(Date.now() - secondAt).toBeLessThan(1000);
    expect(cli.stderr()).toContain("again: exiting without draining");
    watcher.close();
  });

  it("a taken port: exit code 1 and the reason", async () => {
    const first = startCli(["--port", "0", "--host", "127.0.0.1"]);
    const port = await first.listening();
    const second = startCli(["--port", String(port), "--host", "127.0.0.1"]);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/failed to start.*EADDRINUSE/);
  });
});
